"""How `make test` shares the suite between two pytest-xdist workers (`-n 2 --dist loadscope`).

Each test module runs whole on one worker, so its servers and browser start once and its tests
never race each other (for one browser's clipboard, say). The modules with tests that answer with
the real local model (marked `slow`) are one scope together: on two cores, two llama.cpp servers
reading prompts at once only slow each other down, and one worker loads the model once. Without
xdist this plugin does nothing.

The scope is read from the module's file, not from the marks: xdist's scheduler sees only test
ids, and its `xdist_group` marks no longer reach them under pytest 9.2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

MODEL_SCOPE = "local-model"


def model_modules(root: Path) -> set[str]:
    """The test modules (paths relative to `root`) that mark any test `slow`."""
    here = Path(__file__).parent
    return {
        path.relative_to(root).as_posix()
        for path in here.glob("test_*.py")
        if "mark.slow" in path.read_text(encoding="utf-8")
    }


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    modules = model_modules(config.rootpath)

    class ModelTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return MODEL_SCOPE if module in modules else module

    return ModelTogether(config, log)
