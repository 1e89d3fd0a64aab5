"""The simulated board (``sim://``): sway model, sensor rendering and the source."""

from drivers.sim.board import Follow, Lean, LoseBalance, SimulatedBoard, StepOff, StepOn
from drivers.sim.model import Body, Condition
from drivers.sim.source import SimSource

__all__ = [
    "Body",
    "Condition",
    "Follow",
    "Lean",
    "LoseBalance",
    "SimSource",
    "SimulatedBoard",
    "StepOff",
    "StepOn",
]
