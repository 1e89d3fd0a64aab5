"""nmr-balance: real-time balance and proprioception training engine.

Core package: stream types, the source interface, the ring buffer, the front-end stages, the
pipeline, the engine process, clinical protocols and reports (sessions and trials are stored by
:mod:`recordings`). Qt-free, and independent of drivers/recordings/ui except in the composition root
(:mod:`nmr_balance.app`).
"""

__version__ = "0.1.0"
