"""Shared helpers of the recordings tests: synthetic trials and stores."""

from __future__ import annotations

import math

import numpy as np

from dsp.cop import plate_cop
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo, sway_info
from recordings import Condition, Store
from recordings.store import PROCESSED, RAW

PLATE = tuple(
    Channel(c, "N" if c[0] == "F" else "N m") for c in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
)


def plate_info(fs: float = 100.0, dz: float = 0.0) -> StreamInfo:
    return StreamInfo(
        "sim://?sensor=plate",
        PLATE,
        fs,
        SensorKind.FORCE_PLATE,
        {"surface_offset_mm": dz},
        device="test plate",
    )


def plate_samples(n: int, fs: float = 100.0, seed: int = 0, t0_ns: int = 10**12) -> SampleBlock:
    """A person of ~70 kg swaying a few mm on a 6-axis plate (N, N m)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    ap = 0.004 * np.sin(2 * np.pi * 0.3 * t) + 0.001 * rng.standard_normal(n)  # m
    ml = 0.003 * np.cos(2 * np.pi * 0.2 * t) + 0.001 * rng.standard_normal(n)
    fz = 690 + 5 * rng.standard_normal(n)
    fx, fy = rng.normal(0, 2, n), rng.normal(0, 2, n)
    data = np.column_stack([fx, fy, fz, ml * fz, -ap * fz, rng.normal(0, 0.3, n)])
    return SampleBlock(
        t0_ns + np.round(t * 1e9).astype(np.int64) + rng.integers(0, 50_000, n),
        np.full(n, np.nan),
        np.arange(n, dtype=np.int64),
        data,
    )


def processed_of(raw: SampleBlock, dz: float = 0.0) -> SampleBlock:
    return raw.with_data(plate_cop(raw.data, dz))


def store_trial(
    store: Store,
    raw: SampleBlock,
    processed: SampleBlock,
    info: StreamInfo,
    patient: str = "P001",
    status: str = "complete",
    chunk: int = 100,
) -> int:
    """Write a finished trial the way the recorder does (chunks in order); return its id."""
    store.ensure_patient(patient)
    session = store.start_session(patient, therapist="T")
    with store.transaction():
        tid = store.begin_trial(
            session.id,
            info,
            sway_info(info.source, info.fs),
            protocol="romberg",
            condition=Condition("closed", "foam", "feet_together"),
            parameters={"duration_s": len(raw) / info.fs},
        )
        for seq, i in enumerate(range(0, len(raw), chunk)):
            store.append_chunk(tid, RAW, seq, raw.slice(i, i + chunk))
            store.append_chunk(tid, PROCESSED, seq, processed.slice(i, i + chunk))
        store.add_event(tid, 1.5, "cue", {"text": "look ahead"})
        store.add_event(tid, 2.0, "marker", {"label": "m1"})
    if status != "recording":
        store.finish_trial(tid, status, {"n_samples": len(processed)})
    return tid


def same_bits(a: SampleBlock, b: SampleBlock) -> bool:
    return (
        len(a) == len(b)
        and np.array_equal(a.t_host_ns, b.t_host_ns)
        and np.array_equal(a.counter, b.counter)
        and np.array_equal(a.t_device.view(np.int64), b.t_device.view(np.int64))
        and np.array_equal(a.data.view(np.int64), b.data.view(np.int64))
    )


def same_metrics(a: dict, b: dict) -> bool:
    """Equal metric dicts, NaN equal to NaN (a metric can be NaN with a note saying why), floats
    to 1e-12 relative (one side may come from the Numba kernels, the other from their NumPy
    twins: ``dsp.metrics.trial_metrics`` picks the cheaper path for the process)."""
    if a.keys() != b.keys():
        return False
    for k, v in a.items():
        w = b[k]
        if isinstance(v, float) and isinstance(w, float) and np.isnan(v) and np.isnan(w):
            continue
        if v != w and not (
            isinstance(v, float) and isinstance(w, float) and math.isclose(v, w, rel_tol=1e-12)
        ):
            return False
    return True
