"""Write ``benchmarks/README.md`` from the stored results: goals, bench reports, drills, notes.

Inputs, all under ``benchmarks/``: ``results/benches.json`` (the last full ``run_all``),
``results/<drill>.json`` (the last run of each drill) and ``notes.md`` (hand-written reading of
the numbers, kept across runs).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks._report import Report, Row
from benchmarks.soak import samples_lost

FRAME_60HZ_MS = 1000 / 60


def load_reports(results: Path) -> tuple[dict, list[Report]]:
    path = results / "benches.json"
    if not path.exists():
        return {}, []
    meta = json.loads(path.read_text())
    reports = [
        Report(r["title"], r["command"], [Row(**row) for row in r["rows"]], r["headline"])
        for r in meta.pop("reports")
    ]
    return meta, reports


def load_drills(results: Path) -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text())
        for p in sorted(results.glob("*.json"))
        if p.stem != "benches"
    }


def _rows(reports: list[Report], prefix: str) -> list[Row]:
    return [row for rep in reports for row in rep.rows if row.name.startswith(prefix)]


def _status(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**met**" if ok else "**missed**")


def goals(reports: list[Report], drills: dict[str, dict]) -> list[tuple[str, str, str]]:
    """(goal, measured, status) for each budget of DESIGN.md section 8."""
    out = []
    chains = [r for r in _rows(reports, "") if "front-end chain, chunks of 10 @ 1 kHz" in r.name]
    worst = max(chains, key=lambda r: r.value, default=None)
    out.append(
        (
            "front-end < 1 % of a core at 1 kHz",
            f"{worst.value * 0.1:.2f} % ({worst.name.split(' front-end')[0]}, the costliest chain)"
            if worst
            else "",
            _status(None if worst is None else worst.value * 0.1 < 1.0),
        )
    )
    recv = _rows(reports, "pty 1000 Hz: bytes received -> processed, p99")
    out.append(
        (
            "bytes -> processed p99 < 2 ms (without the transport)",
            f"{recv[0].value:.2f} ms at 1 kHz over a pty" if recv else "",
            _status(recv[0].value < 2.0 if recv else None),
        )
    )
    screen = _rows(reports, "newest sample \u2192 on screen, p99")
    out.append(
        (
            "processed -> on screen within one 60 Hz frame",
            f"p99 {screen[0].value:.1f} ms (newest sample, offscreen)" if screen else "",
            _status(screen[0].value <= FRAME_60HZ_MS if screen else None),
        )
    )
    soak = drills.get("soak")
    done = bool(soak) and soak.get("state") == "done" and soak.get("planned_seconds", 0) >= 3600
    out.append(
        (
            "zero drops in the 1 h soak",
            f"{samples_lost(soak) if done else '?'} lost, {soak.get('db_raw_samples')} samples recorded "
            f"({soak.get('state')}, {soak.get('planned_seconds', 0) / 60:.0f} min)"
            if soak
            else "",
            _status(
                samples_lost(soak) == 0 and soak.get("db_aux_mismatches") == 0 if done else None
            ),
        )
    )
    start = _rows(reports, "warm start to the first drawn dashboard frame") or _rows(
        reports, "warm start to the first live sample"
    )
    out.append(
        (
            "warm start to a live dashboard < 3 s",
            f"{start[0].value:.2f} s ({start[0].name.split('to the ')[1].split(' (')[0]})"
            if start
            else "",
            _status(start[0].value < 3.0 if start else None),
        )
    )
    peer = _rows(reports, "peer's metrics (time + spectral groups), 30 s @ 100 Hz")
    ratio = peer[0].ratio if peer else None
    # DESIGN's reference trial is 30 s at 100 Hz; the 1 kHz (default settings) ratio is shown too
    khz = _rows(reports, "peer's metrics (time + spectral groups), 30 s @ 1000 Hz")
    at_khz = f"; {khz[0].ratio:.1f}x at 1 kHz" if khz and khz[0].ratio else ""
    status = _status(ratio >= 20 if ratio else None)
    if ratio and ratio >= 20 and khz and khz[0].ratio and khz[0].ratio < 20:
        status += " at 100 Hz; missed at 1 kHz (see the notes)"
    out.append(
        (
            "metrics >= 20x faster than the peer (micromotion)",
            f"{ratio:.1f}x at 100 Hz{at_khz}" if ratio else "",
            status,
        )
    )
    # One-shot commands as whole processes (issue 16): against the peer's script, medians.
    for label, prefix in (
        ("1 file", "nmr-balance analyze, 1 file (whole"),
        ("12 files", "nmr-balance analyze, 12 files (whole"),
    ):
        row = _rows(reports, prefix)
        ratio = row[0].ratio if row else None
        out.append(
            (
                f"analyze {label} >= 3x faster than the peer's script (whole process)",
                f"{ratio:.1f}x ({row[0].value:.2f} s vs {row[0].baseline:.2f} s)" if ratio else "",
                _status(ratio >= 3 if ratio else None),
            )
        )
    memory = [r for r in _rows(reports, "nmr-balance analyze, ") if r.unit == "MiB"]
    out.append(
        (
            "peak memory of analyze not above the peer's",
            ", ".join(f"{r.value:.0f} vs {r.baseline:.0f} MiB" for r in memory if r.baseline),
            _status(all(r.value <= r.baseline for r in memory) if memory else None),
        )
    )
    firsts = [r for r in _rows(reports, "nmr-balance ") if r.name.endswith("first sample")]
    out.append(
        (
            "any command's first sample < 1 s (warm)",
            "; ".join(
                f"{r.name.split(':')[0].replace('nmr-balance ', '')}: {r.value:.2f} s"
                for r in firsts
            ),
            _status(all(r.value < 1.0 for r in firsts) if firsts else None),
        )
    )
    return out


def _fmt_soak(d: dict) -> str:
    running = d.get("state") != "done"
    head = (
        f"{d['planned_seconds'] / 60:.0f} min at {d['rate_hz']:g} Hz x {d['channels']} ch, "
        f"recorder on, view: {d.get('view', 'headless console view')}. "
    )
    if running:
        last = d["per_bucket"][-1] if d.get("per_bucket") else {}
        return head + (
            f"STILL RUNNING at t = {last.get('t_s', 0):.0f} s: {last.get('samples')} "
            f"samples, {last.get('dropped')} dropped, RSS {d.get('rss_end_mb')} MB, "
            f"p99 per minute median {d.get('latency_p99_per_bucket_median_ms')} ms"
        )
    return head + (
        f"Lost {samples_lost(d)} (db counter gaps {d['db_counter_gaps']}, tail "
        f"{d['db_tail_missing']}, not recorded {d['pipeline_raw_samples'] - d['db_raw_samples']}; "
        f"pipeline's dropped count {d['pipeline_dropped']}); db holds counters "
        f"{d['db_first_counter']}..{d['db_last_counter']} of the {d['emulator_sent']} sent, "
        f"events {', '.join(d['db_events'])}, aux "
        f"mismatches {d['db_aux_mismatches']}, integrity {d['db_integrity']}. RSS "
        f"{d['rss_start_mb']} -> {d['rss_end_mb']} MB (max {d['rss_max_mb']}), slope "
        f"{d['rss_slope_mb_per_h_second_half']} MB/h over the second half. Write -> processed "
        f"p99 per minute: median {d['latency_p99_per_bucket_median_ms']} ms, worst "
        f"{d['latency_p99_per_bucket_max_ms']} ms, max {d['latency_max_ms']} ms; receive -> "
        f"processed p99 median {d.get('receive_p99_per_bucket_median_ms')} ms"
    )


def _fmt_unplug(d: dict) -> str:
    parts = [
        f"unplug every {d['every_s']:g} s for {d['down_s']:g} s over {d['seconds'] / 60:.0f} min."
    ]
    for k in ("serial", "ble"):
        r = d.get(k)
        if r:
            parts.append(
                f"{k}: {r['recovered']}/{r['unplugs']} recovered, reconnect median "
                f"{r['reconnect_s_median']} s, max {r['reconnect_s_max']} s after the device was "
                f"back; db events lost/back {r['db_device_lost_events']}/{r['db_device_back_events']}"
                f", gaps {r['db_signal_gaps']} samples; {r['samples_after_last_replug']} samples "
                f"recorded after the last replug; trial {r['trial_status']}."
            )
    return " ".join(parts)


def _fmt_sigkill(d: dict) -> str:
    return (
        f"{d['kills']} kills: every open clean (integrity_check) {d['all_open_clean']}, every "
        f"trial interrupted {d['all_interrupted']}; lost at most {d['lost_s_max']} s (median "
        f"{d['lost_s_median']} s); open + recover at most {d['open_and_recover_s_max']} s"
    )


def _fmt_fuzz(d: dict) -> str:
    text = "; ".join(
        f"{name}: {r['frames']:,} frames, {r['crashes']} crashes, "
        f"{r['frames_per_s']:,} frames/s, {r['samples_out']:,} samples kept"
        for name, r in d["decoders"].items()
    )
    if "files" in d:  # hostile files (CSV, C3D, TOML, exports)
        text += "; hostile files: " + ", ".join(
            f"{kind} {c['files']} ({c['refused']} refused, {c['accepted']} accepted, "
            f"{c['crashes']} crashes"
            + (f", {c['db_changed']} changed the database" if "db_changed" in c else "")
            + (
                f", {c['native_crashes']} C3D-library crashes contained"
                if c.get("native_crashes")
                else ""
            )
            + (f", {c['partial_files']} partial files" if "partial_files" in c else "")
            + ")"
            for kind, c in d["files"]["kinds"].items()
        )
    return text


FORMATS = {
    "soak": _fmt_soak,
    "drill_unplug": _fmt_unplug,
    "drill_sigkill": _fmt_sigkill,
    "drill_fuzz": _fmt_fuzz,
}


def drills_section(drills: dict[str, dict]) -> list[str]:
    lines = [
        "## Soak and fault drills",
        "",
        (
            "Scripts in `benchmarks/`, not in the CI suite; each prints its figures and stores "
            "them in `benchmarks/results/<drill>.json`. Last run of each:"
        ),
        "",
        "| drill | command | run (UTC), load average | figures | result |",
        "|---|---|---|---|---|",
    ]
    for name, d in drills.items():
        fmt = FORMATS.get(d.get("drill", name))  # e.g. soak-ui.json is a soak too
        if fmt is None:
            continue
        try:
            figures = fmt(d)
        except (KeyError, TypeError) as e:  # an older or partial file: say so, do not fail
            figures = f"(incomplete figures: {e})"
        ok = (
            d.get("ok")
            if d.get("drill") != "soak"
            else (
                samples_lost(d) == 0 and d.get("db_aux_mismatches") == 0
                if d.get("state") == "done"
                else None
            )
        )
        load = [
            f"{x:.1f}" if isinstance(x, float) else str(x)
            for x in (d.get("load_average_start"), d.get("load_average_end", "?"))
        ]
        lines.append(
            f"| {name} | `{d.get('command', '')}` | {d.get('started_utc', '')} -> "
            f"{d.get('ended_utc', 'running')}, {load[0]} -> {load[1]} | {figures} | "
            f"{'running' if ok is None else ('OK' if ok else 'FAILED')} |"
        )
    return lines + [""]


def write_readme(here: Path) -> None:
    results = here / "results"
    meta, reports = load_reports(results)
    drills = load_drills(results)
    parts = [
        "# Benchmarks",
        "",
        "Every figure is measured, never asserted by a timed test. Timings come with a baseline run in the",
        "same process (the plain NumPy/SciPy twin or a peer library); *ratio* = baseline / ours.",
        "",
        "Reproduce everything with `make bench` (runs `python -m benchmarks.run_all` and rewrites this file);",
        "`make bench-quick` runs small sizes in under a minute and prints the headline figures as JSON;",
        "`python -m benchmarks.run_all --readme` rewrites this file from `benchmarks/results/` after a drill.",
        "",
    ]
    if meta:
        parts += [
            (
                f"Last full run: {meta['run_utc']}, commit {meta['commit']}, {meta['seconds']} s, "
                f"load average {meta.get('load_average', '?')} (2 cores shared with other "
                "developers' jobs: latency tails and single timings move with it)."
            ),
            f"Machine: {meta['machine']}.",
            "",
        ]
        if meta.get("partial_reruns"):
            parts += [f"Re-run since (`run_all --only`): {'; '.join(meta['partial_reruns'])}.", ""]
    parts += [
        "## Goals (DESIGN.md section 8)",
        "",
        "| goal | measured (last run) | status |",
        "|---|---|---|",
    ]
    parts += [f"| {g} | {m} | {s} |" for g, m, s in goals(reports, drills)]
    parts += ["", "What is missed and why: see *Reading the numbers* below.", ""]
    parts += [r.markdown() for r in reports]
    if meta.get("failures"):
        parts += ["## Failed in the last run", ""] + [f"- {f}" for f in meta["failures"]] + [""]
    parts += drills_section(drills)
    notes = here / "notes.md"
    if notes.exists():
        parts += [notes.read_text()]
    (here / "README.md").write_text("\n".join(parts))
