"""The five import packages are this repo's, and dsp stays pure."""

from __future__ import annotations

import ast
import importlib
import pathlib
import sys

import pytest

from tests.conftest import REPO

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
