"""The plain data a report is made from: clinic, patient, sessions, trials, cues.

Nothing here knows about the database or Qt: the store side (``recordings.report_data``) fills
these records from what was recorded, tests build them by hand, and the note builder and the PDF
renderer read them. Times are timezone-aware :class:`datetime.datetime`; durations in seconds.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping

import numpy as np

from nmr_balance.record import Cue, Patient

#: Trial states that mean the trial did not run to its end.
UNFINISHED = ("aborted", "interrupted", "recording")


@dataclasses.dataclass(frozen=True)
class ClinicInfo:
    """The header of every page: who hands out the report."""

    name: str = "Balance & Proprioception Clinic"
    address: str = ""
    phone: str = ""
    logo_path: str = ""
    provider_label: str = "Therapist"


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One trial as a report sees it.

    Attributes
    ----------
    id : int
    protocol : str
        ``"mctsib"``, ``"romberg"``, ``"los"``, ``"baps"``, ``"weight_shift"``, ``"free"``...
    condition : str
        Human label, e.g. ``"eyes closed, foam, feet_together"``.
    started : datetime.datetime
    duration_s : float
        Time actually recorded (from the samples), s.
    planned_s : float or None
        What the protocol asked for, s (None when open-ended).
    status : str
        ``complete``, ``aborted``, ``interrupted`` (recorder died) or ``recording``.
    metrics : mapping of str to float
        Sway metrics (``dsp.metrics`` names), training scores (``success_pct``, ``time_in_target_pct``...; the protocol engine's names).
    unit : str
        Unit of the sway (``"mm"`` or ``"deg"``).
    cues : tuple of Cue
    problems : tuple of str
        What went wrong while recording, in words ("device lost at 12.1 s", "3 samples missing").
    exercise, objective : str
        What was done and why (from the protocol or the trial's parameters; may be empty).
    body_regions : tuple of str
    surface, resistance : str
        E.g. ``"foam pad"``, ``"BAPS level 3"``.
    repetitions : int or None
        Repetitions within this trial (targets, tilts), if the exercise counts them.
    level : int or None
        Training difficulty level.
    los : mapping of str to mapping, optional
        Limits of Stability per direction (``"F"``, ``"FR"``, ``"R"``... -> metric -> value).
    xy : ndarray, shape (n_samples, 2), optional
        The sway path for the statokinesigram (x = ML, y = AP, in ``unit``), possibly thinned.
    notes : str
    """

    id: int
    protocol: str
    condition: str
    started: datetime.datetime
    duration_s: float
    status: str = "complete"
    planned_s: float | None = None
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    unit: str = "mm"
    cues: tuple[Cue, ...] = ()
    problems: tuple[str, ...] = ()
    exercise: str = ""
    objective: str = ""
    body_regions: tuple[str, ...] = ()
    surface: str = ""
    resistance: str = ""
    repetitions: int | None = None
    level: int | None = None
    los: Mapping[str, Mapping[str, float]] | None = None
    xy: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)
    notes: str = ""

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED

    @property
    def ended(self) -> datetime.datetime:
        return self.started + datetime.timedelta(seconds=max(self.duration_s, 0.0))

    def exercise_label(self) -> str:
        return self.exercise or protocol_title(self.protocol)

    def objective_text(self) -> str:
        return self.objective or PROTOCOL_OBJECTIVES.get(self.protocol, "")

    def regions(self) -> tuple[str, ...]:
        return self.body_regions or PROTOCOL_REGIONS.get(self.protocol, STANDING_REGIONS)

    def surface_text(self) -> str:
        if self.surface:
            return self.surface
        text = self.condition.lower()
        return "foam pad" if "foam" in text else "firm surface" if "firm" in text else ""

    @property
    def is_test(self) -> bool:
        """A clinical test (counted in trials) rather than training (counted in sets)."""
        return self.protocol in TEST_PROTOCOLS


@dataclasses.dataclass(frozen=True)
class SessionRecord:
    """One visit and its trials (oldest first).

    ``instruction_s`` is the instruction/practice time the therapist entered for the visit
    (None: use the recorded time between trials, see :mod:`nmr_balance.reporting.minutes`);
    ``other_timed_minutes`` the minutes of other timed codes billed the same visit (for the CMS
    rule, which adds them up), by CPT code.
    """

    id: int
    started: datetime.datetime
    trials: tuple[TrialRecord, ...] = ()
    ended: datetime.datetime | None = None
    therapist: str = ""
    station: str = ""
    pain_before: float | None = None
    pain_after: float | None = None
    borg_before: float | None = None
    borg_after: float | None = None
    notes: str = ""
    instruction_s: float | None = None
    other_timed_minutes: Mapping[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class SessionReport:
    """Everything one session's report shows.

    ``history`` holds the patient's sessions up to and including this one, oldest first (for
    the progress charts); ``previous`` and ``baseline`` are taken from it.
    """

    clinic: ClinicInfo
    patient: Patient
    session: SessionRecord
    history: tuple[SessionRecord, ...] = ()
    units_rule: str = "cms_8_minute"
    max_gap_instruction_s: float = 180.0

    @property
    def earlier(self) -> tuple[SessionRecord, ...]:
        return tuple(
            s for s in self.history if s.started < self.session.started and s.id != self.session.id
        )

    @property
    def previous(self) -> SessionRecord | None:
        return self.earlier[-1] if self.earlier else None

    @property
    def baseline(self) -> SessionRecord | None:
        return self.earlier[0] if self.earlier else None


#: Plain-language names of the protocols (DESIGN.md §6); unknown ones are shown as written.
PROTOCOL_TITLES = {
    "mctsib": "mCTSIB (sensory organisation)",
    "romberg": "Romberg test",
    "single_leg": "Single-leg stance",
    "los": "Limits of Stability",
    "weight_shift": "Weight-shift training",
    "target": "Target training",
    "tracking": "Tracking a moving target",
    "maze": "Maze training",
    "baps": "BAPS board routine",
    "free": "Free standing balance",
}


def protocol_title(protocol: str) -> str:
    return PROTOCOL_TITLES.get(protocol, protocol.replace("_", " "))


TEST_PROTOCOLS = frozenset({"mctsib", "romberg", "single_leg", "los"})
STANDING_REGIONS = ("bilateral lower extremities", "trunk")
PROTOCOL_REGIONS = {
    "baps": ("ankle",),
    "single_leg": ("stance-side lower extremity", "hip", "trunk"),
}
PROTOCOL_OBJECTIVES = {
    "mctsib": "assess sensory organisation of standing balance (vision, somatosensation, "
    "vestibular)",
    "romberg": "assess reliance on vision for standing balance",
    "single_leg": "improve single-limb stance stability",
    "los": "measure and extend the limits of stability in 8 directions",
    "weight_shift": "improve controlled weight shifting and centre-of-pressure control",
    "target": "improve accuracy and control of centre-of-pressure movements",
    "tracking": "improve dynamic postural control while tracking a moving target",
    "maze": "improve anticipatory postural control and motor planning",
    "baps": "improve ankle proprioception and neuromuscular control",
    "free": "improve static postural control",
}
