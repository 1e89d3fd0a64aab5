"""Write the SYNTHETIC lab-export fixtures of this folder (run once; the files are committed).

They imitate the layout of real exports (a preamble of key/value lines before the header, a
units row, tab or comma delimiters, a calibration matrix in the preamble, a frame counter with
dropped frames), not their exact wording: no real recording or vendor file was copied. The
signals are a synthetic person of ~70 kg swaying a few mm on a 6-axis plate.
"""

import pathlib

import numpy as np

HERE = pathlib.Path(__file__).parent


def plate(n: int, fs: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    ap = 0.004 * np.sin(2 * np.pi * 0.3 * t) + 0.0005 * rng.standard_normal(n)  # m
    ml = 0.003 * np.cos(2 * np.pi * 0.2 * t) + 0.0005 * rng.standard_normal(n)
    fz = 690 + 3 * rng.standard_normal(n)
    fx, fy = rng.normal(0, 2, n), rng.normal(0, 2, n)
    return t, np.column_stack([fx, fy, fz, ml * fz, -ap * fz, rng.normal(0, 0.3, n)])


def motive_amti() -> None:
    """OptiTrack-Motive/AMTI-like: 32 lines of preamble (comma key/value lines, a 6x6
    calibration matrix), a blank line, then Frame, Time and the plate channels with units in
    parentheses. Frames 121-125 are missing (a dropped USB packet)."""
    fs, n = 100.0, 300
    t, fm = plate(n, fs, 1)
    keep = np.ones(n, bool)
    keep[120:125] = False
    pre = [
        "Format Version,1.0,",
        "Take Name,SYNTHETIC Take 001,",
        "Capture Frame Rate,100.000000,",
        "Export Frame Rate,100.000000,",
        "Capture Start Time,2026-05-01 09.30.00.000 AM,",
        "Total Frames in Take,300,",
        "Total Exported Frames,295,",
        "Length Units,Meters,",
        "Force Units,Newtons,",
        "Device,AMTI-like force plate (SYNTHETIC),",
        "Serial,SYN-0000,",
        "Plate Width (m),0.464,",
        "Plate Length (m),0.508,",
        "Origin Offset X (m),0.0,",
        "Origin Offset Y (m),0.0,",
        "Origin Offset Z (m),-0.040,",
        "Calibration Matrix,",
    ]
    cal = np.eye(6) + 0.001 * np.arange(36).reshape(6, 6) / 36
    pre += [",".join(f"{v:.6f}" for v in row) for row in cal]
    pre += [
        "Amplifier Gain,4000,",
        "Excitation (V),10,",
        "Filter,none,",
        "Zeroed,yes,",
        "Notes,SYNTHETIC fixture for nmr-balance tests,",
        "Operator,nobody,",
        "Subject,none,",
        "Trigger,internal,",
        "",
    ]
    assert len(pre) == 32, len(pre)
    header = "Frame,Time (Seconds),Fx (N),Fy (N),Fz (N),Mx (N.m),My (N.m),Mz (N.m)"
    rows = [
        f"{i + 1},{t[i]:.6f}," + ",".join(f"{v:.5f}" for v in fm[i]) for i in range(n) if keep[i]
    ]
    (HERE / "motive_amti_forceplate.csv").write_text("\n".join([*pre, header, *rows]) + "\n")


def kistler() -> None:
    """Kistler-BioWare-like: 19 lines of tab-separated preamble, a header, a units row, then
    tab-separated rows at 100 Hz (the real software exports 1 kHz and more)."""
    fs, n = 100.0, 300
    t, fm = plate(n, fs, 2)
    pre = [
        "BioWare ASCII export (SYNTHETIC imitation)",
        "Version\t5.3.0.7",
        "Filename\tsynthetic_trial_01.dat",
        "Date\t01.05.2026",
        "Time\t09:30:00",
        "Measurement\tQuiet standing, eyes open",
        "Subject\tnone",
        "Plate\tType 9260AA6 (SYNTHETIC)",
        "Sampling rate\t100",
        "Number of samples\t300",
        "Duration [s]\t3.000",
        "Trigger\tnone",
        "Drift compensation\toff",
        "Amplifier range\t2",
        "Plate length [mm]\t600",
        "Plate width [mm]\t400",
        "az0 [mm]\t-40",
        "Comment\tSYNTHETIC fixture for nmr-balance tests",
        "",
    ]
    assert len(pre) == 19, len(pre)
    header = "abs time\tFx\tFy\tFz\tMx\tMy\tMz"
    units = "s\tN\tN\tN\tNm\tNm\tNm"
    rows = [f"{t[i]:.3f}\t" + "\t".join(f"{v:.4f}" for v in fm[i]) for i in range(n)]
    (HERE / "kistler_bioware.txt").write_text("\n".join([*pre, header, units, *rows]) + "\n")


if __name__ == "__main__":
    motive_amti()
    kistler()
