"""The five import packages are this repo's, and dsp stays pure."""

from __future__ import annotations

import ast
import importlib
import pathlib
import sys

import pytest
from _helpers import REPO

PACKAGES = ["nmr_balance", "drivers", "dsp", "ui", "recordings"]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_resolves_inside_this_repo(name):
    module = importlib.import_module(name)
    path = pathlib.Path(module.__file__).resolve()
    assert path.is_relative_to(REPO), f"{name} imported from {path}, not from {REPO}"
    assert path.parent == REPO / name


def _top_level_imports(package: str) -> set[str]:
    found = set()
    for file in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_dsp_imports_only_numpy_scipy_numba_and_stdlib():
    allowed = {"numpy", "scipy", "numba", "dsp"} | set(sys.stdlib_module_names)
    extra = _top_level_imports("dsp") - allowed
    assert not extra, (
        f"dsp must import only numpy, scipy, numba and the standard library; found {extra}"
    )


def test_import_linter_contracts_are_declared():
    text = (REPO / "pyproject.toml").read_text()
    for contract in (
        "dsp imports only numpy",
        "drivers and recordings are independent",
        "ui never talks to a transport library",
        "core nmr_balance imports no layer",
    ):
        assert contract in text


def _imports_a_test_module(file: pathlib.Path, test_modules: set[str]) -> list[str]:
    """The imports in ``file`` that name a test module or conftest (``tests.`` prefix or not)."""

    def is_test_module(dotted: str) -> bool:
        parts = dotted.split(".")
        if parts[0] == "tests":
            parts = parts[1:]
        return bool(parts) and parts[0] in test_modules

    found = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [module] + [f"{module}.{a.name}".lstrip(".") for a in node.names]
        else:
            continue
        found += [f"line {node.lineno}: {name}" for name in names if name and is_test_module(name)]
    return found


def test_test_files_share_helpers_not_each_other():
    """A test file importing another runs that module's tests' setup twice and ties unrelated
    tests together; importing conftest makes a second copy of it. Shared code goes into a
    helper module (``tests/_helpers.py`` and the other ``_*`` helpers)."""
    tests_dir = REPO / "tests"
    test_modules = {p.stem for p in tests_dir.rglob("test_*.py")} | {"conftest"}
    offenders = {
        str(file.relative_to(REPO)): bad
        for file in sorted(tests_dir.rglob("*.py"))
        if (bad := _imports_a_test_module(file, test_modules))
    }
    assert not offenders, (
        f"test files import test modules or conftest: {offenders}; move what they share into "
        "tests/_helpers.py (or another helper module) and import it from there"
    )
