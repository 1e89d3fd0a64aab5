"""Protocol definitions: what a TOML protocol file may say, and its validation.

A protocol is data (DESIGN.md §6): a list of steps, each one trial of a *task* (quiet standing,
single-leg stance, Limits of Stability, target reaching, tracking, maze, circles) with its
instruction, countdown, duration, condition, target layout, rest and repetitions, plus optional
difficulty levels and a progression rule. Every length is a percentage of the patient's Limits
of Stability (``*_pct``), so one definition works for a force plate (mm) and a wobble board
(deg), for a child and for an athlete. The format is documented in ``docs/protocols.md``.

Validation happens once, on load; every message names the file, the step (1-based), the field,
what was expected and what was found (:class:`~nmr_balance.errors.ProtocolError`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import re
import stat
import tomllib
import unicodedata
from typing import Any

from nmr_balance.errors import InvalidParameterError, ProtocolError

TASKS = (
    "stand",
    "single_leg",
    "los",
    "targets",
    "tracking",
    "maze",
    "circles",
    "reposition",
    "pause",
)
SUMMARIES = ("none", "mctsib", "romberg", "single_leg", "los", "training", "reposition")
LAYOUTS = ("random", "pattern", "left_right", "front_back", "directions")


@dataclasses.dataclass(frozen=True)
class Field:
    """One step field: its type, default and range, and the tasks that use it (None = all)."""

    kind: str  # "str", "number", "int", "bool", "points"
    default: Any
    tasks: tuple[str, ...] | None = None
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] | None = None


#: Every field a step may have. Lengths are % of the patient's LOS in that direction.
STEP_FIELDS: dict[str, Field] = {
    "label": Field("str", ""),
    "instruction": Field("str", ""),
    "task": Field("str", None, choices=TASKS),
    "duration_s": Field("number", 30.0, lo=0.5, hi=3600),
    "countdown_s": Field("number", 3.0, lo=0, hi=60),
    "rest_s": Field("number", 0.0, lo=0, hi=600),
    "repetitions": Field("int", 1, lo=1, hi=100),
    "attempts": Field("int", 1, lo=1, hi=10),  # retries of a trial ended by loss of balance
    "vision": Field("str", "open", choices=("open", "closed")),
    "surface": Field("str", "firm", choices=("firm", "foam")),
    "stance": Field("str", "both", choices=("both", "left", "right")),
    "loss_radius_pct": Field("number", 60.0, ("stand", "single_leg"), lo=5, hi=200),
    "directions": Field("int", 8, ("los", "targets", "reposition"), lo=2, hi=16),
    "distance_pct": Field("number", 60.0, ("los", "targets", "reposition"), lo=5, hi=150),
    "direction_s": Field("number", 8.0, ("los",), lo=1, hi=30),
    "return_s": Field("number", 3.0, ("los", "reposition"), lo=0.5, hi=30),
    "show_s": Field("number", 5.0, ("reposition",), lo=1, hi=30),
    "reproduce_s": Field("number", 5.0, ("reposition",), lo=1, hi=30),
    "measure_s": Field("number", 1.5, ("reposition",), lo=0.2, hi=10),
    "rounds": Field("int", 3, ("reposition",), lo=1, hi=20),
    "layout": Field("str", "random", ("targets",), choices=LAYOUTS),
    "count": Field("int", 8, ("targets",), lo=1, hi=200),
    "targets": Field("points", [], ("targets",)),
    "radius_pct": Field("number", 12.0, ("targets", "tracking", "reposition"), lo=1, hi=100),
    "dwell_s": Field("number", 1.0, ("targets",), lo=0.1, hi=30),
    "timeout_s": Field("number", 10.0, ("targets",), lo=0.5, hi=120),
    "return_to_centre": Field("bool", False, ("targets",)),
    "path": Field("str", "sinusoid", ("tracking",), choices=("sinusoid", "figure8", "random")),
    "axis": Field("str", "x", ("tracking",), choices=("x", "y")),
    "amplitude_pct": Field("number", 50.0, ("tracking",), lo=1, hi=150),
    "period_s": Field("number", 10.0, ("tracking", "circles"), lo=1, hi=120),
    "maze": Field("points", [], ("maze",)),
    "width_pct": Field("number", 20.0, ("maze",), lo=2, hi=100),
    "direction": Field("str", "cw", ("circles",), choices=("cw", "ccw")),
    "circles": Field("int", 5, ("circles",), lo=1, hi=100),
    "circle_radius_pct": Field("number", 50.0, ("circles",), lo=5, hi=150),
}
#: Fields of the ``condition`` table of a step (or of ``[defaults]``).
CONDITION_FIELDS = ("vision", "surface", "stance")
#: Fields a difficulty level may set: any task-specific number.
LEVEL_FIELDS = ("duration_s",) + tuple(
    k for k, f in STEP_FIELDS.items() if f.tasks and f.kind in ("number", "int")
)


@dataclasses.dataclass(frozen=True)
class Step:
    """One validated step: a trial of ``task``; ``params`` holds every field, defaults filled."""

    index: int  # 1-based position in the file (for messages)
    task: str
    params: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["params"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def condition(self) -> dict[str, str]:
        return {k: self.params[k] for k in CONDITION_FIELDS}

    def with_level(self, level: dict[str, Any]) -> Step:
        """This step with a difficulty level's values for the fields its task uses."""
        changes = {k: v for k, v in level.items() if _applies(STEP_FIELDS[k], self.task)}
        return dataclasses.replace(self, params={**self.params, **changes})


@dataclasses.dataclass(frozen=True)
class Progression:
    """Level up when ``metric`` >= ``advance_at`` in each of the last ``over_trials`` trials;
    level down when it is < ``drop_below`` in each of them."""

    metric: str = "success_pct"
    advance_at: float = 80.0
    drop_below: float = 40.0
    over_trials: int = 2


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A validated protocol definition."""

    name: str
    title: str
    kind: str  # "test" or "training"
    description: str
    summary: str  # protocol-level analysis, one of SUMMARIES
    steps: tuple[Step, ...]
    random_order: bool = False
    levels: tuple[dict[str, Any], ...] = ()
    progression: Progression | None = None
    path: str = ""
    #: Why it is done, for the documentation note ("improve ankle proprioception...").
    objective: str = ""
    #: Body regions it trains, for the documentation note (default: standing balance).
    body_regions: tuple[str, ...] = ("bilateral lower extremities", "trunk")

    def check_level(self, level: int | None) -> int | None:
        """``level`` (1-based) if this protocol has it, 1 when it has levels and none is given,
        None for a protocol without levels (tests). Anything else raises
        :class:`~nmr_balance.errors.InvalidParameterError` saying which levels there are."""
        if not self.levels:
            if level is not None and level != 1:
                raise InvalidParameterError(
                    "level", level, f"no level: {self.name} has no difficulty levels"
                )
            return None
        if level is None:
            return 1
        n = len(self.levels)
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= n:
            raise InvalidParameterError(
                "level", level, f"a level from 1 (easiest) to {n}: {self.name} has {n} levels"
            )
        return level

    def steps_at(self, level: int | None = None) -> list[Step]:
        """The steps at difficulty ``level`` (1-based; default 1); no levels -> as written."""
        level = self.check_level(level)
        if level is None:
            return list(self.steps)
        return [s.with_level(self.levels[level - 1]) for s in self.steps]


def _applies(field: Field, task: str) -> bool:
    return field.tasks is None or task in field.tasks


class _Checker:
    """Validates values of one file, raising ProtocolError with its location."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, field: str, expected: str, found: object, step: int | None = None):
        raise ProtocolError(self.file, field, expected, found, step)

    def value(self, name: str, value: Any, spec: Field, step: int | None) -> Any:
        kind = spec.kind
        if kind == "str":
            if not isinstance(value, str):
                self.fail(name, "a string", value, step)
            if spec.choices and value not in spec.choices:
                self.fail(name, f"one of {', '.join(spec.choices)}", value, step)
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                self.fail(name, "true or false", value, step)
            return value
        if kind in ("number", "int"):
            ok = isinstance(value, int) if kind == "int" else isinstance(value, (int, float))
            if isinstance(value, bool) or not ok:
                self.fail(name, "an integer" if kind == "int" else "a number", value, step)
            if not math.isfinite(value):  # nan fails both range comparisons below
                self.fail(name, "a finite number", value, step)
            if (spec.lo is not None and value < spec.lo) or (
                spec.hi is not None and value > spec.hi
            ):
                self.fail(name, f"a value from {spec.lo:g} to {spec.hi:g}", value, step)
            return value if kind == "int" else float(value)
        # points: [[x_pct, y_pct], ...]
        if not isinstance(value, list) or not all(
            isinstance(p, list)
            and len(p) == 2
            and all(
                isinstance(c, (int, float)) and not isinstance(c, bool) and -150 <= c <= 150
                for c in p
            )
            for p in value
        ):
            self.fail(name, "a list of [x_pct, y_pct] pairs, each from -150 to 150", value, step)
        return [[float(c) for c in p] for p in value]

    def fields(self, table: Any, where: str, step: int | None, task: str | None) -> dict[str, Any]:
        """Validate a table of step fields (a step or ``[defaults]``)."""
        if not isinstance(table, dict):
            self.fail(where, "a table", table, step)
        out: dict[str, Any] = {}
        for name, value in table.items():
            if name == "condition":
                if not isinstance(value, dict):
                    self.fail(
                        "condition",
                        'a table like { vision = "closed", surface = "foam" }',
                        value,
                        step,
                    )
                for key, v in value.items():
                    if key not in CONDITION_FIELDS:
                        self.fail(
                            f"condition.{key}", f"one of {', '.join(CONDITION_FIELDS)}", key, step
                        )
                    out[key] = self.value(f"condition.{key}", v, STEP_FIELDS[key], step)
                continue
            spec = STEP_FIELDS.get(name)
            if spec is None:
                self.fail(name, f"a known field ({', '.join(STEP_FIELDS)}, condition)", name, step)
            if task is not None and not _applies(spec, task):
                self.fail(
                    name,
                    f"a field of task '{task}' (this one is for {', '.join(spec.tasks)})",
                    name,
                    step,
                )
            out[name] = self.value(name, value, spec, step)
        return out


def parse_protocol(data: dict[str, Any], file: str = "<protocol>") -> Protocol:
    """Validate a parsed TOML document and build the :class:`Protocol`."""
    c = _Checker(file)
    known = {
        "name",
        "title",
        "kind",
        "description",
        "summary",
        "random_order",
        "defaults",
        "steps",
        "levels",
        "progression",
        "objective",
        "body_regions",
    }
    for key in data:
        if key not in known:
            c.fail(key, f"a protocol field ({', '.join(sorted(known))})", key)
    text = Field("str", "")
    name = c.value(
        "name",
        data.get("name", pathlib.Path(file).stem if file.endswith(".toml") else "custom"),
        text,
        None,
    )
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        c.fail("name", "letters, digits, '-' and '_'", name)
    kind = c.value(
        "kind", data.get("kind", "training"), Field("str", "", choices=("test", "training")), None
    )
    summary = c.value(
        "summary", data.get("summary", "none"), Field("str", "", choices=SUMMARIES), None
    )
    defaults = c.fields(data.get("defaults", {}), "defaults", None, None)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        c.fail("steps", "at least one [[steps]] table", raw_steps)
    steps = []
    for i, raw in enumerate(raw_steps, start=1):
        if not isinstance(raw, dict):
            c.fail("steps", "a table", raw, i)
        task = raw.get("task", defaults.get("task"))
        if task is None:
            c.fail("task", f"one of {', '.join(TASKS)}", None, i)
        task = c.value("task", task, STEP_FIELDS["task"], i)
        given = {
            **{k: v for k, v in defaults.items() if _applies(STEP_FIELDS[k], task)},
            **c.fields(raw, "steps", i, task),
        }
        params = {k: f.default for k, f in STEP_FIELDS.items() if _applies(f, task)}
        params.update(given)
        _check_step(c, task, params, i)
        steps.append(Step(i, task, params))
    levels = data.get("levels", [])
    if not isinstance(levels, list):
        c.fail("levels", "a list of [[levels]] tables", levels)
    checked_levels = []
    for i, level in enumerate(levels, start=1):
        if not isinstance(level, dict):
            c.fail(f"levels[{i}]", "a table", level)
        for key, value in level.items():
            if key not in LEVEL_FIELDS:
                c.fail(f"levels[{i}].{key}", f"one of {', '.join(LEVEL_FIELDS)}", key)
            c.value(f"levels[{i}].{key}", value, STEP_FIELDS[key], None)
        checked_levels.append(
            {k: (float(v) if STEP_FIELDS[k].kind == "number" else v) for k, v in level.items()}
        )
    progression = None
    if "progression" in data:
        progression = _progression(c, data["progression"])
        if not checked_levels:
            c.fail("progression", "[[levels]] to progress through", "no levels")
    return Protocol(
        name=name,
        title=c.value("title", data.get("title", name), text, None),
        kind=kind,
        description=c.value("description", data.get("description", ""), text, None),
        summary=summary,
        steps=tuple(steps),
        random_order=c.value(
            "random_order", data.get("random_order", False), Field("bool", False), None
        ),
        levels=tuple(checked_levels),
        progression=progression,
        path=file,
        objective=c.value("objective", data.get("objective", ""), text, None),
        body_regions=_regions(c, data.get("body_regions")),
    )


def _regions(c: _Checker, value: Any) -> tuple[str, ...]:
    if value is None:
        return Protocol.__dataclass_fields__["body_regions"].default
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        c.fail("body_regions", 'a list of body regions, e.g. ["ankle", "trunk"]', value)
    return tuple(value)


def _check_step(c: _Checker, task: str, p: dict[str, Any], i: int) -> None:
    """Rules that tie fields together."""
    if task == "targets" and p["layout"] == "pattern" and not p["targets"]:
        c.fail(
            "targets", 'a non-empty list of [x_pct, y_pct] for layout = "pattern"', p["targets"], i
        )
    if task == "maze" and len(p["maze"]) < 2:
        c.fail("maze", "at least two [x_pct, y_pct] waypoints", p["maze"], i)
    if task == "single_leg" and p["stance"] == "both":
        c.fail("condition.stance", "left or right for a single-leg stance", "both", i)


def _progression(c: _Checker, table: Any) -> Progression:
    if not isinstance(table, dict):
        c.fail("progression", "a table", table)
    spec = {
        "metric": Field("str", "", choices=("success_pct", "time_in_target_pct", "score")),
        "advance_at": Field("number", 0, lo=0, hi=100),
        "drop_below": Field("number", 0, lo=0, hi=100),
        "over_trials": Field("int", 0, lo=1, hi=20),
    }
    values = {}
    for key, value in table.items():
        if key not in spec:
            c.fail(f"progression.{key}", f"one of {', '.join(spec)}", key)
        values[key] = c.value(f"progression.{key}", value, spec[key], None)
    rule = Progression(**values)
    if rule.drop_below > rule.advance_at:
        c.fail(
            "progression.drop_below", f"at most advance_at ({rule.advance_at:g})", rule.drop_below
        )
    return rule


#: Largest protocol file read (the built-in ones are ~2 KB).
MAX_BYTES = 256 * 1024
#: Deepest nesting of tables and arrays (a protocol needs 3).
MAX_DEPTH = 8
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\\\)?|\x1b.")


def clean_text(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (newlines and tabs
    are kept): what a clinic file says is shown, never executed by the terminal."""
    text = _ANSI.sub("", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf"))


def _cleaned(value: Any, depth: int, c: _Checker) -> Any:
    if depth > MAX_DEPTH:
        c.fail("(file)", f"tables and arrays nested at most {MAX_DEPTH} deep", "deeper nesting")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _cleaned(v, depth + 1, c) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v, depth + 1, c) for v in value]
    return value


def _read_regular(path: pathlib.Path) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most :data:`MAX_BYTES`.

    Opened without blocking and checked with ``fstat``: a FIFO or a device named ``x.toml``
    is refused at once instead of hanging or filling memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise ProtocolError(str(path), "(file)", "a readable file", e.strerror) from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a pipe or device"
            raise ProtocolError(str(path), "(file)", "a regular file", kind)
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ProtocolError(
            str(path), "(file)", f"at most {MAX_BYTES // 1024} KB", f"{st.st_size} bytes"
        )
    return data


def load_protocol(path: str | pathlib.Path) -> Protocol:
    """Read and validate one TOML protocol file.

    Refused with a :class:`ProtocolError`: anything but a regular file, more than
    :data:`MAX_BYTES`, nesting deeper than :data:`MAX_DEPTH`, non-finite numbers. Text fields
    come back without control characters or terminal escapes.
    """
    path = pathlib.Path(path)
    try:
        data = tomllib.loads(_read_regular(path).decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ProtocolError(str(path), "(syntax)", "valid TOML", str(e)) from None
    except UnicodeDecodeError as e:
        raise ProtocolError(str(path), "(file)", "a UTF-8 text file", str(e)) from None
    except RecursionError:
        raise ProtocolError(
            str(path), "(file)", f"tables and arrays nested at most {MAX_DEPTH} deep", "deeper"
        ) from None
    return parse_protocol(_cleaned(data, 0, _Checker(str(path))), str(path))
