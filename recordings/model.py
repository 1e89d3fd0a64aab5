"""The records the store hands out: patients, sessions, trials, events, a loaded trial.

Plain frozen dataclasses, so the UI, protocols and reports can use them without touching SQL.
Times are ISO 8601 strings in UTC (``2026-11-21T14:30:05.123+00:00``); event times are seconds
from the start of their trial.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nmr_balance.errors import InvalidParameterError
from nmr_balance.stream import SampleBlock, StreamInfo

_VISION = {
    "eo": "open",
    "eyes_open": "open",
    "open": "open",
    "ec": "closed",
    "eyes_closed": "closed",
    "closed": "closed",
}
_SURFACE = {"firm": "firm", "foam": "foam"}


@dataclasses.dataclass(frozen=True)
class Condition:
    """The sensory condition of a trial.

    Attributes
    ----------
    vision : str
        ``"open"``, ``"closed"`` or ``""`` (not stated).
    surface : str
        ``"firm"``, ``"foam"`` or ``""``.
    stance : str
        Free text, e.g. ``"feet_together"``, ``"tandem"``, ``"single_leg_left"``.
    """

    vision: str = ""
    surface: str = ""
    stance: str = ""

    @classmethod
    def parse(cls, text: str | None) -> Condition:
        """Read ``"eyes_closed,foam,tandem"`` (any order; ``eo``/``ec`` also accepted)."""
        vision = surface = stance = ""
        for token in filter(None, (t.strip().lower() for t in (text or "").split(","))):
            if token in _VISION:
                vision = _VISION[token]
            elif token in _SURFACE:
                surface = _SURFACE[token]
            elif not stance:
                stance = token
            else:
                raise InvalidParameterError(
                    "condition",
                    text,
                    "eyes_open|eyes_closed, firm|foam and one stance, "
                    "comma-separated (e.g. eyes_closed,foam,feet_together)",
                )
        return cls(vision, surface, stance)

    def label(self) -> str:
        parts = [f"eyes {self.vision}" if self.vision else "", self.surface, self.stance]
        return ", ".join(p for p in parts if p) or "unspecified"


@dataclasses.dataclass(frozen=True)
class Patient:
    id: int
    code: str
    name: str | None = None
    birth_year: int | None = None
    sex: str | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    foot_length_cm: float | None = None
    notes: str = ""
    created: str = ""

    def pseudonymised(self) -> dict[str, Any]:
        """The fields that may leave the clinic: no name, no birth year, no free-text notes."""
        return {
            "code": self.code,
            "sex": self.sex,
            "height_cm": self.height_cm,
            "weight_kg": self.weight_kg,
            "foot_length_cm": self.foot_length_cm,
        }


@dataclasses.dataclass(frozen=True)
class Session:
    id: int
    patient_id: int
    started: str
    ended: str | None = None
    therapist: str = ""
    station: str = ""
    pain_before: float | None = None
    pain_after: float | None = None
    borg_before: float | None = None
    borg_after: float | None = None
    notes: str = ""


@dataclasses.dataclass(frozen=True)
class Trial:
    """One recording's description (no samples; see :class:`TrialData`)."""

    id: int
    session_id: int
    protocol: str
    condition: Condition
    parameters: dict[str, Any]
    source_url: str
    raw_info: StreamInfo
    info: StreamInfo
    started: str
    ended: str | None
    status: str
    metrics: dict[str, Any]
    cues: list[str]
    notes: str
    patient_code: str = ""


@dataclasses.dataclass(frozen=True)
class Event:
    """Something that happened during a trial.

    ``kind`` is one of ``target_shown``, ``target_hit``, ``cue``, ``marker``, ``signal_gap``,
    ``device_lost``, ``device_back``, ``overrun`` (or a protocol's own); ``payload`` is a dict.
    """

    t: float
    kind: str
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


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
    events : list of Event
    metrics : dict
    """

    raw_info: StreamInfo
    raw: SampleBlock
    info: StreamInfo | None = None
    processed: SampleBlock | None = None
    events: list[Event] = dataclasses.field(default_factory=list)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    trial: Trial | None = None
    #: What a file said about its origin (patient code, condition, protocol...), for imports.
    header: dict[str, Any] = dataclasses.field(default_factory=dict)
