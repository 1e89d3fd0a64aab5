"""What the store hands out: the core record types, and a loaded trial with its samples.

Patients, sessions, trials, conditions and events are the core vocabulary
(:mod:`nmr_balance.record`), re-exported here for the store's users; this module only adds what
the store alone knows: :class:`TrialData`, a trial with all its samples.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nmr_balance.record import Condition, Patient, Session, Trial, TrialEvent, TrialStatus
from nmr_balance.stream import SampleBlock, StreamInfo

#: The name the importers and exporters use for :class:`nmr_balance.record.TrialEvent`.
Event = TrialEvent


@dataclasses.dataclass
class TrialData:
    """A trial with all its samples, as :meth:`Store.load_trial` or an importer returns it.

    Attributes
    ----------
    trial : Trial or None
        The stored description (None for a file not yet imported).
    raw_info, info : StreamInfo
        The raw sensor stream and the processed sway stream (``x``, ``y``, ``fz``).
    raw, processed : SampleBlock
        All samples of each stream, in order.
    events : list of TrialEvent
    metrics : dict
    """

    raw_info: StreamInfo
    raw: SampleBlock
    info: StreamInfo | None = None
    processed: SampleBlock | None = None
    events: list[TrialEvent] = dataclasses.field(default_factory=list)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    trial: Trial | None = None
    #: What a file said about its origin (patient code, condition, protocol...), for imports.
    header: dict[str, Any] = dataclasses.field(default_factory=dict)


__all__ = [
    "Condition",
    "Event",
    "Patient",
    "Session",
    "Trial",
    "TrialData",
    "TrialEvent",
    "TrialStatus",
]
