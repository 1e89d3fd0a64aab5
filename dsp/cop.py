"""Centre of pressure from a 6-axis force plate or from four corner load cells.

Conventions (DESIGN.md §4): sway x = ML (+ right), y = AP (+ forward), mm; forces in N.
Samples where the load is below a threshold (nobody on the board) get x = y = NaN.
"""

from __future__ import annotations

import numpy as np

from dsp._layout import G
from dsp._validate import as_signal


def _kernels():
    """``dsp._kernels_frontend``, imported on first use: it imports Numba (~0.35 s of CPU),
    which listing devices or protocols, or configuring a stage, never needs."""
    from dsp import _kernels_frontend

    return _kernels_frontend


#: Wii Balance Board cell positions (mm) for channels tr, br, tl, bl: 433 x 238 mm between cells.
WII_CELLS_XY_MM = ((216.5, 119.0), (216.5, -119.0), (-216.5, 119.0), (-216.5, -119.0))
#: Default stance threshold: below 10 kg of total load nobody is standing on the board.
MIN_LOAD_N = 10 * G


def plate_cop(
    forces_moments,
    surface_offset_mm: float = 0.0,
    min_fz_n: float = MIN_LOAD_N,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """COP of a 6-axis plate (AMTI convention).

    Parameters
    ----------
    forces_moments : ndarray, shape (n_samples, 6)
        Fx, Fy, Fz (N) and Mx, My, Mz (N m) exerted by the subject on the plate, plate frame
        x forward (AP), y right (ML), z down (Fz > 0 under load).
    surface_offset_mm : float
        Depth of the plate origin below its surface (dz >= 0), mm.
    min_fz_n : float
        Below this vertical load the COP is NaN (nobody on the plate).
    out : ndarray, shape (n_samples, 3), optional
        Where to write the result.

    Returns
    -------
    ndarray, shape (n_samples, 3)
        x = ML = (Mx - Fy dz) / Fz and y = AP = (-My - Fx dz) / Fz in mm, and Fz in N.
    """
    fm = as_signal(forces_moments, "forces_moments", ndim=2, n_cols=6)
    if out is None:
        out = np.empty((fm.shape[0], 3))
    _kernels().plate_cop(fm, float(surface_offset_mm) / 1000.0, float(min_fz_n), out)
    return out


def wii_to_kg(raw, calibration) -> np.ndarray:
    """Calibrate raw Wii Balance Board readings.

    Parameters
    ----------
    raw : array_like, shape (n_samples, 4)
        Raw sensor values, channel order tr br tl bl.
    calibration : array_like, shape (4, 3)
        Each cell's raw readings at 0, 17 and 34 kg (the board's calibration block).

    Returns
    -------
    ndarray, shape (n_samples, 4)
        Loads, kg (0 at or below the 0 kg reading, as the Linux hid-wiimote driver).
    """
    raw = as_signal(raw, "raw", ndim=2, n_cols=4)
    cal = as_signal(calibration, "calibration", ndim=2, n_cols=3)
    return _kernels().wii_kg_numpy(raw, cal)


class LoadCellCop:
    """Stateful COP from four load cells: calibration, tare and stance detection.

    Parameters
    ----------
    cells_xy_mm : array_like, shape (4, 2)
        Position of each channel's cell in the sway frame, mm (default: Wii, order tr br tl bl).
    unit : {"kg", "N"}
        Unit of the raw readings when no Wii calibration is given (kg are turned into N).
    gain, offset : array_like, shape (4,), optional
        Per-cell linear calibration: force = gain * (raw - offset) (N). Default: unit scale.
    wii_calibration : array_like, shape (4, 3), optional
        Per-cell raw readings at 0, 17 and 34 kg (the Wii board's own calibration block);
        overrides ``gain``/``offset``.
    min_load_n : float
        Stance threshold: below this total load x = y = NaN.
    """

    def __init__(
        self,
        cells_xy_mm=WII_CELLS_XY_MM,
        unit: str = "kg",
        gain=None,
        offset=None,
        wii_calibration=None,
        min_load_n: float = MIN_LOAD_N,
    ):
        if unit not in ("kg", "N"):
            raise ValueError(f"unit must be 'kg' or 'N'; got {unit!r}")
        self.positions = as_signal(cells_xy_mm, "cells_xy_mm", ndim=2, n_cols=2)
        if self.positions.shape[0] != 4:
            raise ValueError(f"cells_xy_mm needs 4 cells; got {self.positions.shape[0]}")
        scale = G if unit == "kg" else 1.0
        self.gain = np.full(4, scale) if gain is None else as_signal(gain, "gain") * scale
        self.offset = np.zeros(4) if offset is None else as_signal(offset, "offset")
        self.cal = np.zeros((4, 3))
        if wii_calibration is not None:
            self.cal = as_signal(wii_calibration, "wii_calibration", ndim=2, n_cols=3)
            if self.cal.shape[0] != 4 or not (np.diff(self.cal, axis=1) > 0).all():
                raise ValueError(
                    "wii_calibration must be 4 rows of increasing raw readings at "
                    f"0, 17 and 34 kg; got {self.cal.tolist()}"
                )
        self.tare_n = np.zeros(4)
        self.min_load_n = float(min_load_n)
        self._buf = np.empty((64, 4))
        #: Cell forces (N) of the last chunk, shape (n_samples, 4); overwritten by the next one.
        self.last_forces = self._buf[:0]
        self._tare_left = 0
        self._tare_sum = np.zeros(4)
        self._tare_count = 0

    def process(self, raw, out: np.ndarray | None = None) -> np.ndarray:
        """COP of a chunk.

        Parameters
        ----------
        raw : ndarray, shape (n_samples, 4)
            Cell readings, channel order matching ``cells_xy_mm``.

        Returns
        -------
        ndarray, shape (n_samples, 3)
            x, y (mm; NaN when the load is below ``min_load_n``) and the total load (N). The cell
            forces (N) of the chunk stay in :attr:`last_forces`.
        """
        raw = as_signal(raw, "raw", ndim=2, n_cols=4)
        n = raw.shape[0]
        if out is None:
            out = np.empty((n, 3))
        if self._buf.shape[0] < n:
            self._buf = np.empty((max(n, 64), 4))
        forces = self._buf[:n]
        _kernels().cells_cop(
            raw,
            self.cal,
            self.gain,
            self.offset,
            self.tare_n,
            self.positions,
            self.min_load_n,
            forces,
            out,
        )
        if self._tare_left > 0:
            take = min(n, self._tare_left)
            self._tare_sum += forces[:take].sum(axis=0) + self.tare_n * take
            self._tare_count += take
            self._tare_left -= take
            if self._tare_left == 0:
                self.tare_n = self._tare_sum / self._tare_count
        self.last_forces = forces
        return out

    def start_tare(self, n_samples: int) -> None:
        """Tare with the mean of the next ``n_samples`` samples (board empty)."""
        self._tare_left, self._tare_sum, self._tare_count = int(n_samples), np.zeros(4), 0

    @property
    def taring(self) -> bool:
        return self._tare_left > 0

    def weight_bearing(self, forces: np.ndarray | None = None) -> dict[str, float]:
        """Weight-bearing distribution, %: ``left``, ``right``, ``front``, ``back``.

        From the mean cell ``forces`` (n, 4) of loaded samples (default: the last chunk); NaN
        when nobody stands on the board.
        """
        f = self.last_forces if forces is None else np.asarray(forces, float)
        return weight_bearing(f, self.positions, self.min_load_n)


def weight_bearing(forces, cells_xy_mm, min_load_n: float = MIN_LOAD_N) -> dict[str, float]:
    """Share of the load on the left/right (x < 0 / x > 0) and front/back (y > 0 / y < 0) cells.

    Parameters
    ----------
    forces : ndarray, shape (n_samples, 4)
        Cell forces, N. Samples with a total below ``min_load_n`` are ignored.
    cells_xy_mm : ndarray, shape (4, 2)
        Cell positions, mm.

    Returns
    -------
    dict
        ``left``, ``right``, ``front``, ``back`` in % of the total load (NaN if no loaded sample).
    """
    f = np.asarray(forces, float).reshape(-1, 4)
    pos = np.asarray(cells_xy_mm, float)
    f = f[f.sum(axis=1) >= min_load_n]
    if f.shape[0] == 0:
        return dict.fromkeys(("left", "right", "front", "back"), float("nan"))
    mean = f.mean(axis=0)
    total = mean.sum()
    share = {
        "left": mean[pos[:, 0] < 0].sum(),
        "right": mean[pos[:, 0] > 0].sum(),
        "front": mean[pos[:, 1] > 0].sum(),
        "back": mean[pos[:, 1] < 0].sum(),
    }
    return {k: float(100.0 * v / total) for k, v in share.items()}


def fit_cell_calibration(loads_n, counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell linear calibration of raw-count load cells from known loads.

    Each cell is fitted on its own by least squares, counts = offset + load / gain (the counts
    carry the noise, the known loads are exact), so that ``force = gain * (counts - offset)``
    as :class:`LoadCellCop` applies it. A cell whose counts fall with load gets a negative
    gain: its sign is part of the calibration.

    Parameters
    ----------
    loads_n : array_like, shape (n_points, n_cells)
        Known load on each cell at each calibration point, N.
    counts : array_like, shape (n_points, n_cells)
        Mean raw reading of each cell at that point, counts.

    Returns
    -------
    gain : ndarray, shape (n_cells,)
        N per count (negative when the counts fall with load).
    offset : ndarray, shape (n_cells,)
        Counts at zero load.
    residual_n : ndarray, shape (n_cells,)
        RMS misfit of the points, in N (0 with two points per cell).

    Raises
    ------
    ValueError
        Shapes differ, a value is not finite, a cell has fewer than two distinct loads, or its
        counts do not change with load.
    """
    loads = np.asarray(loads_n, dtype=np.float64)
    raw = np.asarray(counts, dtype=np.float64)
    if loads.ndim != 2 or loads.shape != raw.shape:
        raise ValueError(
            f"loads and counts must have the same shape (n_points, n_cells); "
            f"got {loads.shape} and {raw.shape}"
        )
    if not (np.isfinite(loads).all() and np.isfinite(raw).all()):
        raise ValueError("loads and counts must be finite numbers")
    n_cells = loads.shape[1]
    gain, offset, residual = np.empty(n_cells), np.empty(n_cells), np.empty(n_cells)
    for c in range(n_cells):
        load, cnt = loads[:, c], raw[:, c]
        if np.unique(load).size < 2:
            raise ValueError(f"cell {c}: needs at least two different known loads")
        slope, intercept = np.polyfit(load, cnt, 1)  # counts per N, counts at 0 N
        spread = np.ptp(load) * abs(slope)
        if not spread > 1e-9 * max(1.0, np.abs(cnt).max()):
            raise ValueError(f"cell {c}: its counts do not change with the load")
        gain[c], offset[c] = 1.0 / slope, intercept
        misfit_counts = cnt - (intercept + slope * load)
        residual[c] = float(np.sqrt(np.mean(misfit_counts**2))) * abs(gain[c])
    return gain, offset, residual
