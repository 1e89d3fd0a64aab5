"""The clinical record's vocabulary: patient, session, trial, status, condition, cue, event.

Every layer speaks these types: the store hands them out (adding only its row ids), protocols
and the simulator describe conditions with them, reports and the console read them. The typed
results of a trial (sway metrics, Limits of Stability, training scores, level) are in
:mod:`nmr_balance.results`; the session summary every output is made from is
:mod:`nmr_balance.summary`. ``docs/record-model.md`` is the map.

Times of patients, sessions and trials are ISO 8601 strings in UTC
(``2026-11-21T14:30:05.123+00:00``; :func:`when` turns one into a datetime); event and cue times
are seconds of *sample time* from the start of their trial (:func:`nmr_balance.stream.sample_time`).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
from typing import TYPE_CHECKING, Any

from nmr_balance.errors import InvalidParameterError

if TYPE_CHECKING:  # the stream module imports NumPy: the vocabulary alone does not need it
    from nmr_balance.results import TrialResults
    from nmr_balance.stream import StreamInfo


class TrialStatus(enum.StrEnum):
    """How a trial ended. A ``StrEnum``: it is stored and printed as its value."""

    #: A recorder owns it right now.
    RECORDING = "recording"
    #: Ran to its planned end (or was stopped by the protocol as planned, e.g. a fall).
    COMPLETE = "complete"
    #: Stopped early by the therapist, a full disk or the run ending; partial, never averaged.
    ABORTED = "aborted"
    #: The recording process died or the device dropped out; what was committed is kept.
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        """True when the trial ran to its end (its results count in means and ratios)."""
        return self is TrialStatus.COMPLETE

    @classmethod
    def parse(cls, value: str | TrialStatus) -> TrialStatus:
        try:
            return cls(value)
        except ValueError:
            raise InvalidParameterError(
                "status", value, "one of " + ", ".join(s.value for s in cls)
            ) from None


class CueType(enum.StrEnum):
    """How the therapist cued the patient (DESIGN.md §1)."""

    VERBAL = "verbal"
    TACTILE = "tactile"
    VISUAL = "visual"
    #: Logged without saying how.
    UNSPECIFIED = ""

    @classmethod
    def parse(cls, value: str | None) -> CueType:
        """The type named ``value`` (any case; None or '' = not said), else
        :class:`InvalidParameterError` naming the valid types."""
        text = (value or "").strip().lower()
        try:
            return cls(text)
        except ValueError:
            named = ", ".join(t.value for t in cls if t.value)
            raise InvalidParameterError("cue type", value, f"one of {named} (or nothing)") from None


_VISION = {
    "eo": "open",
    "eyes_open": "open",
    "open": "open",
    "ec": "closed",
    "eyes_closed": "closed",
    "closed": "closed",
}
_SURFACE = {"firm": "firm", "foam": "foam"}
#: Stances a trial may be recorded in (``Condition.stance``; "" = both feet, not stated).
STANCES = (
    "feet_apart",
    "feet_together",
    "semi_tandem",
    "tandem",
    "single_leg_left",
    "single_leg_right",
)
_CONDITION_WORDS = "eyes_open|eyes_closed, firm|foam and one stance (" + "|".join(STANCES) + ")"


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
        ``""`` (both feet, or not stated), ``"single_leg_left"``, ``"single_leg_right"`` or
        free text such as ``"tandem"``.
    """

    vision: str = ""
    surface: str = ""
    stance: str = ""

    @classmethod
    def parse(cls, text: str | None) -> Condition:
        """Read ``"eyes_closed,foam,tandem"`` (any order; ``eo``/``ec`` also accepted).

        Every word must be a known one (:data:`STANCES` for the stance): a typo such as
        ``eyes_shut`` is refused with the words that are valid, never stored as a stance.
        """
        vision = surface = stance = ""
        for token in filter(None, (t.strip().lower() for t in (text or "").split(","))):
            if token in _VISION:
                vision = _VISION[token]
            elif token in _SURFACE:
                surface = _SURFACE[token]
            elif token in STANCES and not stance:
                stance = token
            else:
                import difflib

                words = [*_VISION, *_SURFACE, *STANCES]
                close = difflib.get_close_matches(token, words, n=1, cutoff=0.6)
                what = "a second stance" if token in STANCES else f"'{token}'"
                guess = f" (did you mean {close[0]}?)" if close and token not in STANCES else ""
                raise InvalidParameterError(
                    "condition",
                    text,
                    f"{_CONDITION_WORDS}, comma-separated, e.g. eyes_closed,foam,feet_together; "
                    f"{what} is not one of them{guess}",
                )
        return cls(vision, surface, stance)

    @classmethod
    def from_protocol(cls, vision: str, surface: str, stance: str) -> Condition:
        """A protocol step's condition (stance ``both``/``left``/``right``) as recorded."""
        return cls(vision, surface, "" if stance == "both" else f"single_leg_{stance}")

    @property
    def leg(self) -> str:
        """``"left"``/``"right"`` for a single-leg stance (``single_leg_left`` as recorded, or
        ``left`` as a protocol step says it), else ``"both"``."""
        side = self.stance.removeprefix("single_leg_")
        return side if side in ("left", "right") else "both"

    @property
    def key(self) -> str:
        """``"open_firm"``, ``"closed_foam"``... (mCTSIB condition key; ``_`` parts may be empty)."""
        return f"{self.vision}_{self.surface}"

    def label(self) -> str:
        parts = [f"eyes {self.vision}" if self.vision else "", self.surface, self.stance]
        return ", ".join(p.replace("_", " ") for p in parts if p) or "unspecified"


@dataclasses.dataclass(frozen=True)
class Patient:
    """A person, known by a pseudonymous ``code``; the name only if the clinic keeps one."""

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

    def label(self) -> str:
        return f"{self.name} ({self.code})" if self.name else self.code

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
    """A visit: who, where, and the patient's response (pain 0-10, Borg 6-20 before/after).

    ``notes`` are the therapist's own words for the visit; nothing else is written there.
    """

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
    #: How the patient responded (tolerance, fatigue, symptoms), in the therapist's words.
    response: str = ""
    #: Instruction time the therapist states beyond the trials (s); None = from the recording.
    instruction_s: float | None = None
    #: Who signed the visit's note, and when (ISO 8601 UTC); None = not signed. A signed
    #: session is locked: see :class:`Signature` and ``recordings.signing``.
    signed_by: str | None = None
    signed_at: str | None = None

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


@dataclasses.dataclass(frozen=True)
class Cue:
    """A cue the therapist gave, ``t_s`` seconds (sample time) after the trial's start.

    ``type`` is how it was given. A record of an older version may hold a type that is none of
    :class:`CueType`: such a cue has ``type`` None and keeps the text stored as its type in
    ``stored_type``, to be shown as it is, never read as another type.
    """

    t_s: float
    text: str
    type: CueType | None = CueType.UNSPECIFIED
    stored_type: str = ""


@dataclasses.dataclass(frozen=True)
class TrialEvent:
    """Something that happened during a trial, ``t`` seconds after its start.

    ``kind`` is one of ``target_shown``, ``target_hit``, ``target_missed``, ``balance_lost``,
    ``cue``, ``marker``, ``signal_gap``, ``device_lost``, ``device_back``, ``overrun`` (or a
    protocol's own); ``payload`` is a JSON-serialisable dict.
    """

    t: float
    kind: str
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)

    def cue(self) -> Cue | None:
        """This event as a :class:`Cue` (None unless ``kind == "cue"``)."""
        if self.kind != "cue":
            return None
        text = str(self.payload.get("text", ""))
        stored = self.payload.get("type", self.payload.get("mode"))
        try:
            return Cue(self.t, text, CueType.parse(None if stored is None else str(stored)))
        except InvalidParameterError:  # no way in stores one now; an old record may hold it
            return Cue(self.t, text, None, str(stored))


@dataclasses.dataclass(frozen=True)
class Trial:
    """One recording's description and results (no samples: ``Store.load_trial`` has those).

    ``metrics`` is what the store holds (JSON); :attr:`results` reads it as typed results.
    ``parameters`` says what was planned: ``label``, ``task``, ``level`` (1-based),
    ``duration_s``, ``exercise``, ``surface``...
    """

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
    status: TrialStatus
    metrics: dict[str, Any]
    cues: list[str]
    notes: str
    patient_code: str = ""

    @property
    def results(self) -> TrialResults:
        from nmr_balance.results import TrialResults

        return TrialResults.from_dict(self.metrics)

    @property
    def unit(self) -> str:
        """Unit of the sway (``mm`` or ``deg``)."""
        return self.info.units[0] if self.info.units else ""

    @property
    def level(self) -> int | None:
        """Difficulty level (1-based) of a training trial; None for tests and free trials."""
        value = self.parameters.get("level")
        return (
            int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        )


def when(iso: str | None) -> datetime.datetime | None:
    """A stored ISO time as an aware datetime (UTC when the text has no zone); None stays None."""
    if not iso:
        return None
    moment = datetime.datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def note_sha256(text: str) -> str:
    """The SHA-256 of a note's text (UTF-8), as 64 hex digits: what a signature fixes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class Signature:
    """A therapist's signature of a visit's documentation note: the fixed document billed from.

    ``text`` is the note exactly as signed, ``sha256`` its hash at signing; anyone can check
    that what is on file is what was signed (:attr:`intact`). Later changes are
    :class:`Addendum` rows, never edits.
    """

    session_id: int
    by: str
    at: str  # ISO 8601, UTC
    text: str
    sha256: str

    @property
    def intact(self) -> bool:
        """True when the stored text still has the hash it was signed with."""
        return note_sha256(self.text) == self.sha256


@dataclasses.dataclass(frozen=True)
class Addendum:
    """A dated note added to a signed session by a named person (append-only)."""

    session_id: int
    by: str
    at: str  # ISO 8601, UTC
    text: str


def utc_minute(iso: str) -> str:
    """A stored time as ``2026-12-02 14:05 UTC`` (how signatures and addenda are dated)."""
    moment = when(iso)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def now_iso() -> str:
    """Now, as the record writes times."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


__all__ = [
    "Addendum",
    "Condition",
    "Cue",
    "CueType",
    "Patient",
    "Session",
    "Signature",
    "Trial",
    "TrialEvent",
    "TrialStatus",
    "note_sha256",
    "now_iso",
    "utc_minute",
    "when",
]
