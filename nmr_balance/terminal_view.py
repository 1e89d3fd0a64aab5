"""The headless terminal view: live COP (or tilt), rate, drops and latency in a terminal.

Used by ``nmr-balance live`` without a display and by ``make demo`` on a server. It is a
consumer like any other: it reads the processed ring at its own pace (here 4 times a second).
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from nmr_balance.pipeline import Pipeline
from nmr_balance.source import StatusEvent


def _fmt(v: float, unit: str) -> str:
    return f"{v:+7.1f} {unit}" if math.isfinite(v) else f"{'--':>7} {unit}"


def status_line(pipeline: Pipeline) -> str:
    """One line: newest position, load, rate, drops, latency."""
    s = pipeline.stats()
    info = pipeline.info
    latest = pipeline.processed.latest(1)
    x = y = fz = float("nan")
    if len(latest):
        x, y = latest.data[0, 0], latest.data[0, 1]
        fz = latest.data[0, 2] if info.n_channels > 2 else float("nan")
    unit_x, unit_y = info.units[0], info.units[1] if info.n_channels > 1 else ""
    names = info.channel_names
    load = (
        f"  {names[2]} {fz:6.0f} {info.units[2]}"
        if info.n_channels > 2 and math.isfinite(fz)
        else ""
    )
    rate = f"{s.rate_hz:7.1f} Hz" if math.isfinite(s.rate_hz) else "    -- Hz"
    lat = (
        f"latency p50 {s.latency_p50_ms:.2f} p99 {s.latency_p99_ms:.2f} max {s.latency_max_ms:.2f} ms"
        if math.isfinite(s.latency_p50_ms) and pipeline.source.host_time_is_receipt
        else "latency --"
    )
    return (
        f"{names[0]} {_fmt(x, unit_x)}  {names[1] if len(names) > 1 else ''} {_fmt(y, unit_y)}{load}"
        f" | {rate} | dropped {s.dropped} | {lat}"
    )


def print_events(
    events: list[StatusEvent], out: TextIO | None = None, clear_line: bool = False
) -> None:
    """One line per status change: time, status, message."""
    out = out or sys.stdout
    for e in events:
        if clear_line:
            out.write("\r\x1b[K")
        out.write(f"{time.strftime('%H:%M:%S')} [{e.status.value}] {e.message}\n")


def _latency(pipeline: Pipeline) -> str:
    """The latency figures, or why there are none (a replay's host times are recorded ones)."""
    s = pipeline.stats()
    if not pipeline.source.host_time_is_receipt:
        return "latency not measured (a replay keeps the recorded receive times)"
    if not math.isfinite(s.latency_p50_ms):
        return "latency --"
    return (
        f"latency p50 {s.latency_p50_ms:.2f} ms / p99 {s.latency_p99_ms:.2f} ms / "
        f"max {s.latency_max_ms:.2f} ms"
    )


def run_console(
    pipeline: Pipeline,
    duration_s: float | None = None,
    out: TextIO | None = None,
    interval_s: float = 0.25,
) -> dict:
    """Show the running pipeline until ``duration_s`` passes, the source ends, or Ctrl-C.

    Returns a summary dict (samples, seconds, rate, dropped, latency figures).
    """
    out = out or sys.stdout
    live = out.isatty()
    t0 = time.monotonic()
    last_print = 0.0

    def show_events(events: list[StatusEvent]) -> None:
        print_events(events, out, clear_line=live)

    try:
        while True:
            show_events(pipeline.events())
            now = time.monotonic()
            if duration_s is not None and now - t0 >= duration_s:
                break
            if not pipeline.running:
                break
            if live:
                out.write("\r\x1b[K" + status_line(pipeline))
            elif now - last_print >= 1.0:
                out.write(status_line(pipeline) + "\n")
                last_print = now
            out.flush()
            time.sleep(
                interval_s
                if duration_s is None
                else min(interval_s, max(0.0, t0 + duration_s - now))
            )
    except KeyboardInterrupt:
        pass
    if live:
        out.write("\n")
    show_events(pipeline.events())
    if pipeline.error is not None:
        out.write(f"acquisition stopped: {pipeline.error}\n")
    s = pipeline.stats()
    elapsed = time.monotonic() - t0
    summary = {
        "samples": s.samples,
        "seconds": elapsed,
        "rate_hz": s.rate_hz,
        "dropped": s.dropped,
        "latency_p50_ms": s.latency_p50_ms,
        "latency_p99_ms": s.latency_p99_ms,
        "latency_max_ms": s.latency_max_ms,
    }
    out.write(
        f"{s.samples} samples in {elapsed:.1f} s, {s.dropped} dropped, {_latency(pipeline)}\n"
    )
    out.flush()
    return summary


def has_display() -> bool:
    """True when a window can be shown (always on Windows/macOS; X11 or Wayland on Linux)."""
    import os

    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


__all__ = ["has_display", "print_events", "run_console", "status_line"]
