"""The PySide6 + pyqtgraph user interface: the therapist's console, the patient's screen, replay,
progress and report views.

The UI never acquires, records or scores a task (targets are scored by the engine): it starts
the engine process (:class:`ui.engine_client.EngineClient`), maps its shared-memory rings
read-only and sends it commands. It may import :mod:`nmr_balance`, :mod:`dsp` and :mod:`recordings` (never a transport
library).
"""
