"""What a running protocol asks of the patient: the one channel from a protocol to its source.

A :class:`~nmr_balance.protocols.run.ProtocolRun` knows, at every moment of sample time, what
the patient is being asked to do: stand still under some condition (eyes closed, on foam, on one
leg), lean to a target shown on the screen, follow a moving target, or reproduce a remembered
position with the eyes closed. The feeder that drives the run hands that to the source with
:meth:`nmr_balance.source.Source.instruct` after every step. A real sensor ignores it (a person
reads the screen, not the device); the simulated board (``sim://``) plays the patient and
responds, so demos, staff training and the protocol tests have a patient who actually reaches.

Instructions are state, not commands: each one says what holds *as of* its sample time, and the
next one replaces it. Times are on the stream's own clock (sample time, s), the clock the
protocol runs on, so a source faster than real time can stay in step (see the simulator's
``realtime=0``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

#: What the patient is doing in each phase of a run.
PHASES = ("waiting", "countdown", "trial", "rest", "paused", "done", "aborted")


@dataclasses.dataclass(frozen=True)
class Instruction:
    """What the patient is asked to do, as of sample time ``t_s``.

    Attributes
    ----------
    t_s : float
        Sample time (s, the stream's clock) the protocol has reached.
    phase : str
        One of :data:`PHASES`; ``done`` and ``aborted`` mean no protocol is running any more.
    condition : Mapping[str, str]
        The test condition of the current step: ``vision`` (open/closed), ``surface``
        (firm/foam), ``stance`` (both/left/right); missing keys mean the default.
    unit : str
        Unit of ``target`` and ``radius``: ``mm`` (COP) or ``deg`` (board tilt).
    target : tuple of float or None
        Where the patient should be (x, y in ``unit``); None: stand quietly at the centre.
    target_since_s : float
        Sample time (s) at which the current target (or the return to the centre) was asked
        for; a patient reacts from then on.
    radius : float
        Size of the target (``unit``); 0 when there is none.
    moving : bool
        The target moves continuously (tracking, circles, maze): follow it.
    visible : bool
        The patient sees the target. False: reproduce a position from memory, with the eyes
        closed (joint-position test).
    task : str
        The task of the current step (``stand``, ``los``, ``targets``...), '' between runs.
    """

    t_s: float
    phase: str = "waiting"
    condition: Mapping[str, str] = dataclasses.field(default_factory=dict)
    unit: str = "mm"
    target: tuple[float, float] | None = None
    target_since_s: float = 0.0
    radius: float = 0.0
    moving: bool = False
    visible: bool = True
    task: str = ""

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {self.phase!r}")

    @property
    def running(self) -> bool:
        """True while a protocol is running (the patient is following it)."""
        return self.phase not in ("done", "aborted")
