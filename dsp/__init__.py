"""Signal processing for nmr-balance: Numba kernels with plain NumPy/SciPy twins.

Pure: imports only numpy, scipy and numba (checked by import-linter). Public modules:

- :mod:`dsp.metrics` — ``trial_metrics(xy, fs)`` (every sway metric of one trial, a dict with
  ``units`` and ``notes``), ``batch_metrics`` (many trials, all cores), ``bridge_gaps``;
- :mod:`dsp.spectral` — the Welch PSD (Santos & Duarte parameters) and spectral summaries;
- :mod:`dsp.ratios` — Romberg quotient, mCTSIB sensory ratios;
- :mod:`dsp.live` — ``SlidingSway``: velocity and ellipse over the last N seconds, O(chunk);
- :mod:`dsp.training` — targets, dwell/hits, tracking error, Limits of Stability;
- front-end, streaming: :mod:`dsp.cop` (plate and load-cell COP, tare, stance, weight
  bearing), :mod:`dsp.tilt` (IMU tilt), :mod:`dsp.resample` (window averaging),
  :mod:`dsp.filters` (Butterworth, streaming and zero-phase);
- :func:`warmup` — compile/load every kernel with progress; :func:`uncached_kernels` says
  beforehand whether that compiles or loads.

Definitions and references: ``docs/metrics.md``. Kernels live in the private ``_kernels_*``
modules, each next to its NumPy twin.
"""


def warmup(progress=None, batch: bool = True, only: tuple[str, ...] | None = None) -> float:
    """Compile (or load from cache) every Numba kernel (or the groups in ``only``: metrics,
    decimation, batch, cop, filters, tilt, live); progress(done, total, name) is called before
    each group."""
    from dsp._warmup import warmup as _warmup

    return _warmup(progress, batch, only)


def cache_misses() -> int:
    """Kernel compilations that found nothing in Numba's cache so far (> 0: a first run)."""
    from dsp._warmup import cache_misses as _cache_misses

    return _cache_misses()


def uncached_kernels(only: tuple[str, ...] | None = None) -> list[str]:
    """Kernels of these groups (default: all) with nothing in Numba's on-disk cache: preparing
    them compiles (a first run, or after a kernel changed); [] means they load from the cache."""
    from dsp._warmup import uncached

    return uncached(only)
