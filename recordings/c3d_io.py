"""C3D export and import (the biomechanics standard), through ``ezc3d``.

Export: the raw channels and the processed ``x, y, fz`` as analog channels (``COP_X``,
``COP_Y``, ``COP_FZ``: our sway frame, x = ML, y = AP), a ``FORCE_PLATFORM`` group (type 2)
when the raw stream is a 6-axis plate, and an ``NMR_BALANCE`` group with the stream
descriptions and header so our own files import back completely. The C3D lab frame is the plate
frame (x forward = AP, y right = ML, z down), so the point ``COP`` is (AP, ML, 0) mm and
other software computes the same COP from the plate; ``CORNERS`` describe a nominal
``geometry["plate_size_mm"]`` (default 600 x 400 mm, AP x ML) plate centred on the origin. C3D
stores 32-bit floats: values come back within float32 precision (relative ~6e-8), and sample
times become the uniform frame clock.

Import: our exports, and any C3D file with a type 2 or 4 force plate: the plate's six channels
(moments converted to N m) become the raw stream, in the plate frame (AMTI: x forward, y right,
z down), with ``surface_offset_mm`` = the depth of the plate origin below the surface, from
``ORIGIN``; the live front-end (:func:`dsp.cop.plate_cop`) then computes the COP from forces and
moments, exactly as when the trial is replayed.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from nmr_balance.errors import DataFormatError, StorageError
from nmr_balance.private_files import private_path
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo
from recordings import _table
from recordings.model import Event, TrialData

_GROUP = "NMR_BALANCE"
_SWAY_LABELS = {"x": "COP_X", "y": "COP_Y", "fz": "COP_FZ"}


def _processed_labels(info: StreamInfo) -> list[str]:
    """Analog labels of the processed channels (``COP_X``... for the sway stream)."""
    return [_SWAY_LABELS.get(n, f"PROC_{n}") for n in info.channel_names]


#: Seconds a child process may take to parse one C3D file.
PARSE_TIMEOUT_S = 120.0
_CHILD = Path(__file__).with_name("_c3d_child.py")
_PIECE = 200  # C3D strings hold at most 255 characters: long texts are stored in pieces


def _ezc3d():
    import ezc3d  # deferred: only exports and imports of C3D need it

    return ezc3d


def _pieces(text: str) -> list[str]:
    code = base64.b64encode(text.encode()).decode()
    return [code[i : i + _PIECE] for i in range(0, len(code), _PIECE)] or [""]


def _unpieces(value: Any) -> str:
    return base64.b64decode("".join(s.strip() for s in value).encode()).decode()


def _c3d_units(channels) -> tuple[list[str], np.ndarray]:
    """C3D units and scale factors: moments go as N mm, as C3D readers (ezc3d...) assume."""
    units = ["Nmm" if c.unit == "N m" else c.unit for c in channels]
    return units, np.array([1000.0 if c.unit == "N m" else 1.0 for c in channels])


def write_c3d(data: TrialData, path: str | Path, header: dict[str, Any]) -> Path:
    """Write ``data`` to ``path`` as C3D; ``header`` as for :func:`recordings.csv_io.write_csv`."""
    ezc3d = _ezc3d()
    path = Path(path)
    proc, raw = data.processed, data.raw
    fs = data.info.fs
    lo, hi = _table.FS_RANGE
    if not (np.isfinite(fs) and lo <= fs <= hi):  # ezc3d aborts the process on a rate of 0
        raise StorageError(
            f"cannot write {path}: the trial's sample rate ({fs:g} Hz) cannot go into a C3D file",
            "Export it as CSV (--format csv)",
        )
    aligned = len(raw) == len(proc) and data.raw_info.fs == data.info.fs
    labels = _processed_labels(data.info) + (
        [c.name for c in data.raw_info.channels] if aligned else []
    )
    units = list(data.info.units)
    analogs = proc.data
    if aligned:
        raw_units, scale = _c3d_units(data.raw_info.channels)
        units += raw_units
        analogs = np.hstack([proc.data, raw.data * scale])
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [data.info.fs]
    c["parameters"]["ANALOG"]["RATE"]["value"] = [data.info.fs]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(labels)
    c["parameters"]["ANALOG"]["UNITS"]["value"] = tuple(units)
    c["data"]["analogs"] = analogs.T[np.newaxis].astype(np.float64)
    is_sway = data.info.channel_names[:2] == ("x", "y")
    points = np.zeros((4, int(is_sway), len(proc)))
    if is_sway:  # the COP as a point in the lab (= plate) frame: (AP, ML, 0)
        c["parameters"]["POINT"]["LABELS"]["value"] = ("COP",)
        c["parameters"]["POINT"]["UNITS"]["value"] = (data.info.units[0],)
        points[0, 0], points[1, 0], points[3, 0] = proc.data[:, 1], proc.data[:, 0], 1.0
    c["data"]["points"] = points
    if aligned and data.raw_info.kind is SensorKind.FORCE_PLATE:
        first = 1 + data.info.n_channels + data.raw_info.index("Fx")
        dz = float(data.raw_info.geometry.get("surface_offset_mm", 0.0))
        _add_int(c, "FORCE_PLATFORM", "USED", [1])
        _add_int(c, "FORCE_PLATFORM", "TYPE", [2])
        _add_int(c, "FORCE_PLATFORM", "ZERO", [1, 1])
        _add_int(c, "FORCE_PLATFORM", "CHANNEL", [[first + i] for i in range(6)])
        ap, ml = np.asarray(data.raw_info.geometry.get("plate_size_mm", (600.0, 400.0))) / 2
        corners = np.array([[ap, ml, 0], [-ap, ml, 0], [-ap, -ml, 0], [ap, -ml, 0]], float)
        c.add_parameter("FORCE_PLATFORM", "CORNERS", corners.T[:, :, np.newaxis])
        # C3D: ORIGIN is the plate origin -> surface centre vector, in the plate frame (z down).
        c.add_parameter("FORCE_PLATFORM", "ORIGIN", np.array([[0.0], [0.0], [-dz]]))
    meta = {
        "header": header,
        "raw_info": data.raw_info.to_dict(),
        "info": data.info.to_dict(),
        "raw_stored": aligned,
        "first_counter": int(proc.counter[0]) if len(proc) else 0,
        "metrics": data.metrics,
        "events": [[e.t, e.kind, e.payload] for e in data.events],
    }
    c.add_parameter(_GROUP, "META", _pieces(json.dumps(meta)))
    subject = str(header.get("patient") or "")
    if subject and len(subject.encode()) <= 255:  # a C3D string dimension holds 255 bytes (a
        # longer one makes the file unreadable); the code is in NMR_BALANCE:META in any case
        c.add_parameter("SUBJECTS", "NAMES", [subject])

    def check(tmp: Path) -> None:  # the header's frames, then a whole re-read (in a child)
        try:
            frames = c3d_frames(tmp)
            if frames == len(proc):
                frames = _parse(tmp)["analogs"].shape[2]
        except DataFormatError as e:
            raise StorageError(
                f"cannot write {path}: what was written does not read back ({e.problem})",
                "Check the free space and export again",
            ) from e
        if frames != len(proc):
            raise StorageError(
                f"cannot write {path}: it holds {frames} frames, the trial {len(proc)}",
                "Check the free space and export again",
            )

    # a temporary name ending in .c3d: ezc3d appends ".c3d" to any other name
    with private_path(path, suffix=".c3d", check=check) as tmp:
        try:
            c.write(str(tmp))
        except (RuntimeError, ValueError, OSError) as e:
            raise StorageError(
                f"cannot write {path}: {e}", "Check the folder and the free space"
            ) from e
    return path


def c3d_frames(path: Path) -> int:
    """Frames a C3D file announces in its header, checked against the file's size.

    Reads the 512-byte header and the parameter block's processor byte in Python, so a
    truncated or damaged file is refused before any native code sees it.

    Raises
    ------
    DataFormatError
        Not a C3D header, or the file is shorter than the frames it announces.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(512)
        if len(head) < 512 or head[1] != 0x50 or head[0] < 2:
            raise DataFormatError(str(path), "not a C3D file (no C3D header)", "Check the file")
        f.seek((head[0] - 1) * 512)
        pblock = f.read(4)
    if len(pblock) < 4 or pblock[3] not in (84, 85, 86):
        raise DataFormatError(str(path), "damaged C3D file (no parameter section)")
    big = pblock[3] == 86  # MIPS; Intel and DEC store integers little-endian
    points, analog, first, last = struct.unpack((">" if big else "<") + "4H", head[2:10])
    data_start = struct.unpack((">" if big else "<") + "H", head[16:18])[0]
    sign_byte = {84: head[15], 85: head[13], 86: head[12]}[pblock[3]]  # the scale's sign bit
    if data_start <= head[0]:
        raise DataFormatError(str(path), "damaged C3D header (data start)")
    frames = last - first + 1 if last >= first else 0
    if last == 0xFFFF:  # more frames than 16 bits hold: POINT:FRAMES (read by the parser) says
        return -1
    value_bytes = 4 if sign_byte & 0x80 else 2  # negative scale: 32-bit floats
    frame_bytes = (4 * points + analog) * value_bytes
    have = max(size - (data_start - 1) * 512, 0) // frame_bytes if frame_bytes else frames
    if have < frames:
        raise DataFormatError(
            str(path),
            f"truncated: the header announces {frames} frames, the file holds {have}",
            "Export the file again, or copy it again from its source",
        )
    return frames


def _parse(path: Path) -> dict:
    """ezc3d's reading of ``path``, run in a child process (see :mod:`recordings._c3d_child`)."""
    try:
        done = subprocess.run(
            [sys.executable, str(_CHILD), str(path)],
            capture_output=True,
            timeout=PARSE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DataFormatError(
            str(path), f"the C3D reader did not finish in {PARSE_TIMEOUT_S:g} s"
        ) from None
    if done.returncode != 0:
        why = (
            done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            if done.returncode > 0
            else [f"the C3D library crashed on it (signal {-done.returncode})"]
        )
        raise DataFormatError(
            str(path),
            f"not a readable C3D file ({(why or ['unknown error'])[0][:160]})",
            "Check that it is a complete, undamaged .c3d file",
        )
    return pickle.loads(done.stdout)  # our own child's output


def _add_int(c, group: str, name: str, value: list) -> None:
    """ezc3d stores list parameters as floats; C3D readers need these ones as integers."""
    c.add_parameter(group, name, value)
    param = c["parameters"][group][name]
    param["type"] = _ezc3d().ezc3d.INT
    param["value"] = np.asarray(param["value"]).astype(int)


def read_c3d(path: str | Path, max_bytes: int = _table.MAX_BYTES) -> TrialData:
    """Read a trial from a C3D file (ours, or any file with a type 2/4 force plate)."""
    path = Path(path)
    _table.check_size(path, max_bytes)
    frames = c3d_frames(path)
    c = _parse(path)
    params = c["parameters"]
    analogs = c["analogs"]
    if frames < 0:  # announced by POINT:FRAMES instead of the header
        frames = int(np.ravel(params.get("POINT", {}).get("FRAMES", {}).get("value", [-1]))[0])
    if analogs.ndim != 3 or analogs.shape[2] == 0:
        raise DataFormatError(str(path), "no analog data", "Export force-plate channels too")
    try:
        fs = float(np.ravel(params["ANALOG"]["RATE"]["value"])[0])
    except (KeyError, IndexError, TypeError, ValueError):
        raise DataFormatError(str(path), "no ANALOG:RATE parameter") from None
    _table.check_fs(path, fs)
    per_frame = analogs.shape[2] / max(frames, 1)
    if frames <= 0 or per_frame != round(per_frame) or per_frame < 1:
        raise DataFormatError(
            str(path),
            f"truncated or damaged: the header announces {frames} frames, "
            f"the file holds {analogs.shape[2]} analog samples",
            "Export the file again, or copy it again from its source",
        )
    # (1, n_channels, n_frames * subframes) -> (n_samples, n_channels)
    samples = analogs[0].T
    try:
        labels = [str(s).strip() for s in params["ANALOG"]["LABELS"]["value"]]
        if _GROUP in params and "META" in params[_GROUP]:
            return _read_ours(path, params, samples, labels)
        return _read_plate(path, params, samples, labels, fs)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise DataFormatError(
            str(path), f"damaged C3D parameters ({type(e).__name__}: {str(e)[:80]})"
        ) from None


def _block(data: np.ndarray, fs: float, first_counter: int = 0) -> SampleBlock:
    n = len(data)
    t = np.arange(n) / fs
    return SampleBlock(
        np.round(t * 1e9).astype(np.int64),
        t,
        np.arange(first_counter, first_counter + n, dtype=np.int64),
        np.ascontiguousarray(data),
    )


def _read_ours(path: Path, params, samples: np.ndarray, labels: list[str]) -> TrialData:
    try:
        meta = json.loads(_unpieces(params[_GROUP]["META"]["value"]))
        raw_info = StreamInfo.from_dict(meta["raw_info"])
        info = StreamInfo.from_dict(meta["info"])
        first = meta["first_counter"]
        if not isinstance(first, int) or isinstance(first, bool):
            raise TypeError(f"first_counter {first!r}")
        idx = [labels.index(s) for s in _processed_labels(info)]
        raw_idx = [labels.index(c) for c in raw_info.channel_names] if meta["raw_stored"] else []
        events = [Event(float(t), str(k), dict(p)) for t, k, p in meta.get("events", [])]
        header = meta.get("header", {})
        if not isinstance(header, dict):
            raise TypeError(f"header {header!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise DataFormatError(
            str(path), f"damaged NMR_BALANCE parameters ({e})", "Export the trial again"
        ) from None
    processed = _block(samples[:, idx], info.fs, first)
    if meta["raw_stored"]:
        scale = _c3d_units(raw_info.channels)[1]
        raw = _block(samples[:, raw_idx] / scale, raw_info.fs, first)
    else:  # the raw stream could not share the frames; replay the processed one
        raw_info, raw = info, processed
    _table.check_finite(path, "raw channels", raw.data, allow_nan=raw_info.kind is SensorKind.COP)
    _table.check_finite(path, "COP", processed.data, allow_nan=True)
    _table.check_plausible(path, raw_info.channels, raw.data)
    _table.check_plausible(path, info.channels, processed.data)
    return TrialData(
        raw_info,
        raw,
        info,
        processed,
        events,
        meta.get("metrics", {}),
        header={str(k): v for k, v in header.items()},
    )


def _read_plate(path: Path, params, samples: np.ndarray, labels: list[str], fs: float) -> TrialData:
    fp = params.get("FORCE_PLATFORM")
    if fp is None or int(np.ravel(fp["USED"]["value"])[0]) < 1:
        raise DataFormatError(
            str(path),
            "no force plate in this C3D file",
            "Only C3D files with force-plate data can be imported",
        )
    plate_type = int(np.ravel(fp["TYPE"]["value"])[0])
    if plate_type not in (2, 4):
        raise DataFormatError(
            str(path),
            f"force plate type {plate_type} is not supported",
            "Export the plate as type 2 (Fx Fy Fz Mx My Mz) and import again",
        )
    channels = np.asarray(fp["CHANNEL"]["value"]).reshape(-1, order="F")[:6].astype(int) - 1
    if np.any(channels < 0) or np.any(channels >= samples.shape[1]):
        raise DataFormatError(str(path), "FORCE_PLATFORM:CHANNEL points outside the analogs")
    fm = samples[:, channels].copy()
    if plate_type == 4:
        cal = np.asarray(fp["CAL_MATRIX"]["value"], dtype=np.float64).reshape(6, 6, -1, order="F")[
            :, :, 0
        ]
        fm = fm @ cal.T
    units = list(params["ANALOG"]["UNITS"]["value"]) if "UNITS" in params["ANALOG"] else []
    for k in range(3, 6):  # moments to N m
        unit = units[channels[k]].strip().lower().replace(" ", "") if units else "nmm"
        fm[:, k] *= 1e-3 if unit in ("nmm", "n.mm") else 1.0
    _table.check_finite(path, "force-plate channels", fm)
    _table.check_plausible(
        path,
        [Channel(c, "N" if c[0] == "F" else "N m") for c in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")],
        fm,
    )
    origin = (
        np.asarray(fp["ORIGIN"]["value"], dtype=np.float64).reshape(3, -1, order="F")[:, 0]
        if "ORIGIN" in fp
        else np.zeros(3)
    )
    dz = abs(float(origin[2]))  # sign conventions differ between vendors; depth is |z|
    name = f"file://{path.name}"
    raw_info = StreamInfo(
        name,
        tuple(
            Channel(c, "N" if c[0] == "F" else "N m") for c in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
        ),
        fs,
        SensorKind.FORCE_PLATE,
        {"surface_offset_mm": dz},
        device="C3D force plate",
    )
    return TrialData(
        raw_info,
        _block(fm, fs),
        header={"file": path.name, "plate_labels": [labels[i] for i in channels]},
    )
