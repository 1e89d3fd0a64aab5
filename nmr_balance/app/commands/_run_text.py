"""What ``nmr-balance run`` prints for people: each event in words, each trial's key scores and the
protocol's results, rounded, with units (``--json`` prints the full results instead).

The trials' scores are their typed results (:meth:`nmr_balance.protocols.run.TrialResult.typed`)
and the protocol's results are the one session summary's block
(:func:`nmr_balance.summary.protocol_block`), both worded by the report
(:mod:`nmr_balance.reporting.results_text`): the terminal, the note and the PDF say the same
thing the same way.
"""

from __future__ import annotations

from typing import Any

from nmr_balance.reporting import fmt
from nmr_balance.reporting.results_text import block_lines, protocol_trial_line
from nmr_balance.summary import ProtocolBlock


def _n(value: Any, unit: str = "") -> str:
    text = fmt.number(value)
    return f"{text} {unit}".rstrip() if text != "-" else "-"


def event_line(e) -> str | None:
    """One event in words, or None for events a person need not see (rests, trial starts)."""
    d = e.data
    at = f"[{e.t_s:7.1f} s]"
    if e.kind == "step_started":
        attempt = f" (attempt {d['attempt']})" if d.get("attempt", 1) > 1 else ""
        return (
            f"\n{at} trial {e.trial + 1}/{d['of']}: {d['label'] or d['task']}{attempt}"
            f"\n    {d['instruction']}"
        )
    if e.kind == "target_hit":
        return f"{at} target {d['target'] + 1} reached and held after {_n(d['time_to_hit_s'], 's')}"
    if e.kind == "target_missed":
        return f"{at} target {d['target'] + 1} missed: not reached and held in time"
    if e.kind == "balance_lost":
        return f"{at} balance lost after {_n(d['after_s'], 's')}: {d['reason']}"
    if e.kind == "trial_interrupted":
        return f"{at} trial interrupted, not scored: {d['reason']}"
    if e.kind == "paused":
        return f"{at} paused ({d['reason']}): the trial starts over when the signal is back"
    if e.kind == "resumed":
        return f"{at} signal back: the trial starts over"
    if e.kind == "protocol_aborted":
        return f"{at} the run ended early: {d['reason']}"
    return None


def print_results(run, block: ProtocolBlock) -> None:
    """Each trial's line, then the protocol's results (``block``: the stored trials' block when
    the run was recorded, what the note and the PDF will say; else the run's own,
    :meth:`~nmr_balance.protocols.run.ProtocolRun.block`) in the report's words."""
    print(f"\n=== {run.protocol.title} ===")
    for r in run.results:
        print(protocol_trial_line(r, run.level, run.unit))
    lines = block_lines(block)
    interrupted = sum(r.status == "interrupted" for r in run.results)
    if interrupted:
        lines.append(f"{fmt.plural(interrupted, 'trial')} interrupted by the device: not scored")
    if block.los is not None and block.los.measured_note:
        lines.append(f"measured LOS {block.los.measured_note}")
    if lines:
        print("results (as the report and the note give them):")
        for line in lines:
            print("  " + line)
