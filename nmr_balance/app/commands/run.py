"""``nmr-balance run``: run a clinical test or training exercise headless and print the results."""

from __future__ import annotations

import contextlib
import json
import math
import pathlib
import sys

from nmr_balance.app.protocol_recording import (
    ProtocolRecorder,
    RecordedRun,
    check_pace,
    choose_level,
    patient_los,
)

NAME = "run"
HELP = "run a test or training protocol headless, with progress, and print the results"
DESCRIPTION = """\
Run one protocol (see `nmr-balance protocols`) on a source, without the dashboard: the
instructions and events are printed as they happen, a progress bar shows where the run is, and
the results (per trial and the protocol's summary) are printed at the end. Every trial is
recorded in the station database (samples, events, metrics and the protocol's scores; the
summary goes into the session notes) unless --no-record is given.

Targets are placed at a % of the patient's Limits of Stability: the LOS measured by the last
`los` run for this patient (stored per patient), or else the theoretical LOS from
--height. If the device drops out during a trial, that trial is marked interrupted (never scored)
and redone when the device is back.

Examples:
  nmr-balance run mctsib --source sim:// --patient P001
  nmr-balance run romberg --source "sim://?realtime=0" --patient P001 --no-record --json
  nmr-balance run los --source serial:///dev/ttyUSB0 --patient P001 --height 1.62
  nmr-balance run weight_shift --source sim:// --patient P001 --level 2
  nmr-balance run ./my_clinic_protocol.toml --source sim:// --patient P001
"""


def add_arguments(parser) -> None:
    parser.add_argument("protocol", help="protocol name (nmr-balance protocols) or a .toml file")
    parser.add_argument(
        "--source", default="sim://", metavar="URL", help="where samples come from (default sim://)"
    )
    parser.add_argument(
        "--patient", required=True, metavar="CODE", help="pseudonymous patient code"
    )
    parser.add_argument(
        "--level",
        type=int,
        default=None,
        metavar="N",
        help="difficulty level, 1 = easiest (training protocols with levels); default: from the "
        "patient's recorded trials and the protocol's progression rule (level 1 at first)",
    )
    parser.add_argument(
        "--height",
        type=float,
        default=1.70,
        metavar="M",
        help="patient height in m, for the theoretical LOS (default 1.70)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random order / random targets seed")
    parser.add_argument(
        "--data-dir",
        type=pathlib.Path,
        default=None,
        metavar="FOLDER",
        help="where patients' measured LOS are kept (default: the data directory)",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="the station database the trials are recorded in (default: the data directory)",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not record: only print the results (needed for sources faster than real time)",
    )
    parser.add_argument("--therapist", default="", help="stored with the session")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or event log")


def _fmt(v) -> str:
    if isinstance(v, float):
        return "--" if not math.isfinite(v) else f"{v:.3g}"
    return str(v)


def _print_event(e) -> None:
    d = e.data
    if e.kind == "step_started":
        attempt = f" (attempt {d['attempt']})" if d["attempt"] > 1 else ""
        print(
            f"\n[{e.t_s:7.1f} s] trial {e.trial + 1}/{d['of']}: {d['label'] or d['task']}{attempt}"
            f"\n    {d['instruction']}"
        )
    elif e.kind in (
        "target_hit",
        "target_missed",
        "balance_lost",
        "trial_interrupted",
        "paused",
        "resumed",
        "protocol_aborted",
    ):
        detail = ", ".join(f"{k} {_fmt(v)}" for k, v in d.items() if k != "result")
        print(f"[{e.t_s:7.1f} s] {e.kind.replace('_', ' ')}{': ' + detail if detail else ''}")


def _print_results(run) -> None:
    print(f"\n=== {run.protocol.title} ===")
    for r in run.results:
        scores = ", ".join(
            f"{k} {_fmt(v)}" for k, v in r.scores.items() if isinstance(v, (int, float, bool))
        )
        reason = f" {r.reason}" if r.reason else ""
        print(f"trial {r.number + 1} {r.label or r.task} [{r.status}]{reason}: {scores}")
    if run.summary:
        print("summary:")
        print(
            json.dumps({k: v for k, v in run.summary.items() if k != "los"}, indent=1, default=_fmt)
        )


def run(args) -> int:
    # imported here: `nmr-balance --help` stays quick and works without the metric kernels
    from nmr_balance.app import open_source
    from nmr_balance.instruction import Instruction
    from nmr_balance.pipeline import Pipeline
    from nmr_balance.protocols.engine import ProtocolRun, planned_seconds
    from nmr_balance.protocols.library import find
    from nmr_balance.protocols.patient_los import load_los
    from nmr_balance.protocols.runner import StatusLog, run_on_pipeline
    from recordings import Store

    protocol = find(args.protocol)
    source = open_source(args.source)
    if not args.no_record:
        check_pace(source)
    with contextlib.ExitStack() as stack:
        store = None if args.no_record else stack.enter_context(Store.open(args.db))
        # a bad level or a damaged LOS file fails before the device is started
        level, why = choose_level(store, args.patient, protocol, args.level)
        load_los(args.patient, args.data_dir)
        pipeline = Pipeline(
            source, ring_seconds=max(120.0, 3 * planned_seconds(protocol, level) + 60)
        )
        status = StatusLog(pipeline)  # before start: no status event is missed
        # before start: a simulator faster than real time waits for the run instead of running
        # ahead of it (the patient stands and waits to be told what to do)
        source.instruct(Instruction(t_s=0.0))
        stack.enter_context(pipeline)
        los = patient_los(
            args.patient, pipeline.info.units[pipeline.info.index("x")], args.height, args.data_dir
        )
        if not args.quiet and not args.json:
            print(
                f"{protocol.title} for {args.patient} on {source.url}; LOS: {los.origin}"
                + (f"; level {level + 1}" if protocol.levels else "")
                + (f" ({why})" if why else "")
            )
        runner = ProtocolRun(protocol, pipeline.info, level=level, los=los, seed=args.seed)
        sinks = [] if args.quiet or args.json else [_print_event]
        recorder = None
        if store is not None:
            patient, _ = store.ensure_patient(args.patient)
            session = store.start_session(patient.code, therapist=args.therapist)
            recorder = ProtocolRecorder(store, pipeline, session.id, protocol, level)
        recorded = RecordedRun(runner, recorder, args.patient, args.data_dir)
        sinks.append(recorded.on_event)
        try:
            run_on_pipeline(
                runner,
                pipeline,
                lambda e: [sink(e) for sink in sinks],
                progress=not args.quiet and sys.stderr.isatty(),
                status=status,
            )
        finally:
            recorded.finish()
    if recorder is not None and not args.json:
        print(f"recorded {len(recorder.trial_ids)} trials (session {session.id}) in {store.path}")
    if recorded.los_path is not None and not args.json:
        print(f"measured LOS stored for {args.patient}: {recorded.los_path}")
    if args.json:
        print(
            json.dumps(
                {
                    "protocol": protocol.name,
                    "patient": args.patient,
                    "level": level + 1,
                    "level_reason": why,
                    "trials": [r.to_dict() for r in runner.results],
                    "recorded_trial_ids": recorded.trial_ids,
                    "summary": runner.summary,
                },
                indent=1,
                default=lambda v: None,
            )
        )
    else:
        _print_results(runner)
    return 0 if runner.phase == "done" else 1
