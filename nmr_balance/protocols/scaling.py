"""How a training run's targets are fitted to the person: bigger targets, a longer dwell.

The console's patient presets (seniors, children) make target exercises more forgiving; targets
are scored in one place, the protocol engine, so that is where the scaling is applied: when a
:class:`~nmr_balance.protocols.run.ProtocolRun` is built, to **training** protocols only. Tests
(mCTSIB, Romberg, LOS, single-leg, joint position) are standardized: their targets are never
scaled, whatever the preset. Each trial of a scaled run stores the scales in its parameters
(``target_scale``, ``dwell_scale``), so the record says what the patient was scored against.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from nmr_balance.errors import InvalidParameterError

if TYPE_CHECKING:
    from nmr_balance.protocols.schema import Step

#: The scales allowed (x): outside them a target is no longer the exercise the protocol defines.
SCALE_RANGE = (0.5, 3.0)


@dataclasses.dataclass(frozen=True)
class TargetScaling:
    """Multipliers of a training step's target size and dwell.

    Attributes
    ----------
    target_scale : float
        Multiplies the target radius (``radius_pct``: reaching targets, tracking); > 1 is
        easier. From 0.5 to 3.
    dwell_scale : float
        Multiplies the time inside a target that makes a hit (``dwell_s``). From 0.5 to 3.
    """

    target_scale: float = 1.0
    dwell_scale: float = 1.0

    def __post_init__(self) -> None:
        lo, hi = SCALE_RANGE
        for name in ("target_scale", "dwell_scale"):
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not lo <= value <= hi:
                raise InvalidParameterError(
                    name, value, f"a number from {lo:g} to {hi:g} (1 = as the protocol defines it)"
                )

    @property
    def standard(self) -> bool:
        """True when nothing is scaled."""
        return self.target_scale == 1.0 and self.dwell_scale == 1.0

    def apply(self, step: Step) -> Step:
        """``step`` with its target radius and dwell scaled (the fields its task has; the others,
        and every other field, as they are)."""
        factors = {"radius_pct": self.target_scale, "dwell_s": self.dwell_scale}
        changes = {k: step.params[k] * f for k, f in factors.items() if k in step.params}
        return dataclasses.replace(step, params={**step.params, **changes})

    def to_dict(self) -> dict[str, Any]:
        """``{"target_scale": ..., "dwell_scale": ...}``: how a trial's parameters store it."""
        return {"target_scale": float(self.target_scale), "dwell_scale": float(self.dwell_scale)}


__all__ = ["SCALE_RANGE", "TargetScaling"]
