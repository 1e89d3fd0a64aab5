"""Signal processing for nmr-balance: Numba kernels with plain NumPy/SciPy twins.

Pure: imports only numpy, scipy and numba (checked by import-linter and a test).
"""
