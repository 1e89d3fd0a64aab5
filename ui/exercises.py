"""The single-trial exercises and tests the console offers, with their defaults.

Each key is the id of the matching protocol in :mod:`nmr_balance.protocols` (``free`` = quiet
stance with no protocol), so stored trials are labelled the way reports and progress expect.
Multi-trial protocol runs (mCTSIB's four conditions, LOS, progression levels) are driven by the
protocol engine, today from ``nmr-balance run``; the console records one trial at a time.
"""

from __future__ import annotations

import dataclasses

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


EXERCISES = (
    Exercise("free", "Quiet stance (free)"),
    Exercise("romberg", "Romberg (eyes open / closed)"),
    Exercise("mctsib", "mCTSIB condition"),
    Exercise("single_leg", "Single-leg stance", duration_s=20.0),
    Exercise("weight_shift", "Weight shift: 4 targets", 60.0, 4, 30.0, 9.0, 1.0,
             "Move the dot into the highlighted circle"),
    Exercise("target", "Target training: 8 targets", 60.0, 8, 35.0, 8.0, 0.8,
             "Move the dot into the highlighted circle"),
)


def exercise(key: str) -> Exercise:
    for e in EXERCISES:
        if e.key == key:
            return e
    raise KeyError(f"no exercise {key!r}; known: {', '.join(e.key for e in EXERCISES)}")


__all__ = ["EXERCISES", "Exercise", "exercise"]
