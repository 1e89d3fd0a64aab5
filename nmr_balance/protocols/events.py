"""What a running protocol tells the UI and the recorder: one small event type.

Every event has a ``kind`` (see :data:`KINDS`), the sample time ``t_s`` it happened at (seconds of
the stream's clock, not wall time), the planned trial it belongs to and a JSON-serialisable
``data`` dict, so the recorder can store it as (time, kind, payload) and the UI can switch on
``kind``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

KINDS = (
    "step_started",  # a planned trial begins: instruction + countdown (data: instruction...)
    "trial_started",  # recording of a trial begins (data: condition, task, duration_s)
    "target_shown",  # data: target, x, y, radius
    "target_hit",  # data: target, time_to_hit_s
    "target_missed",  # data: target
    "balance_lost",  # stand / single-leg: loss of balance detected (data: reason, after_s)
    "trial_done",  # data: result (scores)
    "trial_interrupted",  # device lost, samples missing or source ended: not scored (data: reason)
    "paused",  # waiting for the device to come back
    "resumed",  # device back: the interrupted trial starts over
    "rest",  # data: rest_s
    "protocol_done",  # data: trials (how many ran); the results are the record's (ProtocolRun.block)
    "protocol_aborted",  # the source ended before the protocol finished (data: reason)
)


@dataclasses.dataclass(frozen=True)
class Event:
    """One thing that happened during a protocol run.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    t_s : float
        Sample time (s, stream clock) at which it happened.
    trial : int or None
        Number of the planned trial (0-based), None for protocol-level events.
    data : dict
        Details, JSON-serialisable.
    """

    kind: str
    t_s: float
    trial: int | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "t_s": self.t_s, "trial": self.trial, "data": self.data}
