"""The record's vocabulary is defined once, in the core (nmr_balance.record, .results, .summary).

Read from the source with ``ast`` (no import needed): no class outside the core may take a core
type's name (or the name with Info/Record/Row/Data... around it, like the PatientInfo and
SessionRecord that once copied Patient and Session), and no dataclass outside the core may copy
most of a core type's fields one by one instead of holding the core type.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
LAYERS = ("nmr_balance", "drivers", "dsp", "recordings", "ui")
CORE_MODULES = ("nmr_balance/record.py", "nmr_balance/results.py", "nmr_balance/summary.py")
#: Words a parallel copy tends to add to a core name.
DECORATIONS = ("Info", "Record", "Row", "Entry", "Item", "Model", "Dto")
#: Classes allowed to hold a core name for a reason that is not a copy (name -> why).
ALLOWED = {
    # the store's loaded trial: the core Trial plus all its samples (only the store has them)
    "TrialData",
    # dsp's metric dict (the lowest layer defines it; nmr_balance.results re-exports it)
    "SwayMetrics",
}


def _core_types():
    from nmr_balance import record, results, summary

    out = {}
    for module in (record, results, summary):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type):
                fields = (
                    {f.name for f in dataclasses.fields(obj)}
                    if dataclasses.is_dataclass(obj)
                    else set()
                )
                out[name] = fields
    return out


def _classes_outside_the_core():
    for layer in LAYERS:
        for path in sorted((REPO / layer).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel in CORE_MODULES:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), rel)
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    yield rel, node


def _is_message(node: ast.ClassDef) -> bool:
    """A console <-> engine message (a Command or Reply: "log this cue") is a verb about the
    record, not a copy of it."""
    return any(ast.unparse(b) in ("Command", "Reply") for b in node.bases)


def _dataclass_fields(node: ast.ClassDef) -> dict[str, str]:
    """Annotated fields of a dataclass-decorated class: name -> annotation source."""
    decorated = any("dataclass" in ast.unparse(d) for d in node.decorator_list)
    if not decorated:
        return {}
    return {
        s.target.id: ast.unparse(s.annotation)
        for s in node.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
    }


def test_the_core_defines_the_vocabulary():
    core = _core_types()
    for name in (
        "Patient",
        "Session",
        "Trial",
        "TrialStatus",
        "Condition",
        "Cue",
        "CueType",
        "TrialEvent",
        "LosScores",
        "LosResult",
        "TrainingScores",
        "TrialResults",
        "SessionSummary",
    ):
        assert name in core, name


def test_no_class_outside_the_core_takes_a_core_name():
    core = set(_core_types())
    offenders = []
    for rel, node in _classes_outside_the_core():
        if node.name in ALLOWED or _is_message(node):
            continue
        bare = node.name
        for word in DECORATIONS:
            bare = bare.removesuffix(word).removeprefix(word)
        if node.name in core or bare in core:
            offenders.append(f"{rel}: class {node.name} (the core has {bare})")
    assert not offenders, "parallel record types:\n" + "\n".join(offenders)


def test_no_dataclass_outside_the_core_copies_a_core_types_fields():
    """A layer adds what only it knows and *holds* the core type; it never copies its fields."""
    core = {name: fields for name, fields in _core_types().items() if len(fields) >= 4}
    offenders = []
    for rel, node in _classes_outside_the_core():
        fields = _dataclass_fields(node)
        if not fields:
            continue
        for name, core_fields in core.items():
            if any(name in annotation for annotation in fields.values()):
                continue  # it holds the core type: fine
            shared = set(fields) & core_fields
            if len(shared) >= 4 and len(shared) >= 0.6 * len(core_fields):
                offenders.append(f"{rel}: {node.name} copies {name}'s {sorted(shared)}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        "import dataclasses\n@dataclasses.dataclass\nclass PatientInfo:\n    code: str\n",
        "import dataclasses\n@dataclasses.dataclass(frozen=True)\nclass Visit:\n"
        "    id: int\n    patient_id: int\n    started: str\n    ended: str\n"
        "    therapist: str\n    station: str\n    pain_before: float\n    pain_after: float\n"
        "    borg_before: float\n    borg_after: float\n    notes: str\n",
    ],
)
def test_the_checks_catch_a_parallel_type(tmp_path, monkeypatch, source):
    """The two checks above would fail on a copy like those that were removed."""
    layer = tmp_path / "ui"
    layer.mkdir()
    (layer / "copy.py").write_text(source)
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "REPO", tmp_path)
    monkeypatch.setattr(this, "LAYERS", ("ui",))
    with pytest.raises(AssertionError, match=r"copy\.py"):
        test_no_class_outside_the_core_takes_a_core_name()
        test_no_dataclass_outside_the_core_copies_a_core_types_fields()
