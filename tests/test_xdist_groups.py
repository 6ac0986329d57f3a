"""The suite's split between two workers finds the tests marked `slow` from their source as
pytest finds them from their marks (tests/xdist_groups.py)."""

from __future__ import annotations

import pytest

from tests.xdist_groups import model_tests


def test_the_model_scope_holds_exactly_the_tests_marked_slow(
    request: pytest.FixtureRequest,
) -> None:
    read = model_tests(request.config.rootpath)
    collected = {item.nodeid.split("[", 1)[0]: item for item in request.session.items}
    marked = {nodeid for nodeid, item in collected.items() if item.get_closest_marker("slow")}
    assert marked <= read
    assert {nodeid for nodeid in read if nodeid in collected} == marked
    assert read, "no test is marked slow: the model scope is empty"
