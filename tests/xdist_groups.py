"""How `make test` shares the suite between two pytest-xdist workers (`-n 2 --dist loadscope`).

The tests that answer with the session's in-process model (`tests/fixtures_llm.local_llm`) are one
scope: one worker loads the model once, and two llama.cpp servers of the suite never read prompts
at once. Every other test runs with the rest of its module on one worker, so the module's servers
and browser start once and its tests never race each other; the modules that start `newsbot`
processes with a model of their own (scale-out, replicas) run beside the model scope. Without
xdist this plugin does nothing.

The scope is read from the modules' source, not from marks or fixtures: xdist's scheduler sees
only test ids, and its `xdist_group` marks no longer reach them under pytest 9.2.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

MODEL_SCOPE = "local-model"


def _takes(function: ast.FunctionDef, names: set[str]) -> bool:
    return any(arg.arg in names for arg in function.args.args)


def model_tests(root: Path) -> set[str]:
    """The ids (`tests/test_x.py::test_name`, relative to `root`, without parameters) of the
    tests that take `local_llm`, or a fixture of their module that takes it, read from the test
    modules' source."""
    found: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        source = path.read_text(encoding="utf-8")
        if "local_llm" not in source:
            continue
        functions = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
        model = {"local_llm"}
        while True:  # the module's fixtures that take the model, or take one that does
            more = {f.name for f in functions if _takes(f, model)} - model
            if not more:
                break
            model |= more
        module = path.relative_to(root).as_posix()
        found |= {
            f"{module}::{f.name}"
            for f in functions
            if f.name.startswith("test") and _takes(f, model)
        }
    return found


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    model = model_tests(config.rootpath)

    class ModelTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.split("[", 1)[0] in model:
                return MODEL_SCOPE
            return nodeid.split("::", 1)[0]

    return ModelTogether(config, log)
