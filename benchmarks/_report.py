"""What a benchmark returns: rows of figures, each with its same-run baseline where one exists.

Every timing is reported as an absolute figure plus a ratio against a baseline measured in the
same process (the plain NumPy/SciPy twin, or a peer library). ``headline`` holds the few figures
that ``make bench-quick`` prints as JSON.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable


@dataclasses.dataclass
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None = None  # same unit, measured in the same run
    baseline_name: str = ""
    goal: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """How many times faster than the baseline (baseline / value), for timings."""
        if self.baseline is None or not self.value:
            return None
        return self.baseline / self.value


@dataclasses.dataclass
class Report:
    title: str
    command: str
    rows: list[Row] = dataclasses.field(default_factory=list)
    headline: dict[str, float] = dataclasses.field(default_factory=dict)

    def add(self, *args, **kw) -> Row:
        row = Row(*args, **kw)
        self.rows.append(row)
        return row

    def markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            f"`{self.command}`",
            "",
            "| measure | value | baseline (same run) | ratio | goal | note |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            base = (
                f"{r.baseline:.4g} {r.unit} ({r.baseline_name})" if r.baseline is not None else ""
            )
            ratio = f"{r.ratio:.1f}x" if r.ratio is not None else ""
            lines.append(
                f"| {r.name} | {r.value:.4g} {r.unit} | {base} | {ratio} | {r.goal} | {r.note} |"
            )
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        out = [f"== {self.title}"]
        for r in self.rows:
            extra = f"  vs {r.baseline:.4g} ({r.baseline_name}) = {r.ratio:.1f}x" if r.ratio else ""
            out.append(f"  {r.name:<48} {r.value:>12.4g} {r.unit:<10}{extra}")
        return "\n".join(out)


def best_time(
    fn: Callable[[], object], repeat: int = 7, number: int | None = None, warm: bool = False
) -> float:
    """Best per-call wall time of ``fn`` in seconds (auto-picks ``number`` to run >= 20 ms;
    ``warm`` calls ``fn`` once, untimed, first)."""
    if warm:
        fn()
    if number is None:
        number = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if time.perf_counter() - t0 > 0.02 or number >= 1_000_000:
                break
            number *= 4
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best
