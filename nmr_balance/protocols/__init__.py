"""Clinical tests and training exercises as data, and the Qt-free engine that runs them.

``library.find("mctsib")`` gives a validated :class:`Protocol`; ``ProtocolRun(protocol, info)``
runs it on the processed sway stream, fed block by block (``run.feed(block) -> events``);
``runner.run_on_pipeline`` does the feeding from a live pipeline's ring.
"""

from nmr_balance.protocols.engine import PlannedTrial, ProtocolRun, TrialResult
from nmr_balance.protocols.events import Event
from nmr_balance.protocols.geometry import LosProfile
from nmr_balance.protocols.library import discover, find
from nmr_balance.protocols.schema import Protocol, Step, load_protocol, parse_protocol

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
