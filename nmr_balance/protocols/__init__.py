"""Clinical tests and training exercises as data, and the Qt-free engine that runs them.

``find("mctsib")`` gives a validated :class:`Protocol`; ``ProtocolRun(protocol, info)`` runs it
on the processed sway stream, fed block by block (``run.feed(block) -> events``);
``runner.run_on_pipeline`` does the feeding from a live pipeline's ring. The engine (which
scores with the ``dsp`` kernels) is imported on first use, so listing and validating protocols
stays light.
"""

from nmr_balance.protocols.events import Event
from nmr_balance.protocols.geometry import LosProfile
from nmr_balance.protocols.library import discover, find
from nmr_balance.protocols.schema import Protocol, Step, load_protocol, parse_protocol

_RUN = ("PlannedTrial", "ProtocolRun", "TrialResult")

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
    if name in _RUN:
        from nmr_balance.protocols import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
