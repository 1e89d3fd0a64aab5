"""Clinical tests and training exercises as data, and the Qt-free engine that runs them.

``find("mctsib")`` gives a validated :class:`Protocol`; ``ProtocolRun(protocol, info)`` runs it
on the processed sway stream, fed block by block (``run.feed(block) -> events``);
``runner.run_on_pipeline`` does the feeding from a live pipeline's ring.

Each name is imported on first use (PEP 562): importing ``nmr_balance.protocols.anything`` runs
this file, and the geometry and the engine (which scores with the ``dsp`` kernels) pull in
NumPy, which listing and validating protocols, and every command's ``--help``, do without.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nmr_balance.protocols.events import Event
    from nmr_balance.protocols.geometry import LosProfile
    from nmr_balance.protocols.library import discover, find
    from nmr_balance.protocols.run import PlannedTrial, ProtocolRun, TrialResult
    from nmr_balance.protocols.schema import Protocol, Step, load_protocol, parse_protocol

#: Each name this package exports, and the module that defines it.
_WHERE = {
    "Event": "nmr_balance.protocols.events",
    "LosProfile": "nmr_balance.protocols.geometry",
    "PlannedTrial": "nmr_balance.protocols.run",
    "Protocol": "nmr_balance.protocols.schema",
    "ProtocolRun": "nmr_balance.protocols.run",
    "Step": "nmr_balance.protocols.schema",
    "TrialResult": "nmr_balance.protocols.run",
    "discover": "nmr_balance.protocols.library",
    "find": "nmr_balance.protocols.library",
    "load_protocol": "nmr_balance.protocols.schema",
    "parse_protocol": "nmr_balance.protocols.schema",
}

__all__ = [
    "Event",
    "LosProfile",
    "PlannedTrial",
    "Protocol",
    "ProtocolRun",
    "Step",
    "TrialResult",
    "discover",
    "find",
    "load_protocol",
    "parse_protocol",
]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
