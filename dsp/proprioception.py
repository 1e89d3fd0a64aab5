"""Joint-position reproduction (proprioception) scores: absolute, constant and variable error.

The patient is shown a target tilt or lean, holds it (the *criterion* position), returns to
neutral, then reproduces the criterion with the eyes closed. Each reproduction has an error; over
the repetitions in one direction the classic scores of motor behaviour (Schmidt & Lee, *Motor
Control and Learning*, 5th ed. 2011, ch. 2) are

* constant error  CE = mean(e_i)               — bias: < 0 undershoot, > 0 overshoot;
* variable error  VE = sqrt(mean((e_i - CE)^2)) — consistency (population SD, as Schmidt & Lee);
* absolute error  AE = mean(|e_i|)              — overall accuracy,

with ``e_i`` the *signed* error along the criterion's direction: the reproduced position
projected on the unit vector from the centre to the criterion, minus the criterion's distance
from the centre. The 2-D distance between reproduced and criterion positions is reported too
(``distance_error``): it also counts errors across the direction. Goble (2010, Phys Ther 90:1176)
reviews joint position matching as the clinical test of proprioceptive acuity. Definitions with
units are in ``docs/metrics.md``. Plain NumPy: a handful of numbers per test, nothing hot.
"""

from __future__ import annotations

import numpy as np

from dsp._validate import as_xy

#: Names of :func:`error_scores`' results.
SCORES = ("absolute_error", "constant_error", "variable_error", "distance_error", "n")


def signed_errors(criterion, reproduced) -> tuple[np.ndarray, np.ndarray]:
    """Signed radial and 2-D errors of each reproduction.

    Parameters
    ----------
    criterion : array_like, shape (n, 2)
        Positions held while the target was shown (sway unit: mm or deg), one per repetition.
    reproduced : array_like, shape (n, 2)
        Positions held when reproducing with the eyes closed, same unit.

    Returns
    -------
    radial : ndarray, shape (n,)
        Reproduced distance along the criterion's direction minus the criterion's distance
        (unit of the input; < 0 = undershoot). NaN where the criterion sits at the centre or a
        position is not finite.
    distance : ndarray, shape (n,)
        Euclidean distance between reproduced and criterion position.
    """
    c = as_xy(criterion, "criterion", min_samples=0, allow_nan=True)
    r = as_xy(reproduced, "reproduced", min_samples=0, allow_nan=True)
    if c.shape != r.shape:
        raise ValueError(f"criterion {c.shape} and reproduced {r.shape} must have one row each")
    reach = np.hypot(c[:, 0], c[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = c / reach[:, None]
        radial = np.where(reach > 0, np.sum(r * unit, axis=1) - reach, np.nan)
    distance = np.hypot(r[:, 0] - c[:, 0], r[:, 1] - c[:, 1])
    return radial, distance


def error_scores(radial, distance=None) -> dict[str, float]:
    """AE, CE, VE (and the mean 2-D error) of repeated reproductions; NaN ones are left out.

    Parameters
    ----------
    radial : array_like, shape (n,)
        Signed errors (see :func:`signed_errors`).
    distance : array_like, shape (n,), optional
        2-D errors.

    Returns
    -------
    dict
        ``absolute_error``, ``constant_error``, ``variable_error`` (NaN with fewer than 2
        reproductions), ``distance_error`` and ``n`` (reproductions counted), in the input unit.
    """
    e = np.asarray(radial, dtype=float).reshape(-1)
    e = e[np.isfinite(e)]
    d = np.asarray([] if distance is None else distance, dtype=float).reshape(-1)
    d = d[np.isfinite(d)]
    ce = float(np.mean(e)) if len(e) else float("nan")
    return {
        "absolute_error": float(np.mean(np.abs(e))) if len(e) else float("nan"),
        "constant_error": ce,
        "variable_error": float(np.sqrt(np.mean((e - ce) ** 2))) if len(e) >= 2 else float("nan"),
        "distance_error": float(np.mean(d)) if len(d) else float("nan"),
        "n": len(e),
    }
