"""Moving trials between the store and files: export (CSV, C3D) and import (CSV, TSV, C3D).

Exports are pseudonymised unless ``identified=True``: the patient appears by code only; name,
birth year, free-text notes and file paths in source URLs are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nmr_balance.errors import DataFormatError, InvalidParameterError
from nmr_balance.frontend.sensors import default_stages
from nmr_balance.frontend.stage import configure_chain, run_chain
from nmr_balance.stream import StreamInfo
from recordings import _table, c3d_io, chunks, csv_io
from recordings.metrics import trial_metrics
from recordings.model import Condition, TrialData
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


def read_file(
    path: str | Path,
    columns: dict[str, str] | None = None,
    fs: float | None = None,
    max_bytes: int = _table.MAX_BYTES,
) -> TrialData:
    """Read a trial file (C3D by its suffix, else a text table); see the readers' docs."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(str(path), "no such file", "Check the path")
    if path.suffix.lower() == ".c3d":
        return c3d_io.read_c3d(path, max_bytes)
    return csv_io.read_csv(path, columns, fs, max_bytes)


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


def import_file(
    store: Store,
    path: str | Path,
    patient: str,
    *,
    session_id: int | None = None,
    protocol: str | None = None,
    condition: Condition | None = None,
    columns: dict[str, str] | None = None,
    fs: float | None = None,
    max_bytes: int = _table.MAX_BYTES,
    chunk_s: float = 1.0,
) -> int:
    """Read ``path`` and store it as a new trial of ``patient`` (added if new); return its id.

    Everything is written in one transaction: a bad file adds nothing. ``session_id`` defaults
    to a new session dated now.
    """
    data = process(read_file(path, columns, fs, max_bytes))
    metrics = data.metrics or trial_metrics(data.processed, data.info)
    h = data.header
    condition = condition or Condition(
        h.get("vision", ""), h.get("surface", ""), h.get("stance", "")
    )
    protocol = protocol or h.get("protocol") or "imported"
    params = {"imported_from": Path(path).name, "filter": h.get("filter", "")}
    store.ensure_patient(patient)
    with store.transaction():
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
            started=h.get("started") or None,
        )
        for stream, block, info in (
            (RAW, data.raw, data.raw_info),
            (PROCESSED, data.processed, data.info),
        ):
            for seq, part in enumerate(chunks.split(block, max(1, int(info.fs * chunk_s)))):
                store.append_chunk(trial_id, stream, seq, part)
        for e in data.events:
            store.add_event(trial_id, e.t, e.kind, e.payload)
        status = (
            h.get("status")
            if h.get("status") in ("complete", "aborted", "interrupted")
            else "complete"
        )
        store.finish_trial(trial_id, status, metrics, ended=h.get("ended") or None)
    return trial_id
