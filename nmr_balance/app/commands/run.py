"""``nmr-balance run``: run a clinical test or training exercise headless and print the results."""

from __future__ import annotations

import contextlib
import json
import math
import pathlib
import platform
import sys

from nmr_balance.app.commands._recordings import add_db_argument

NAME = "run"
HELP = "run a test or training protocol headless, with progress, and print the results"
DESCRIPTION = """\
Run one protocol (see `nmr-balance protocols`) on a source, without the dashboard: the
instructions and events are printed as they happen, a progress bar shows where the run is, and
the results (per trial and the protocol's summary) are printed at the end. Every trial is
recorded in the station database (samples, events, metrics and the protocol's scores) unless
--no-record is given; --session adds the trials to an open session (a visit with several
tests and exercises), --note stores your note with the last trial.

A source faster than real time (sim://?realtime=0, a replay at speed > 1) runs at the pace of
the run and is recorded by sample time, so a whole session is made in seconds (demos, tests,
training of staff).

Targets are placed at a % of the patient's Limits of Stability: the LOS measured by the last
`los` run for this patient (stored per patient), or else the theoretical LOS from
--height. If the device drops out during a trial (lost, or no signal for --stall-timeout
seconds with the port still open), that trial is marked interrupted (never scored) and redone
when the signal is back; with no signal for --give-up seconds the run ends (exit status 1).

Examples:
  nmr-balance run mctsib --source sim:// --patient P001
  nmr-balance run romberg --source "sim://?realtime=0" --patient P001 --no-record --json
  nmr-balance run mctsib --source "sim://?realtime=0" --patient P001 --session 12 \
      --note "Pt reports mild dizziness at 20 s"
  nmr-balance run los --source serial:///dev/ttyUSB0 --patient P001 --height 1.62
  nmr-balance run weight_shift --source sim:// --patient P001 --level 2
  nmr-balance run free_targets --source sim:// --patient P001 --target-scale 1.5 --dwell-scale 1.5
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
        "--target-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply a training protocol's target radius (0.5-3; e.g. 1.5 for seniors, as the "
        "console's seniors preset); stored with each trial. Tests are standardized: refused",
    )
    parser.add_argument(
        "--dwell-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply the time inside a target that makes a hit (0.5-3); as --target-scale",
    )
    parser.add_argument(
        "--data-dir",
        type=pathlib.Path,
        default=None,
        metavar="FOLDER",
        help="where patients' measured LOS are kept (default: the data directory)",
    )
    add_db_argument(parser)
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not record: only print the results (needed for sources faster than real time)",
    )
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=3.0,
        metavar="S",
        help="no signal for this long interrupts the trial, redone when the signal is back "
        "(default 3)",
    )
    parser.add_argument(
        "--give-up",
        type=float,
        default=30.0,
        metavar="S",
        help="no signal for this long ends the run (default 30)",
    )
    parser.add_argument(
        "--session",
        type=int,
        metavar="ID",
        help="add the trials to this session of the patient (default: start a new session)",
    )
    parser.add_argument(
        "--note",
        metavar="TEXT",
        default="",
        help="your note for this run, in your words (stored with its last trial; it appears "
        "in the report and the documentation note)",
    )
    parser.add_argument("--therapist", default="", help="stored with a new session")
    parser.add_argument(
        "--station", default=None, help="stored with a new session (default: this computer's name)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or event log")


def _results_block(store, trial_ids: list[int], runner):
    """The run's results by the one session summary: of the trials just recorded, read back
    from the store (what the note and the PDF will say), or of the trials in memory when
    nothing was recorded (``--no-record``)."""
    from recordings.report_data import run_block

    block = run_block(store, trial_ids) if store is not None and trial_ids else None
    return block if block is not None else runner.block()


def _print_event_line(e) -> None:
    from nmr_balance.app.commands._run_text import event_line

    line = event_line(e)
    if line is not None:
        print(line)


def run(args) -> int:
    # imported here: `nmr-balance --help` stays quick and works without the metric kernels
    from nmr_balance.app import open_source
    from nmr_balance.app.commands._recordings import continued_session
    from nmr_balance.app.commands._run_text import print_results
    from nmr_balance.app.protocol_recording import (
        ProtocolRecorder,
        RecordedRun,
        choose_level,
        faster_than_real_time,
        patient_los,
    )
    from nmr_balance.app.warm import FRONT_END, warm_kernels
    from nmr_balance.errors import InvalidParameterError
    from nmr_balance.pipeline import Pipeline
    from nmr_balance.protocols.library import find
    from nmr_balance.protocols.patient_los import load_los
    from nmr_balance.protocols.run import ProtocolRun, planned_seconds
    from nmr_balance.protocols.runner import StatusLog, run_on_pipeline
    from nmr_balance.protocols.scaling import TargetScaling
    from recordings import Store

    for name, value in (("--stall-timeout", args.stall_timeout), ("--give-up", args.give_up)):
        if not 0 < value < math.inf:
            raise InvalidParameterError(name, value, "a positive number of seconds")
    protocol = find(args.protocol)
    protocol.check_level(args.level)  # a level it does not have: said before anything opens
    scaling = TargetScaling(args.target_scale, args.dwell_scale)  # a bad scale: said here too
    if not scaling.standard and protocol.kind != "training":
        raise InvalidParameterError(
            "--target-scale" if args.target_scale != 1.0 else "--dwell-scale",
            args.target_scale if args.target_scale != 1.0 else args.dwell_scale,
            f"1 (no scaling): {protocol.name} is a standardized test, its targets are never scaled",
        )
    source = open_source(args.source)
    with contextlib.ExitStack() as stack:
        store = None if args.no_record else stack.enter_context(Store.open(args.db))
        # a bad level, session or LOS file fails before the device is started
        level, why = choose_level(store, args.patient, protocol, args.level)
        load_los(args.patient, args.data_dir)
        session = None
        if store is not None:
            patient, _ = store.ensure_patient(args.patient)
            session = continued_session(store, args.session, patient)
        # Front-end and training kernels, with a progress bar on a first run (compiling); the
        # trials' sway metrics need none (dsp.metrics runs the NumPy twins unless loaded).
        warm_kernels(only=(*FRONT_END, "live"))
        pipeline = Pipeline(
            source,
            ring_seconds=max(120.0, 3 * planned_seconds(protocol, level) + 60),
            pull=faster_than_real_time(source),
        )
        status = StatusLog(pipeline)  # before start: no status event is missed
        stack.enter_context(pipeline)
        los = patient_los(
            args.patient, pipeline.info.units[pipeline.info.index("x")], args.height, args.data_dir
        )
        if not args.quiet and not args.json:
            print(
                f"{protocol.title} for {args.patient} on {source.url}; LOS: {los.origin}"
                + (f"; level {level} of {len(protocol.levels)}" if level is not None else "")
                + (f" ({why})" if why else "")
                + (
                    f"; targets x{scaling.target_scale:g}, dwell x{scaling.dwell_scale:g}"
                    if not scaling.standard
                    else ""
                )
            )
        runner = ProtocolRun(
            protocol, pipeline.info, level=level, los=los, seed=args.seed, scaling=scaling
        )
        sinks = [] if args.quiet or args.json else [_print_event_line]
        recorder = None
        if store is not None:
            if session is None:
                session = store.start_session(
                    patient.code,
                    therapist=args.therapist,
                    station=args.station or platform.node(),
                )
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
                stall_timeout_s=args.stall_timeout,
                give_up_s=args.give_up,
            )
        finally:
            recorded.finish()
        if store is not None and args.note and recorded.trial_ids:
            store.set_trial_notes(recorded.trial_ids[-1], args.note)
        block = _results_block(store, recorded.trial_ids, runner)
    if recorder is not None and not args.json:
        print(f"recorded {len(recorder.trial_ids)} trials (session {session.id}) in {store.path}")
    if recorded.los_path is not None and not args.json:
        print(f"measured LOS stored for {args.patient}: {recorded.los_path}")
    if args.json:
        from nmr_balance.summary import block_json, jsonable

        print(
            json.dumps(
                jsonable(
                    {
                        "protocol": protocol.name,
                        "patient": args.patient,
                        "level": level,
                        "level_reason": why,
                        "trials": [r.to_dict() for r in runner.results],
                        "recorded_trial_ids": recorded.trial_ids,
                        "target_los": runner.los.to_dict(),
                        "summary": block_json(block),
                    }
                ),
                indent=1,
                allow_nan=False,
                default=lambda v: None,
            )
        )
    else:
        print_results(runner, block)
    return 0 if runner.phase == "done" else 1
