"""The tasks a trial can be: what the patient sees, when the trial is over, how it is scored.

A task gets the trial's samples chunk by chunk (sample time ``t`` in s, sway ``xy`` in the stream
unit) through :meth:`Task.feed`, which returns the events it caused and, when the trial is over,
the index in the chunk where it ended. :meth:`Task.result` scores the whole trial with the DSP
primitives (:mod:`nmr_balance.protocols.scoring`). :meth:`Task.display` is what the patient
screen shows right now (targets, a moving target, a corridor), in the stream unit.

The base class is in :mod:`.base`; the tests (standing, Limits of Stability, joint position)
in :mod:`.assessment`; the training tasks in :mod:`.training`. :data:`TASK_TYPES` maps a
protocol step's ``task`` to its class.
"""

from __future__ import annotations

from nmr_balance.protocols.tasks.assessment import LimitsOfStability, Reposition, Stand
from nmr_balance.protocols.tasks.base import Task
from nmr_balance.protocols.tasks.training import Circles, Maze, Targets, Tracking

TASK_TYPES: dict[str, type[Task]] = {
    "stand": Stand,
    "single_leg": Stand,
    "pause": Task,
    "los": LimitsOfStability,
    "targets": Targets,
    "tracking": Tracking,
    "maze": Maze,
    "circles": Circles,
    "reposition": Reposition,
}
