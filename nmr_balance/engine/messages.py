"""The engine protocol: every message between the UI and the engine process, as types.

Both processes import this one module. A command is a frozen dataclass the UI puts on the
command queue (:meth:`EngineHost.send`); a reply is one the engine puts on the reply queue. They
travel pickled, so a message is only ever one of the classes below: the engine rejects anything
else with an :class:`~nmr_balance.errors.EngineStateError` reply, the UI reports an unknown reply
the same way. Fields are plain data (numbers, strings, dicts of them); samples never travel here,
only ring names.

Commands (UI -> engine)
-----------------------
Acquisition and trials: :class:`SwitchSource`, :class:`StartTrial`, :class:`StopTrial`,
:class:`Marker`, :class:`Cue`, :class:`Tare`, :class:`Level`, :class:`StartProtocol`,
:class:`AbortProtocol`, :class:`Shutdown`.

The record (the engine is the station database's only writer while the dashboard runs):
:class:`AddPatient`, :class:`StartSession`, :class:`SaveTrialNotes`, :class:`EndSession`,
:class:`SignSession`.

Replies (engine -> UI)
----------------------
:class:`Ready`, :class:`StatusChanged`, :class:`Stats`, :class:`TrialStarted`,
:class:`TrialStopped`, :class:`TrialMetrics`, :class:`Notice`, :class:`Error`,
:class:`ProtocolStarted`, :class:`ProtocolEvent`, :class:`ProtocolDisplay`,
:class:`ProtocolDone`, :class:`PatientAdded`, :class:`SessionStarted`,
:class:`TrialNotesSaved`, :class:`SessionEnded`, :class:`SessionSigned`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nmr_balance.errors import EngineStateError, NmrBalanceError
from nmr_balance.record import CueType

_frozen = dataclasses.dataclass(frozen=True)


@_frozen
class Command:
    """Base of every UI -> engine message."""


@_frozen
class Reply:
    """Base of every engine -> UI message."""


# --- commands: acquisition and trials ----------------------------------------------------------
@_frozen
class SwitchSource(Command):
    """Close the current source (aborting a running trial or protocol) and open ``url``."""

    url: str


@_frozen
class StartTrial(Command):
    """Record a trial. ``parameters["duration_s"]`` ends it by itself after exactly that much
    signal; ``parameters`` is stored with the trial (JSON)."""

    session_id: int
    protocol: str = "free"
    condition: str = ""
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)


@_frozen
class StopTrial(Command):
    """Stop the running trial; ``status`` is ``complete`` or ``aborted``."""

    status: str = "complete"


@_frozen
class Marker(Command):
    """An event in the running trial (ignored when none runs)."""

    kind: str = "marker"
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


@_frozen
class Cue(Command):
    """A cue the therapist gave, logged in the running trial, with its :class:`CueType`
    (``verbal``, ``tactile``, ``visual``; ``""`` = not said; text is accepted and parsed).

    An unknown type is refused when the message is made, so it is never sent: the
    :class:`~nmr_balance.errors.InvalidParameterError` names the valid types."""

    text: str
    cue_type: CueType = CueType.UNSPECIFIED

    def __post_init__(self) -> None:
        object.__setattr__(self, "cue_type", CueType.parse(self.cue_type))


@_frozen
class Tare(Command):
    """Zero the load cells (sources with load cells)."""


@_frozen
class Level(Command):
    """Take the board's current tilt as zero (IMU sources)."""


@_frozen
class StartProtocol(Command):
    """Run a protocol (name or TOML path) at ``level`` (1-based; None = from the patient's
    history). ``target_scale`` and ``dwell_scale`` (from 0.5 to 3; a patient preset's) multiply a
    *training* protocol's target radius and dwell; tests are never scaled
    (:class:`~nmr_balance.protocols.scaling.TargetScaling`). A bad scale raises
    :class:`~nmr_balance.errors.InvalidParameterError` when the command is made."""

    session_id: int
    patient: str
    protocol: str
    level: int | None = None
    seed: int = 0
    target_scale: float = 1.0
    dwell_scale: float = 1.0

    def __post_init__(self) -> None:
        _ = self.scaling  # validates both scales, naming the bad one

    @property
    def scaling(self):
        """The scales as a :class:`~nmr_balance.protocols.scaling.TargetScaling`."""
        from nmr_balance.protocols.scaling import TargetScaling

        return TargetScaling(self.target_scale, self.dwell_scale)


@_frozen
class AbortProtocol(Command):
    reason: str = "stopped by the therapist"


@_frozen
class Shutdown(Command):
    """Close the trial and the source and end the engine process."""


# --- commands: the record ----------------------------------------------------------------------
@_frozen
class AddPatient(Command):
    """Add a patient under a pseudonymous ``code``."""

    code: str


@_frozen
class StartSession(Command):
    """Open a session for ``patient`` (code). Pain 0-10, Borg RPE 6-20; None = not asked."""

    patient: str
    therapist: str = ""
    station: str = ""
    pain_before: float | None = None
    borg_before: float | None = None


@_frozen
class SaveTrialNotes(Command):
    """The therapist's notes for a trial, in their words."""

    trial_id: int
    notes: str


@_frozen
class EndSession(Command):
    """Close a session with the patient's state after it (pain 0-10, Borg RPE 6-20; None = not
    asked) and their response in the therapist's words."""

    session_id: int
    pain_after: float | None = None
    borg_after: float | None = None
    response: str = ""


@_frozen
class SignSession(Command):
    """Sign the ended session's note as ``by`` (``recordings.signing.sign_session``).

    ``shown`` is the note the therapist read; the engine refuses to sign when the note made
    from the record now differs (nobody signs what they did not read).
    """

    session_id: int
    by: str
    shown: str


# --- replies -----------------------------------------------------------------------------------
@_frozen
class Ready(Reply):
    """A source streams: its rings' names and stream descriptions (``StreamInfo.to_dict``)."""

    url: str
    raw_ring: str
    processed_ring: str
    raw_info: dict[str, Any]
    info: dict[str, Any]


@_frozen
class StatusChanged(Reply):
    status: str
    message: str = ""


@_frozen
class Stats(Reply):
    """The :class:`~nmr_balance.pipeline.PipelineStats` fields."""

    stats: dict[str, Any]


@_frozen
class TrialStarted(Reply):
    trial_id: int


@_frozen
class TrialStopped(Reply):
    trial_id: int
    status: str


@_frozen
class TrialMetrics(Reply):
    trial_id: int
    metrics: dict[str, Any]


@_frozen
class Notice(Reply):
    message: str


@_frozen
class Error(Reply):
    """A command failed (the engine keeps running): what happened and what to do."""

    message: str
    hint: str = ""
    error_type: str = ""

    @classmethod
    def of(cls, e: BaseException) -> Error:
        """The reply for ``e``: typed errors keep their message and hint."""
        if isinstance(e, NmrBalanceError):
            return cls(e.message, e.hint, type(e).__name__)
        return cls(f"{type(e).__name__}: {e}", "", type(e).__name__)


@_frozen
class ProtocolStarted(Reply):
    """Facts about the run (:meth:`ProtocolRun.describe`): protocol, title, summary_kind, level
    (1-based), levels, n_trials, total_s, unit, los, los_origin, extent; and level_reason."""

    facts: dict[str, Any]


@_frozen
class ProtocolEvent(Reply):
    """One :class:`~nmr_balance.protocols.events.Event` (``to_dict``)."""

    event: dict[str, Any]


@_frozen
class ProtocolDisplay(Reply):
    """What the patient screen shows now (:meth:`ProtocolRun.display`), ~10 per s."""

    display: dict[str, Any]


@_frozen
class ProtocolDone(Reply):
    """The run ended. Its results are the stored trials' (``trial_ids``): the dashboard reads
    them from the record (``recordings.report_data.run_block``), never a second computation."""

    phase: str  # "done" | "aborted"
    results: list[dict[str, Any]]
    trial_ids: list[int]
    los_path: str | None = None


@_frozen
class PatientAdded(Reply):
    code: str


@_frozen
class SessionStarted(Reply):
    session_id: int
    patient: str


@_frozen
class TrialNotesSaved(Reply):
    trial_id: int


@_frozen
class SessionEnded(Reply):
    session_id: int


@_frozen
class SessionSigned(Reply):
    """The session's note is signed: by whom, when (ISO 8601 UTC), the SHA-256 of its text."""

    session_id: int
    by: str
    at: str
    sha256: str


def check_command(message: object) -> Command:
    """``message`` if it is a command of this protocol, else :class:`EngineStateError`."""
    if isinstance(message, Command) and type(message) is not Command:
        return message
    raise EngineStateError(
        f"the engine does not know the message {message!r}",
        "Update the dashboard and the engine together (they must come from one install)",
    )


__all__ = [
    "AbortProtocol",
    "AddPatient",
    "Command",
    "Cue",
    "EndSession",
    "Error",
    "Level",
    "Marker",
    "Notice",
    "PatientAdded",
    "ProtocolDisplay",
    "ProtocolDone",
    "ProtocolEvent",
    "ProtocolStarted",
    "Ready",
    "Reply",
    "SaveTrialNotes",
    "SessionEnded",
    "SessionSigned",
    "SessionStarted",
    "Shutdown",
    "SignSession",
    "StartProtocol",
    "StartSession",
    "StartTrial",
    "Stats",
    "StatusChanged",
    "StopTrial",
    "SwitchSource",
    "Tare",
    "TrialMetrics",
    "TrialNotesSaved",
    "TrialStarted",
    "TrialStopped",
    "check_command",
]
