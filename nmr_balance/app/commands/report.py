"""``nmr-balance report``: the session report (PDF), the documentation note, the CSV summary."""

from __future__ import annotations

import sys

from nmr_balance.app.commands._recordings import add_db_argument, open_store
from nmr_balance.errors import InvalidParameterError

NAME = "report"
HELP = "session report (PDF), CPT 97112 documentation note, CSV summary of all trials"
DESCRIPTION = """\
Make what a clinic files or hands out after a session:

  --pdf    the session report: results per condition, sway paths with their 95 % ellipse,
           sensory ratios, Limits of Stability, comparison with the previous session and the
           baseline, progress charts, minutes and units for the record.
  --note   the documentation note for the medical record (CPT 97112): body regions,
           exercises, sets/reps/durations, surface, cues, pain and exertion, progress, timed
           minutes and units. "-" prints it. Unsigned, it is a draft to review and sign
           (`nmr-balance sign`); signed, it is the text as signed, its addenda and a line
           checking it against its SHA-256 (an altered text is reported, exit status 1).
  --csv    every trial's metrics, one row per trial, for the clinic's own analysis.

The clinic header and the billing rule come from the station config (station.toml; see
--config): [clinic] name, address, phone, logo; [billing] units_rule = "cms_8_minute" (default)
or "ama_midpoint". Files are created readable by you only: they hold health data.

Examples:
  nmr-balance sessions --patient P001                 find the session id
  nmr-balance report --session 12 --pdf P001-s12.pdf --note P001-s12.txt
  nmr-balance report --session 12 --note -            print the note to copy and paste
  nmr-balance report --session 12 --note - --instruction-min 6   with 6 min of instruction
  nmr-balance report --csv summary.csv                all patients, all trials
  nmr-balance report --csv P001.csv --patient P001
"""


def add_arguments(parser) -> None:
    parser.add_argument("--session", type=int, metavar="ID", help="the session to report on")
    parser.add_argument("--pdf", metavar="PATH", help="write the session report here")
    parser.add_argument(
        "--note", metavar="PATH", help="write the documentation note here (- prints it)"
    )
    parser.add_argument("--csv", metavar="PATH", help="write the per-trial metrics summary here")
    parser.add_argument("--patient", metavar="CODE", help="with --csv: only this patient")
    parser.add_argument(
        "--instruction-min",
        type=float,
        metavar="MIN",
        help="instruction time you spent with the patient besides the trials "
        "(default: the recorded pauses between trials; never counted beyond the "
        "recorded visit)",
    )
    parser.add_argument(
        "--paper", choices=("letter", "a4"), default="letter", help="PDF page size (default letter)"
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="station config (default: station.toml in the user config folder, if present)",
    )
    add_db_argument(parser)


def run(args) -> int:
    from nmr_balance.reporting import load_report_config, write_summary_csv
    from recordings.report_data import summary_sessions

    if args.session is None and args.csv is None:
        raise InvalidParameterError(
            "--session",
            None,
            "a session id (with --pdf and/or --note), or --csv PATH for the summary",
            "nmr-balance report",
        )
    config = load_report_config(args.config)
    status = 0
    with open_store(args, create=False) as store:
        if args.session is not None:
            from ui.report.export import export_session_report

            if args.instruction_min is not None and store.session(args.session).signed:
                from nmr_balance.errors import SigningError

                raise SigningError(
                    f"session {args.session} is signed: its minutes are those of the signed "
                    "note, and --instruction-min cannot change them",
                    "Leave out --instruction-min; to correct the record, add an addendum "
                    f"(nmr-balance addendum --session {args.session} --by NAME --text ...)",
                )
            note_path = None if args.note in (None, "-") else args.note
            instruction_s = None if args.instruction_min is None else 60.0 * args.instruction_min
            made = export_session_report(
                store, args.session, args.pdf, note_path, config, args.paper, instruction_s
            )
            if args.note == "-" or (args.pdf is None and args.note is None):
                sys.stdout.write(made.note)
            for path in (made.pdf, made.note_path):
                if path is not None:
                    print(f"wrote {path}", file=sys.stderr)
            if made.signature is not None and not made.signature.intact:
                from nmr_balance.reporting.signature import tampered_line

                print(
                    f"nmr-balance: session {args.session}: {tampered_line(made.signature)}",
                    file=sys.stderr,
                )
                status = 1
        if args.csv is not None:
            n = write_summary_csv(summary_sessions(store, args.patient), args.csv)
            print(f"wrote {args.csv} ({n} trials)", file=sys.stderr)
    return status
