"""Moving trials between the store and files: export (CSV, C3D) and import (CSV, TSV, C3D).

Exports are pseudonymised unless ``identified=True``: the patient appears by code only; name,
birth year, free-text notes and file paths in source URLs are left out.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nmr_balance.errors import DataFormatError, InvalidParameterError
from nmr_balance.frontend.sensors import default_stages
from nmr_balance.frontend.stage import configure_chain, run_chain
from nmr_balance.record import CueType, TrialStatus
from nmr_balance.results import measure_trial
from nmr_balance.stream import StreamInfo
from recordings import _table, c3d_io, chunks, csv_io, witmotion_sd
from recordings._table import TableOptions
from recordings.metrics import trial_metrics
from recordings.model import Condition, TrialData
from recordings.rows import check_code
from recordings.store import PROCESSED, RAW, Store

FORMATS = ("csv", "c3d")
_WRITERS = {"csv": csv_io.write_csv, "c3d": c3d_io.write_c3d}


def format_of(path: str | Path, fmt: str | None = None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".") or "csv").lower()
    if fmt in ("txt", "tsv"):
        fmt = "csv"
    if fmt not in FORMATS:
        raise InvalidParameterError("format", fmt, "csv or c3d")
    return fmt


def _scheme_only(info: StreamInfo) -> StreamInfo:
    """Drop the location from a source URL: a file path may carry a patient's name."""
    return info.replace(
        source=info.source.split("://", 1)[0] + "://" if "://" in info.source else ""
    )


def export_trial(
    store: Store, trial_id: int, path: str | Path, fmt: str | None = None, identified: bool = False
) -> Path:
    """Write one stored trial to ``path`` (format from ``fmt`` or the suffix)."""
    fmt = format_of(path, fmt)
    data = store.load_trial(trial_id)
    trial = data.trial
    patient = store.patient(trial.patient_code)
    session = store.session(trial.session_id)
    header: dict[str, Any] = {"patient": patient.code}
    if identified:
        header.update(name=patient.name or "", birth_year=patient.birth_year or "")
    header.update(
        sex=patient.sex or "",
        trial=trial.id,
        session=trial.session_id,
        session_started=session.started,
        protocol=trial.protocol,
        condition=trial.condition.label(),
        vision=trial.condition.vision,
        surface=trial.condition.surface,
        stance=trial.condition.stance,
        started=trial.started,
        ended=trial.ended or "",
        status=trial.status,
        filter=trial.parameters.get("filter")
        or data.info.geometry.get("filter")
        or "the live front-end's (see the processed stream description)",
        cues=" | ".join(trial.cues),
    )
    if identified:
        header["notes"] = trial.notes
    else:
        data.raw_info, data.info = _scheme_only(data.raw_info), _scheme_only(data.info)
    return _WRITERS[fmt](data, path, header)


def export_session(
    store: Store, session_id: int, folder: str | Path, fmt: str = "csv", identified: bool = False
) -> list[Path]:
    """Export every trial of a session into ``folder``, one file per trial."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fmt = format_of(f"x.{fmt}")
    return [
        export_trial(
            store, t.id, folder / f"session{session_id}_trial{t.id}.{fmt}", fmt, identified
        )
        for t in store.trials(session=session_id)
    ]


def read_file(path: str | Path, options: TableOptions | None = None) -> TrialData:
    """Read a trial file (C3D by its suffix, else a text table); see the readers' docs."""
    path = Path(path)
    options = options or TableOptions()
    if not path.is_file():
        raise DataFormatError(str(path), "no such file (or not a regular file)", "Check the path")
    if path.suffix.lower() == ".c3d":
        return c3d_io.read_c3d(path, options.max_bytes)
    if witmotion_sd.is_sd_log(path):
        return witmotion_sd.read_sd_log(path)
    return csv_io.read_csv(path, options)


def process(data: TrialData) -> TrialData:
    """Fill ``data.processed`` by running the live front-end over the raw stream, if missing."""
    if data.processed is not None:
        return data
    stages = default_stages(data.raw_info)
    info = configure_chain(stages, data.raw_info)
    if info.channel_names != ("x", "y", "fz"):
        raise DataFormatError(
            data.raw_info.source,
            f"the front-end turns a "
            f"'{data.raw_info.kind.value}' stream into {info.channel_names}, "
            "not sway",
            "Import a COP, force-plate or load-cell file",
        )
    data.info, data.processed = info, run_chain(stages, data.raw)
    return data


#: How an imported trial may have ended (a trial still recording is not a finished export).
_STATUSES = tuple(s.value for s in TrialStatus if s is not TrialStatus.RECORDING)
#: Header fields an import may take over, and the longest text each may hold.
_TEXT_FIELDS = {"protocol": 200, "vision": 40, "surface": 40, "stance": 200, "filter": 500}


def _when(path: Path, h: dict[str, Any], key: str) -> str | None:
    value = h.get(key)
    if value in (None, ""):
        return None
    try:
        when = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise DataFormatError(
            str(path),
            f"'{key}' is {str(value)[:40]!r}, not an ISO 8601 time with a zone",
            "Write it like 2026-05-01T09:30:00+00:00, or remove the line",
        )
    return when.isoformat()


def _plain_metrics(path: Path, metrics: Any) -> dict[str, Any]:
    """Stored metrics must be a flat dict of numbers/texts, plus dicts of them (units, notes)."""

    def ok(v: Any, depth: int) -> bool:
        if v is None or isinstance(v, (str, int, float)):
            return not isinstance(v, str) or len(v) <= 2000
        if isinstance(v, dict) and depth < 3:
            return all(isinstance(k, str) and ok(x, depth + 1) for k, x in v.items())
        if isinstance(v, list) and depth < 3:
            return all(ok(x, depth + 1) for x in v)
        return False

    if not isinstance(metrics, dict) or not ok(metrics, 0):
        raise DataFormatError(
            str(path),
            f"the stored metrics are not a table of numbers ({str(metrics)[:60]})",
            "Remove the '# metrics:' line (they are computed again) or export the trial again",
        )
    return metrics


def checked_import(path: str | Path, data: TrialData) -> dict[str, Any]:
    """Everything an import will write, checked: the header's fields, events and metrics.

    Returns the clean header fields (``started``, ``ended``, ``status``, ``condition``...).
    Raises :class:`DataFormatError` naming the field, before anything is stored.
    """
    path = Path(path)
    h = data.header
    if not isinstance(h, dict):
        raise DataFormatError(str(path), "damaged header", "Export the trial again")
    out: dict[str, Any] = {}
    for key, limit in _TEXT_FIELDS.items():
        value = h.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > limit or not value.isprintable():
            raise DataFormatError(
                str(path),
                f"'{key}' is not a line of at most {limit} printable characters",
                "Fix or remove that header line",
            )
        out[key] = value
    for key, allowed in (("vision", ("", "open", "closed")), ("surface", ("", "firm", "foam"))):
        if out[key] not in allowed:
            raise DataFormatError(
                str(path), f"'{key}' is {out[key][:30]!r}", f"One of {', '.join(allowed[1:])}"
            )
    out["condition"] = Condition(out["vision"], out["surface"], out["stance"])
    out["started"], out["ended"] = _when(path, h, "started"), _when(path, h, "ended")
    status = h.get("status") or "complete"
    if status not in _STATUSES:
        raise DataFormatError(
            str(path), f"status {str(status)[:30]!r}", f"One of {', '.join(_STATUSES)}"
        )
    out["status"] = status
    for e in data.events:
        if (
            not isinstance(e.kind, str)
            or not e.kind.isprintable()
            or not isinstance(e.payload, dict)
            or not np.isfinite(e.t)
        ):
            raise DataFormatError(
                str(path), f"damaged event {str(e)[:60]}", "Export the trial again"
            )
        if e.kind == "cue":  # its type is the core's, as when the recorder logged it
            said = e.payload.get("type", e.payload.get("mode", ""))
            try:
                CueType.parse(said if isinstance(said, str) else repr(said))
            except InvalidParameterError as err:
                raise DataFormatError(
                    str(path),
                    f"the cue at {e.t:g} s has the type {str(said)[:30]!r}",
                    f"Expected {err.expected}: fix the events line",
                ) from None
    out["metrics"] = _plain_metrics(path, data.metrics)
    for name, block, info in (
        ("raw", data.raw, data.raw_info),
        ("processed", data.processed, data.info),
    ):
        _table.check_fs(path, info.fs)
        if len(block) < 2:
            raise DataFormatError(str(path), f"fewer than 2 {name} samples", "Is it truncated?")
    return out


def import_file(
    store: Store,
    path: str | Path,
    patient: str,
    *,
    session_id: int | None = None,
    protocol: str | None = None,
    condition: Condition | None = None,
    options: TableOptions | None = None,
    chunk_s: float = 1.0,
) -> int:
    """Read ``path`` and store it as a new trial of ``patient`` (added if new); return its id.

    All or nothing: the file is read and checked completely first (samples, header fields,
    events, metrics), then the patient, session, trial, samples and events are written in one
    transaction. A bad file adds nothing, not even the patient. ``session_id`` defaults to a
    new session dated now.
    """
    check_code(patient)
    data = process(read_file(path, options))
    h = checked_import(path, data)
    # the file's metrics are kept (scores of a live run cannot be recomputed), but the facts of
    # the recording are those of the samples imported, never what the file claims
    metrics = dict(h["metrics"]) or trial_metrics(data.processed, data.info)
    metrics.update(measure_trial(data.processed, data.info).recording.to_dict())
    condition = condition or h["condition"]
    protocol = protocol or h["protocol"] or "imported"
    params = {"imported_from": Path(path).name, "filter": h["filter"]}
    params.update(data.header.get("import", {}))
    with store.transaction():
        store.ensure_patient(patient)
        if session_id is None:
            session_id = store.start_session(patient, notes=f"imported {Path(path).name}").id
        trial_id = store.begin_trial(
            session_id,
            data.raw_info,
            data.info,
            protocol=protocol,
            condition=condition,
            parameters=params,
            source_url=f"file://{Path(path).name}",
            status="complete",
            started=h["started"],
        )
        for stream, block, info in (
            (RAW, data.raw, data.raw_info),
            (PROCESSED, data.processed, data.info),
        ):
            for seq, part in enumerate(chunks.split(block, max(1, int(info.fs * chunk_s)))):
                store.append_chunk(trial_id, stream, seq, part)
        for e in data.events:
            store.add_event(trial_id, e.t, e.kind, e.payload)
        store.finish_trial(trial_id, h["status"], metrics, ended=h["ended"])
    return trial_id
