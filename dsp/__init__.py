"""Signal processing for nmr-balance: Numba kernels with plain NumPy/SciPy twins.

Pure: imports only numpy, scipy and numba (checked by import-linter and a test).
"""


def warmup(progress=None, batch: bool = True) -> float:
    """Compile (or load from cache) every Numba kernel; progress(done, total, name) is called before each group."""
    from dsp._warmup import warmup as _warmup

    return _warmup(progress, batch)
