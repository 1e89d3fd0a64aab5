"""Layouts and constants shared by the Numba kernels and NumPy code: the per-trial sums vector,
the order of the metric values each derive step writes, standard gravity.

Kept apart from the kernels so the NumPy twins (and a one-shot ``analyze``, or listing devices
and protocols) need not import Numba.
"""

from __future__ import annotations

G = 9.80665  # standard gravity, m/s^2 (kg -> N)

# Layout of the vector returned by ``sway_stats`` (population moments of mean-removed data).
MEAN_X, MEAN_Y, VAR_X, VAR_Y, COV_XY = 0, 1, 2, 3, 4
MEAN_RD, MEAN_RD2 = 5, 6
PATH, PATH_X, PATH_Y = 7, 8, 9
MIN_X, MAX_X, MIN_Y, MAX_Y = 10, 11, 12, 13
SWEPT_AREA = 14
MEAN_ABS_X, MEAN_ABS_Y = 15, 16
N_STATS = 17

TIME_KEYS = (
    "n_samples",
    "duration_s",
    "mean_x",
    "mean_y",
    "mean_distance",
    "mean_distance_ml",
    "mean_distance_ap",
    "rms_distance",
    "rms_ml",
    "rms_ap",
    "range_ml",
    "range_ap",
    "path_length",
    "path_length_ml",
    "path_length_ap",
    "mean_velocity",
    "mean_velocity_ml",
    "mean_velocity_ap",
    "circle_area_95",
    "ellipse_area_95_chi2",
    "ellipse_major_95_chi2",
    "ellipse_minor_95_chi2",
    "ellipse_area_95_f",
    "ellipse_major_95_f",
    "ellipse_minor_95_f",
    "ellipse_angle_deg",
    "sway_area_per_second",
    "mean_frequency_prieto",
    "mean_frequency_prieto_ml",
    "mean_frequency_prieto_ap",
    "fractal_dimension_cc",
    "fractal_dimension_ce",
)
N_TIME = len(TIME_KEYS)
SPECTRAL_NAMES = (
    "total_power",
    "mean_power_frequency",
    "power_frequency_50",
    "power_frequency_95",
    "centroidal_frequency",
    "frequency_dispersion",
)
SPECTRAL_KEYS = tuple(f"{m}{axis}" for axis in ("", "_ml", "_ap") for m in SPECTRAL_NAMES)
SDA_KEYS = (
    "sda_diffusion_short",
    "sda_diffusion_long",
    "sda_exponent_short",
    "sda_exponent_long",
    "sda_critical_time_s",
    "sda_critical_msd",
)
#: One-sided 95 % quantile of the standard normal (the 95 % confidence circle).
Z_95 = 1.6448536269514722
