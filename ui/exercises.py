"""What the console offers to run: the free recordings and the protocol library.

Everything comes from the protocol library (:func:`nmr_balance.protocols.library.discover`: the
built-in tests and exercises plus the clinic's own TOML files), so a title or a kind is written
once, in its protocol file. The free recordings come first:

- ``free`` (quiet stance) is one trial the therapist starts and stops: the console sends a
  ``StartTrial`` and the engine records it; its title, instruction and default length are
  ``free.toml``'s;
- ``free_targets`` (4 targets) and every other protocol run in the engine process step by step
  (instructions, countdowns, trials, rests, repetitions), which records each trial and scores
  its targets: the console only shows what the engine says.
"""

from __future__ import annotations

import dataclasses
import pathlib

from nmr_balance.protocols.library import discover
from nmr_balance.protocols.schema import Protocol

#: The free recordings, first in the picker (their keys are their protocols' names).
FREE_RECORDINGS = ("free", "free_targets")
#: The one the therapist starts and stops (a ``StartTrial``; the others run as protocols).
THERAPIST_TIMED = "free"


@dataclasses.dataclass(frozen=True)
class Choice:
    """One entry of the console's picker: a protocol of the library.

    Attributes
    ----------
    key : str
        The protocol's name, stored as the trial's ``protocol``.
    label : str
        Its title (``(clinic)`` added for a clinic's own file).
    protocol : Protocol
    path : str
        The protocol's file: the engine loads that very file.
    """

    key: str
    label: str
    protocol: Protocol
    path: str = ""

    @property
    def timed_by_therapist(self) -> bool:
        """True for the free quiet-stance recording: started and stopped by the therapist (the
        condition and duration are chosen in the console); False for a protocol run."""
        return self.key == THERAPIST_TIMED

    @property
    def instruction(self) -> str:
        """The line the patient screen shows first."""
        return self.protocol.steps[0].instruction

    @property
    def duration_s(self) -> float:
        """Default trial length, s (the therapist may change it for a free recording)."""
        return float(self.protocol.steps[0].duration_s)

    @property
    def short_label(self) -> str:
        """The label up to its first colon (``"mCTSIB"``, ``"Weight shift"``): fits the picker;
        free recordings keep their whole label."""
        return self.label if self.key in FREE_RECORDINGS else self.label.split(":")[0]


def library(clinic_dir: pathlib.Path | None = None) -> tuple[list[Choice], list[str]]:
    """The picker's entries (the free recordings first, then the protocols by kind and title),
    and one line per clinic file that could not be loaded (what is wrong with it)."""
    broken, free, found = [], [], []
    for name, entry in discover(clinic_dir).items():
        if entry.protocol is None:
            broken.append(f"{entry.path.name}: {entry.error}")
            continue
        p = entry.protocol
        label = f"{p.title}" + (" (clinic)" if entry.origin == "clinic" else "")
        (free if name in FREE_RECORDINGS else found).append(Choice(name, label, p, str(entry.path)))
    free.sort(key=lambda c: FREE_RECORDINGS.index(c.key))
    return free + sorted(found, key=lambda c: (c.protocol.kind, c.label)), broken


__all__ = ["FREE_RECORDINGS", "THERAPIST_TIMED", "Choice", "library"]
