"""The suite's split between two workers (tests/xdist_groups.py) puts the tests that use the
session's local model, and only those, in the one model scope."""

from __future__ import annotations

import pytest

from tests.xdist_groups import model_tests


def test_the_model_scope_holds_the_tests_of_the_local_model(
    request: pytest.FixtureRequest,
) -> None:
    scope = model_tests(request.config.rootpath)
    collected = {item.nodeid.split("[", 1)[0]: item for item in request.session.items}
    uses_model = {nodeid for nodeid, item in collected.items() if "local_llm" in item.fixturenames}
    assert {nodeid for nodeid in scope if nodeid in collected} == uses_model
    assert scope, "no test uses the local model: the model scope is empty"
