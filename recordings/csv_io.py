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
from nmr_balance.errors import DataFormatError, StorageError
from nmr_balance.private_files import private_file
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo, sample_time
from recordings import _table
from recordings.model import Event, TrialData

MAGIC = "nmr-balance trial export"
_PLATE = ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
_CELLS = ("tr", "br", "tl", "bl")


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
    n_lines = len(lines) + 1 + n

    def check(tmp: Path) -> None:  # what is on disk: our first line, every row, a whole last one
        with open(tmp, "rb") as f:
            first = f.readline()
            count = 1 + sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
            f.seek(-1, 2)
            last = f.read(1)
        if not first.startswith(f"# {MAGIC}".encode()) or count != n_lines or last != b"\n":
            raise StorageError(
                f"cannot write {path}: {count} of {n_lines} lines were written",
                "Check the free space and export again",
            )

    with private_file(path, check=check) as f:
        f.write("\n".join(lines) + "\n" + ",".join(cols) + "\n")
        np.savetxt(f, table, fmt="%.17g", delimiter=",")
    return path


#: Characters that end a line for ``str.splitlines`` (a header value must stay on its line).
_LINE_BREAKS = dict.fromkeys(map(ord, "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"), " ")


def _one_line(value: Any) -> str:
    return ("" if value is None else str(value)).translate(_LINE_BREAKS)


def read_csv(path: str | Path, options: _table.TableOptions | None = None) -> TrialData:
    """Read a trial from a CSV/TSV file.

    Parameters
    ----------
    path : path
        Our export, a Santos & Duarte ``BDS*.txt`` file, or any table with a header line (a
        lab's preamble above it is skipped, see :func:`recordings._table.read_table`).
    options : TableOptions, optional
        For other tables: the column mapping (our name -> the file's column, e.g. ``{"t":
        "time", "x": "cop_ml", "y": "cop_ap"}``, or ``{"Fx": ..., "Mz": ...}`` for a plate; a
        ``counter`` column gives the gaps), the units of columns the file gives none, the rate
        of a file without a time column. Without a mapping, columns named like ours are used.
    """
    path = Path(path)
    options = options or _table.TableOptions()
    _table.check_size(path, options.max_bytes)
    if options.columns is None and io_formats.sniff_format(path) == "santos_duarte":
        return read_santos_duarte(path)
    table = _table.read_table(path, options)
    if table.comments and table.comments[0].startswith(MAGIC):
        return _read_ours(table)
    return _read_mapped(table, options)


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


def _file_meta(table: _table.Table) -> dict[str, str]:
    """``# key: value`` comment lines (``unit``, ``fs``, ``filtered_hz``) of a foreign table."""
    meta = {}
    for line in table.comments:
        key, sep, value = line.partition(":" if ":" in line else "=")
        if sep:
            meta[key.strip().lower()] = value.strip()
    return meta


def _read_mapped(table: _table.Table, options: _table.TableOptions) -> TrialData:
    path = table.path
    columns = dict(options.columns or {})
    for col in table.columns:  # columns named like ours (optional [unit]), unless mapped
        base = _table.split_unit(col)[0]
        base = "t" if base.lower() in ("t", "time", "abs time") else base
        if base in _table.MAPPING_NAMES and base not in columns and col not in columns.values():
            columns[base] = col
    names = [k for k in columns if k not in ("t", "counter")]
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
    meta = _file_meta(table)
    channels, values = [], []
    for name in wanted:
        if name not in columns:  # only fz of a COP file may be missing
            channels.append(Channel(name, "N"))
            values.append(np.full(len(table.values), np.nan))
            continue
        unit, scale = _unit(table, options, meta, name, columns[name])
        channels.append(Channel(name, unit))
        values.append(table.column(columns[name]) * scale)
    data = np.column_stack(values)
    _table.check_finite(path, ", ".join(wanted), data, allow_nan=kind is SensorKind.COP)
    _table.check_plausible(path, channels, data)
    t = counter = None
    if "t" in columns:
        t = table.column(columns["t"]) * _unit(table, options, meta, "t", columns["t"])[1]
    if "counter" in columns:
        counter = table.column(columns["counter"])
    fs = options.fs
    if fs is None and "fs" in meta:
        try:
            fs = float(meta["fs"])
        except ValueError:
            raise DataFormatError(str(path), f"'# fs: {meta['fs'][:20]}' is not a rate") from None
    clock = _table.timing(path, len(data), t, counter, fs, columns.get("t", "time"))
    name = f"file://{path.name}"
    raw_info = StreamInfo(
        name,
        tuple(channels),
        clock.fs,
        kind,
        _default_geometry(kind),
        device="imported table",
        has_device_time=t is not None,
    )
    raw = SampleBlock(
        np.round((clock.t - clock.t[0]) * 1e9).astype(np.int64),
        clock.t.copy() if t is not None else np.full(len(data), np.nan),
        clock.counter,
        np.ascontiguousarray(data),
    )
    steps = clock.gap_steps()
    missing = int(np.sum(np.diff(clock.counter)[steps] - 1))
    events = [
        Event(
            float(clock.t[i] - clock.t[0]),
            "signal_gap",
            {"missing_samples": int(clock.counter[i + 1] - clock.counter[i] - 1), "from": "file"},
        )
        for i in steps
    ]
    header = {
        "file": path.name,
        "import": {"rate_from": clock.source, "gaps": len(steps), "missing_samples": missing},
    }
    if meta.get("filtered_hz"):
        header["filter"] = f"{meta['filtered_hz']} Hz low-pass (the file says)"
    return TrialData(raw_info, raw, events=events, header=header)


def _unit(
    table: _table.Table, options: _table.TableOptions, meta: dict, name: str, column: str
) -> tuple[str, float]:
    """(our unit, factor) of mapped column ``name``: the file's unit, else the options'.

    A column the file gives no unit and the options none is refused: no unit is ever guessed.
    """
    text = table.unit_of(column)
    said = "the file"
    if not text and name in ("x", "y"):
        text = meta.get("unit", "")
    if not text:
        text, said = options.unit_for(name) or "", "--unit"
    if not text:
        dims = " or ".join(_table.DIMENSIONS[name])
        example = {"t": "s", "x": "mm", "y": "mm"}.get(name, "N m" if name[0] == "M" else "N")
        raise DataFormatError(
            str(table.path),
            f"column '{column}' ({name}) has no unit",
            f"Say it ({dims}): --unit {example.replace(' ', '')} for every such column, "
            f"or --unit {name}={example.replace(' ', '')} for this one "
            f"(or write it in the header: {name}[{example}])",
        )
    dim = _table.dimension_of(text)
    if dim is None or dim not in _table.DIMENSIONS[name]:
        known = ", ".join(u for d in _table.DIMENSIONS[name] for u in _table.UNITS[d])
        raise DataFormatError(
            str(table.path),
            f"unit [{text}] of column '{column}' ({said}) is not one for {name}",
            f"Use one of: {known}",
        )
    return _table.UNITS[dim][_table.unit_key(text)]


def _default_geometry(kind: SensorKind) -> dict:
    if kind is SensorKind.FORCE_PLATE:
        return {"surface_offset_mm": 0.0}
    if kind is SensorKind.LOAD_CELLS:  # Wii Balance Board layout (tr br tl bl)
        return {"cells_xy_mm": [[216.5, 119.0], [216.5, -119.0], [-216.5, 119.0], [-216.5, -119.0]]}
    return {}
