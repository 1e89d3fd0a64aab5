"""``nmr-balance trials``: list recorded trials."""

from __future__ import annotations

from nmr_balance.app.commands._recordings import (
    add_db_argument,
    add_format_argument,
    open_store,
    print_rows,
)

NAME = "trials"
HELP = "list recorded trials (status, condition, duration, key metrics)"
DESCRIPTION = """\
List trials, oldest first. Status is complete, aborted (stopped by the user or a full disk),
interrupted (the device stopped sending or was lost before the planned end, or the recording
process died; what was committed is kept) or recording.

The table shows each trial's key result (the LOS excursion and control, targets hit and
level, a fall, or the mean sway velocity); --format json gives every trial's typed results under
"results" (LOS per direction and composite, training hits/targets/time in target/level, the
stand outcome, the sway metrics with their units) and the stored metrics under "metrics".

Examples:
  nmr-balance trials
  nmr-balance trials --patient P001 --status complete
  nmr-balance trials --session 4 --format json | jq '.[].results.los.composite'
  nmr-balance trials --session 4 --format json | jq '.[].metrics.path_length'
"""


def add_arguments(parser) -> None:
    add_db_argument(parser)
    add_format_argument(parser)
    parser.add_argument("--patient", metavar="CODE")
    parser.add_argument("--session", type=int, metavar="ID")
    parser.add_argument("--status", choices=("recording", "complete", "aborted", "interrupted"))


def run(args) -> int:
    from nmr_balance.app.commands._recordings import signed_text
    from nmr_balance.reporting.results_text import trial_headline
    from nmr_balance.summary import trial_results_json

    with open_store(args, create=False) as store:
        trials = store.trials(session=args.session, patient=args.patient, status=args.status)
        signed = {s.id: s for s in store.sessions(args.patient) if s.signed}
    rows = []
    for t in trials:
        rows.append(
            {
                "id": t.id,
                "patient": t.patient_code,
                "session": t.session_id,
                "signed": signed_text(signed.get(t.session_id)),
                "protocol": t.protocol,
                "condition": t.condition.label(),
                "vision": t.condition.vision,
                "surface": t.condition.surface,
                "stance": t.condition.stance,
                "started": t.started,
                "ended": t.ended,
                "status": t.status.value,
                "level": t.level,
                "result": trial_headline(t.results, t.unit),
                "source": t.source_url,
                "fs_hz": t.raw_info.fs,
                "sensor": t.raw_info.kind.value,
                "duration_s": t.metrics.get("duration_s"),
                "cues": t.cues,
                "notes": t.notes,
                "parameters": t.parameters,
                "results": trial_results_json(t),
                "metrics": t.metrics,
            }
        )
    print_rows(
        rows,
        args.format,
        (
            "id",
            "patient",
            "session",
            "protocol",
            "condition",
            "sensor",
            "started",
            "duration_s",
            "status",
            "signed",
            "result",
        ),
    )
    return 0
