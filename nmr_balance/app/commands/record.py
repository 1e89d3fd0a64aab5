"""``nmr-balance record``: record one trial headless, with a progress bar."""

from __future__ import annotations

import platform
import sys
import time

from nmr_balance.app.commands._recordings import (
    add_db_argument,
    continued_session,
    open_store,
    print_metrics,
)
from nmr_balance.errors import InvalidParameterError

NAME = "record"
HELP = "record a trial from a sensor (or the simulator) into the station database"
DESCRIPTION = """\
Record one trial without the dashboard: the source streams through the live pipeline, raw and
processed samples are committed to the database at least every second (a crash loses at most
the last second), and the trial's metrics are printed at the end. Ctrl-C stops early and keeps
what was recorded as an "aborted" trial. A device that stops sending or is lost for good (no
signal for 3 s) ends the trial as "interrupted", with an event saying why and how much signal was
kept; the command then says so and exits with status 1 (130 after Ctrl-C).

The patient is given by pseudonymous code (added if new). Each run starts a new session unless
--session continues one; --note stores your note with the trial (it appears in the report).
A source faster than real time (sim://?realtime=0) is recorded by sample time: a 30 s trial
takes a moment.

Examples:
  nmr-balance record --source sim:// --patient P001 --duration 30
  nmr-balance record --source "sim://?vision=closed&surface=foam" --patient P001 \\
      --protocol mctsib --condition eyes_closed,foam --duration 30
  nmr-balance record --source serial:///dev/ttyUSB0?protocol=nmr --patient P001 --session 7 \
      --note "Pt reports mild dizziness at 20 s"
  nmr-balance trials --patient P001          then: nmr-balance replay TRIAL_ID
"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--source",
        default="sim://",
        metavar="URL",
        help="where samples come from (default sim://; `nmr-balance sources`)",
    )
    parser.add_argument(
        "--patient", required=True, metavar="CODE", help="pseudonymous patient code, e.g. P001"
    )
    parser.add_argument(
        "--protocol",
        default="free",
        help="protocol the trial belongs to (default: free, a quiet stance); a target exercise "
        "such as free_targets is run with `nmr-balance run`",
    )
    parser.add_argument(
        "--condition",
        default="",
        help="eyes_open|eyes_closed, firm|foam and a stance, comma-separated",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=30.0,
        metavar="S",
        help="trial length in seconds (default 30)",
    )
    parser.add_argument(
        "--session", type=int, metavar="ID", help="add to this session of the patient"
    )
    parser.add_argument(
        "--note", metavar="TEXT", default="", help="your note for this trial, in your words"
    )
    parser.add_argument("--therapist", default="", help="for a new session")
    parser.add_argument(
        "--station", default=None, help="for a new session (default: this computer's name)"
    )
    add_db_argument(parser)


def run(args) -> int:
    from tqdm import tqdm

    from nmr_balance.app import open_source
    from nmr_balance.app.protocol_recording import faster_than_real_time
    from nmr_balance.app.warm import FRONT_END, warm_kernels
    from nmr_balance.pipeline import Pipeline
    from nmr_balance.protocols.library import check_single_trial
    from recordings import Condition
    from recordings.recorder import Recorder

    if not args.duration > 0:  # before anything is written
        raise InvalidParameterError("--duration", args.duration, "a positive number of seconds")
    check_single_trial(args.protocol, "--protocol")  # a target exercise needs its run
    condition = Condition.parse(args.condition)
    source = open_source(args.source)  # a bad URL fails before anything is written
    warm_kernels(only=FRONT_END)  # the trial's metrics at the end need no kernel (dsp.metrics)
    with open_store(args) as store:
        patient, added = store.ensure_patient(args.patient)
        if added:
            print(f"new patient {patient.code} added")
        session = continued_session(store, args.session, patient) or store.start_session(
            patient.code, therapist=args.therapist, station=args.station or platform.node()
        )
        fast = faster_than_real_time(source)
        ring_s = max(120.0, args.duration + 10.0)
        with Pipeline(source, ring_seconds=ring_s, pull=fast) as pipeline:
            recorder = Recorder(
                store,
                pipeline,
                session.id,
                protocol=args.protocol,
                condition=condition,
                from_start=True,
                parameters={"duration_s": args.duration},
                duration_s=args.duration,
            )  # ends it at the exact sample
            trial_id = recorder.start()
            if fast:
                _pump(pipeline, args.duration)
            status = _wait(pipeline, recorder, args.duration, tqdm)
            metrics = recorder.stop(status)
        for notice in recorder.notices:  # e.g. the clinic's server went away mid-trial
            print(f"note: {notice}", file=sys.stderr)
        if not recorder.online:
            print("trial complete in this station's file; the server holds its first part")
            print_metrics(metrics)
            return 0
        if args.note:
            store.set_trial_notes(trial_id, args.note)
        trial = store.trial(trial_id)
    print(
        f"trial {trial_id} ({trial.status}) of patient {patient.code}, session {session.id}, "
        f"{recorder.n_processed} samples -> {store.path}"
    )
    print_metrics(metrics)
    if trial.status == "interrupted":
        print(
            f"nmr-balance: trial {trial_id} is incomplete: {recorder.end_reason}\n"
            "  Check the sensor's cable, power and Bluetooth link, then record the trial again",
            file=sys.stderr,
        )
        return 1
    return 0 if trial.status == "complete" else 130


def _pump(pipeline, duration_s: float) -> None:
    """Pull mode: read the source until the trial's duration of samples is in the rings (the
    recorder keeps exactly that much, by sample counter) or the source ends."""
    need = round(duration_s * pipeline.info.fs) + 1
    need_raw = round(duration_s * pipeline.raw_info.fs) + 1
    while pipeline.running and (
        pipeline.processed.written < need or pipeline.raw.written < need_raw
    ):
        pipeline.pump()


def _wait(pipeline, recorder, duration_s: float, tqdm) -> str:
    """Show progress until the recorder has its duration of signal, the source ends or Ctrl-C;
    return the status."""
    from recordings.recorder import STALL_GRACE_S

    t0 = time.monotonic()

    def recorded_s() -> float:
        return round(min(recorder.n_processed / pipeline.info.fs, duration_s), 1)

    with tqdm(
        total=round(duration_s, 1),
        unit="s",
        desc="recording",
        bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s {postfix}",
    ) as bar:
        try:
            while recorder.recording:
                bar.n = recorded_s()
                bar.set_postfix_str(f"{recorder.n_processed} samples", refresh=True)
                if not pipeline.running or time.monotonic() - t0 > duration_s + STALL_GRACE_S:
                    break  # the source ended, or (last resort) the signal stalled: the
                    # recorder tells whether the trial got its duration of signal
                time.sleep(0.1)
            bar.n = recorded_s()
        except KeyboardInterrupt:
            return "aborted"
    return "complete"
