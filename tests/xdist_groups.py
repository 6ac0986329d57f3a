"""How `make test` shares the suite between two pytest-xdist workers (`-n 2 --dist loadscope`).

The tests that answer with the real local model (marked `slow`) are one scope: on two cores, two
llama.cpp servers reading prompts at once only slow each other down, and one worker loads the model
once. The longest scopes are handed out first: the model's, then the modules that start servers or
a browser. Every other test runs with the rest of its module on one worker, so the module's servers
and browser start once and its tests never race each other. Without xdist this plugin does nothing.

Which tests are `slow` is read from the modules' source, not from the marks: xdist's scheduler
sees only test ids, and its `xdist_group` marks no longer reach them under pytest 9.2.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

MODEL_SCOPE = "local-model"


def _marks_slow(node: ast.expr) -> bool:
    """Whether a decorator or a `pytestmark` value is, or lists, `pytest.mark.slow`."""
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    return any(ast.unparse(item) == "pytest.mark.slow" for item in items)


def model_tests(root: Path) -> set[str]:
    """The ids (`tests/test_x.py::test_name`, relative to `root`, without parameters) of the
    tests marked `slow`, read from the test modules' source."""
    found: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = path.relative_to(root).as_posix()
        whole = any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
            and _marks_slow(node.value)
            for node in tree.body
        )
        for node in tree.body:
            is_test = isinstance(node, ast.FunctionDef) and node.name.startswith("test")
            if is_test and (whole or any(_marks_slow(d) for d in node.decorator_list)):
                found.add(f"{module}::{node.name}")
    return found


def server_modules(root: Path) -> set[str]:
    """The test modules (`tests/test_x.py`, relative to `root`) that mark any test `server` or
    `browser`."""
    return {
        path.relative_to(root).as_posix()
        for path in Path(__file__).parent.glob("test_*.py")
        if re.search(r"pytest\.mark\.(server|browser)\b", path.read_text(encoding="utf-8"))
    }


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    slow = model_tests(config.rootpath)
    long = server_modules(config.rootpath)

    class ModelTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.split("[", 1)[0] in slow:
                return MODEL_SCOPE
            return nodeid.split("::", 1)[0]

        def _assign_work_unit(self, node: Any) -> None:
            # Longest first, so that the run does not wait on one long module at its end: the
            # model scope, then the modules that start servers or a browser (seconds a test),
            # then the rest (by number of tests, as loadscope orders them).
            for scope in [*reversed([s for s in self.workqueue if s in long]), MODEL_SCOPE]:
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return ModelTogether(config, log)
