"""What the console offers to run: free recordings and the protocol library.

A free recording is one trial the therapist starts and stops (quiet stance, or a ring of targets
scored in the console). Everything else comes from the protocol library
(:func:`nmr_balance.protocols.library.discover`: the built-in tests and exercises plus the
clinic's own TOML files); the engine process runs those step by step (instructions, countdowns,
trials, rests, repetitions) and records each trial.
"""

from __future__ import annotations

import dataclasses
import pathlib

from nmr_balance.protocols.library import discover
from nmr_balance.protocols.schema import Protocol
from ui.live_metrics import Target, ring_of_targets


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One choice of the exercise picker.

    Attributes
    ----------
    key : str
        Stored as the trial's ``protocol``.
    label : str
    duration_s : float
        Default trial length (the therapist may change it).
    n_targets : int
        Targets around the centre (0 = a quiet-stance test).
    distance, radius : float
        Target distance from the centre and radius, in mm (scaled for tilt, see :meth:`targets`).
    dwell_s : float
        Seconds inside a target that make a hit.
    instruction : str
        The one line the patient screen shows.
    """

    key: str
    label: str
    duration_s: float = 30.0
    n_targets: int = 0
    distance: float = 30.0
    radius: float = 8.0
    dwell_s: float = 1.0
    instruction: str = "Stand still and look ahead"

    def targets(self, unit: str, scale: float = 1.0) -> list[Target]:
        """The targets in the stream's unit (deg targets are 1/5 of the mm figures)."""
        if not self.n_targets:
            return []
        k = scale * (0.2 if unit == "deg" else 1.0)
        return ring_of_targets(self.n_targets, self.distance * k, self.radius * k)


#: The free recordings (no protocol): stored with these keys as the trial's protocol.
EXERCISES = (
    Exercise("free", "Free recording: quiet stance"),
    Exercise(
        "free_targets",
        "Free recording: 4 targets",
        60.0,
        4,
        30.0,
        9.0,
        1.0,
        "Move the dot into the highlighted circle",
    ),
)


@dataclasses.dataclass(frozen=True)
class Choice:
    """One entry of the console's picker: a free recording or a library protocol.

    Attributes
    ----------
    key : str
        The free exercise's key or the protocol's name.
    label : str
    exercise : Exercise or None
        Set for a free recording.
    protocol : Protocol or None
        Set for a library protocol.
    path : str
        The protocol's file: the engine loads that very file.
    """

    key: str
    label: str
    exercise: Exercise | None = None
    protocol: Protocol | None = None
    path: str = ""

    @property
    def short_label(self) -> str:
        """The label up to its first colon (``"mCTSIB"``, ``"Weight shift"``): fits the picker;
        free recordings keep their whole label."""
        return self.label if self.exercise is not None else self.label.split(":")[0]


def library(clinic_dir: pathlib.Path | None = None) -> tuple[list[Choice], list[str]]:
    """The picker's entries (free recordings first, then the protocols by title), and one line
    per clinic file that could not be loaded (what is wrong with it)."""
    choices = [Choice(e.key, e.label, exercise=e) for e in EXERCISES]
    broken, found = [], []
    free = {e.key for e in EXERCISES}
    for name, entry in discover(clinic_dir).items():
        if name in free:  # the free exercises' own definitions: offered once, above
            continue
        if entry.protocol is None:
            broken.append(f"{entry.path.name}: {entry.error}")
            continue
        p = entry.protocol
        label = f"{p.title}" + (" (clinic)" if entry.origin == "clinic" else "")
        found.append(Choice(name, label, protocol=p, path=str(entry.path)))
    return choices + sorted(found, key=lambda c: (c.protocol.kind, c.label)), broken


def exercise(key: str) -> Exercise:
    for e in EXERCISES:
        if e.key == key:
            return e
    raise KeyError(f"no exercise {key!r}; known: {', '.join(e.key for e in EXERCISES)}")


__all__ = ["EXERCISES", "Choice", "Exercise", "exercise", "library"]
