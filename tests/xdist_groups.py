"""How `make test` shares the suite between two pytest-xdist workers (`-n 2 --dist loadgroup`).

The tests that answer with the real local model (`slow`) run on one worker, one after another: on
two cores, two llama.cpp servers reading prompts at once only slow each other down, and one worker
loads the model once. Every other test runs with the rest of its module, on either worker, so a
module's servers and browser start once and its tests never race each other for one browser's
clipboard. Without xdist the marks do nothing.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = "local-model" if item.get_closest_marker("slow") else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
