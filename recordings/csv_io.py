"""CSV export and import of trials.

Export: one file per trial. A ``#`` header block (pseudonym, protocol, condition, rate, units,
filter, the stream descriptions, metrics, events), then one row per sample::

    t,x,y,fz,raw_Fx,raw_Fy,...,counter,t_device,t_host_ns,raw_counter,raw_t_device,raw_t_host_ns

``t`` is seconds from the first sample (device clock when the device has one, else
``counter / fs``); ``x, y`` in the stream's unit (mm or deg), ``fz`` in N. Numbers are written
with 17 significant digits, so an export reads back bit-exact. When the raw and processed
streams differ in length (a resampled source), the shorter one is padded with ``nan`` and the
header gives each stream's row count.

Import: our own exports (restored exactly), the Santos & Duarte (2016) data set's tab-separated
files, and any table with a header line given a column mapping (``{"x": "CoP_ML", ...}``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nmr_balance import io_formats
from nmr_balance.errors import DataFormatError
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo, sample_time
from recordings import _table
from recordings.model import Event, TrialData

MAGIC = "nmr-balance trial export"
_PLATE = ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
_CELLS = ("tr", "br", "tl", "bl")
#: Conversions of the units an import may name into ours (mm, N, N m).
_TO_OURS = {
    "m": ("mm", 1000.0),
    "cm": ("mm", 10.0),
    "mm": ("mm", 1.0),
    "n": ("N", 1.0),
    "nm": ("N m", 1.0),
    "n m": ("N m", 1.0),
    "nmm": ("N m", 1e-3),
    "n mm": ("N m", 1e-3),
    "kg": ("kg", 1.0),
    "deg": ("deg", 1.0),
}


def sample_times(block: SampleBlock, info: StreamInfo) -> np.ndarray:
    """Seconds from the first sample, by :func:`nmr_balance.stream.sample_time` (the one rule)."""
    if len(block) == 0:
        return np.empty(0)
    t = sample_time(block, info)
    return t - t[0]


def write_csv(data: TrialData, path: str | Path, header: dict[str, Any]) -> Path:
    """Write ``data`` to ``path``; ``header`` holds what to name (see :mod:`recordings.export`)."""
    path = Path(path)
    raw, proc = data.raw, data.processed
    n = max(len(raw), len(proc))
    t0 = int(min(raw.t_host_ns[0] if len(raw) else 0, proc.t_host_ns[0] if len(proc) else 0))
    cols = {"t": sample_times(proc, data.info)}
    for i, name in enumerate(data.info.channel_names):
        cols[name] = proc.data[:, i]
    for i, name in enumerate(data.raw_info.channel_names):
        cols[f"raw_{name}"] = raw.data[:, i]
    for prefix, b in (("", proc), ("raw_", raw)):
        cols[prefix + "counter"] = b.counter
        cols[prefix + "t_device"] = b.t_device
        cols[prefix + "t_host_ns"] = b.t_host_ns - t0
    table = np.full((n, len(cols)), np.nan)
    for j, v in enumerate(cols.values()):
        table[: len(v), j] = v
    units = (
        ["t=s"]
        + [f"{c.name}={c.unit}" for c in data.info.channels]
        + [f"raw_{c.name}={c.unit}" for c in data.raw_info.channels]
    )
    meta = dict(
        header,
        fs_hz=data.info.fs,
        raw_fs_hz=data.raw_info.fs,
        units=" ".join(units),
        processed_rows=len(proc),
        raw_rows=len(raw),
        t_host0_ns=t0,
        raw_info=json.dumps(data.raw_info.to_dict()),
        info=json.dumps(data.info.to_dict()),
        metrics=json.dumps(data.metrics),
        events=json.dumps([[e.t, e.kind, e.payload] for e in data.events]),
    )
    lines = [f"# {MAGIC} (format 1)"] + [f"# {k}: {_one_line(v)}" for k, v in meta.items()]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n" + ",".join(cols) + "\n")
        np.savetxt(f, table, fmt="%.17g", delimiter=",")
    return path


def _one_line(value: Any) -> str:
    return ("" if value is None else str(value)).replace("\n", " ").replace("\r", " ")


def read_csv(
    path: str | Path,
    columns: dict[str, str] | None = None,
    fs: float | None = None,
    max_bytes: int = _table.MAX_BYTES,
) -> TrialData:
    """Read a trial from a CSV/TSV file.

    Parameters
    ----------
    path : path
        Our export, a Santos & Duarte ``BDS*.txt`` file, or any table with a header line.
    columns : dict, optional
        For other tables: our channel name -> the file's column, e.g. ``{"t": "time", "x":
        "cop_ml", "y": "cop_ap"}`` for a COP file or ``{"Fx": ..., "Mz": ...}`` for a plate.
        A ``[unit]`` suffix in the file's column name (``COPx[cm]``) converts to mm, N, N m.
        Without a mapping, columns named like ours (``x``, ``Fx[N]``...) are used.
    fs : float, optional
        Sample rate, Hz, when the file has no time column.
    max_bytes : int
        Refuse larger files.
    """
    path = Path(path)
    _table.check_size(path, max_bytes)
    if columns is None and io_formats.sniff_format(path) == "santos_duarte":
        return read_santos_duarte(path)
    table = _table.read_table(path, max_bytes)
    if table.comments and table.comments[0].startswith(MAGIC):
        return _read_ours(table)
    return _read_mapped(table, columns, fs)


def _read_ours(table: _table.Table) -> TrialData:
    meta = {}
    for line in table.comments[1:]:
        key, _, value = line.partition(": ")
        meta[key.strip()] = value
    try:
        raw_info = StreamInfo.from_dict(json.loads(meta["raw_info"]))
        info = StreamInfo.from_dict(json.loads(meta["info"]))
        n_proc, n_raw = int(meta["processed_rows"]), int(meta["raw_rows"])
        t0 = int(meta["t_host0_ns"])
        events = [Event(float(t), k, p) for t, k, p in json.loads(meta.get("events", "[]"))]
        metrics = json.loads(meta.get("metrics", "{}"))
    except (KeyError, ValueError, TypeError) as e:
        raise DataFormatError(
            str(table.path),
            f"damaged header block ({e})",
            "Export the trial again from nmr-balance",
        ) from None
    if len(table.values) != max(n_proc, n_raw):
        raise DataFormatError(
            str(table.path),
            f"{len(table.values)} data rows, the header announces {max(n_proc, n_raw)}",
            "The file is truncated: export again",
        )

    def block(prefix: str, names: tuple[str, ...], n: int) -> SampleBlock:
        data = np.column_stack([table.column(prefix + c) for c in names])[:n]
        counter = table.column(prefix + "counter")[:n]
        t_host = table.column(prefix + "t_host_ns")[:n]
        _table.check_finite(table.path, prefix + "counter", counter)
        _table.check_finite(table.path, prefix + "t_host_ns", t_host)
        _table.check_finite(table.path, prefix + "data", data, allow_nan=True)
        return SampleBlock(
            t_host.astype(np.int64) + t0,
            table.column(prefix + "t_device")[:n].copy(),
            counter.astype(np.int64),
            np.ascontiguousarray(data),
        )

    _table.check_fs(table.path, raw_info.fs)
    header = {k: v for k, v in meta.items() if k not in ("raw_info", "info", "events", "metrics")}
    return TrialData(
        raw_info=raw_info,
        raw=block("raw_", raw_info.channel_names, n_raw),
        info=info,
        processed=block("", info.channel_names, n_proc),
        events=events,
        metrics=metrics,
        header=header,
    )


def read_santos_duarte(path: Path) -> TrialData:
    """A trial of Santos & Duarte (2016), PeerJ 4:e2648 (``BDS000NN.txt``), read by
    :func:`nmr_balance.io_formats.read_santos_duarte`.

    Raw: the plate's ``Fx Fy Fz`` (N) and ``Mx My Mz`` (N m), already in our plate frame, marked
    ``filtered_hz`` (the authors low-passed at 10 Hz), so the front-end computes the COP from
    them without filtering again. The file's own COP columns agree to their 6 decimals.
    """
    rec = io_formats.read_santos_duarte(path)
    _table.check_finite(path, "forces and moments", rec.forces_moments)
    fs = _table.check_fs(path, rec.fs)
    name = f"file://{path.name}"
    geometry = {"surface_offset_mm": 0.0, "filtered_hz": rec.filtered_hz}
    raw_info = StreamInfo(
        name,
        tuple(Channel(c, "N" if c[0] == "F" else "N m") for c in _PLATE),
        fs,
        SensorKind.FORCE_PLATE,
        geometry,
        device="Santos & Duarte 2016 force plate",
    )
    counter = np.arange(len(rec.forces_moments), dtype=np.int64)
    raw = SampleBlock(
        np.round(counter / fs * 1e9).astype(np.int64),
        counter / fs,
        counter,
        np.ascontiguousarray(rec.forces_moments),
    )
    return TrialData(
        raw_info,
        raw,
        header={
            "source": "Santos & Duarte 2016",
            "file": path.name,
            "filter": f"{rec.filtered_hz:g} Hz low-pass by the data set's authors",
        },
    )


def _read_mapped(
    table: _table.Table, columns: dict[str, str] | None, fs: float | None
) -> TrialData:
    path = table.path
    if columns is None:  # columns named like ours, with an optional [unit]
        columns = {}
        for col in table.columns:
            base = _table.split_unit(col)[0]
            base = "t" if base.lower() in ("t", "time") else base
            if base in (*_PLATE, *_CELLS, "x", "y", "fz", "t"):
                columns[base] = col
    names = [k for k in columns if k != "t"]
    kind = next(
        (
            k
            for k, need in (
                (SensorKind.FORCE_PLATE, _PLATE),
                (SensorKind.LOAD_CELLS, _CELLS),
                (SensorKind.COP, ("x", "y")),
            )
            if set(need) <= set(names)
        ),
        None,
    )
    if kind is None:
        raise DataFormatError(
            str(path),
            f"cannot tell which columns hold the signals (found {', '.join(table.columns)})",
            "Map them, e.g. --column x=CoP_ML "
            "--column y=CoP_AP --column t=Time (plates: Fx..Mz, cells: tr br tl bl)",
        )
    wanted = {
        SensorKind.FORCE_PLATE: _PLATE,
        SensorKind.LOAD_CELLS: _CELLS,
        SensorKind.COP: ("x", "y", "fz"),
    }[kind]
    channels, values = [], []
    for name in wanted:
        if name not in columns:  # only fz of a COP file may be missing
            channels.append(Channel(name, "N"))
            values.append(np.full(len(table.values), np.nan))
            continue
        unit_text = _table.split_unit(columns[name])[1].lower()
        unit, scale = _TO_OURS.get(unit_text, ("", 1.0))
        if unit_text and not unit:
            raise DataFormatError(
                str(path),
                f"unknown unit [{unit_text}] in column '{columns[name]}'",
                "Use mm, cm, m, N, Nm, Nmm, kg or deg",
            )
        default = "mm" if name in ("x", "y") else ("N m" if name.startswith("M") else "N")
        channels.append(Channel(name, unit or default))
        values.append(table.column(columns[name]) * scale)
    data = np.column_stack(values)
    _table.check_finite(path, ", ".join(wanted), data, allow_nan=kind is SensorKind.COP)
    if "t" in columns:
        t = table.column(columns["t"])
        rate = _table.fs_from_time(path, t)
    elif fs is not None:
        rate = _table.check_fs(path, fs)
        t = np.arange(len(data)) / rate
    else:
        raise DataFormatError(
            str(path),
            "no time column and no sample rate",
            "Map the time column (--column t=NAME) or give --fs",
        )
    n = len(data)
    name = f"file://{path.name}"
    raw_info = StreamInfo(
        name,
        tuple(channels),
        rate,
        kind,
        _default_geometry(kind),
        device="imported table",
        has_device_time="t" in columns,
    )
    raw = SampleBlock(
        np.round((t - t[0]) * 1e9).astype(np.int64),
        t.astype(np.float64),
        np.arange(n, dtype=np.int64),
        data,
    )
    return TrialData(raw_info, raw, header={"file": path.name})


def _default_geometry(kind: SensorKind) -> dict:
    if kind is SensorKind.FORCE_PLATE:
        return {"surface_offset_mm": 0.0}
    if kind is SensorKind.LOAD_CELLS:  # Wii Balance Board layout (tr br tl bl)
        return {"cells_xy_mm": [[216.5, 119.0], [216.5, -119.0], [-216.5, 119.0], [-216.5, -119.0]]}
    return {}
