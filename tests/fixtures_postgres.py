"""A session-wide PostgreSQL server (a throwaway cluster on a loopback port) and a fresh database
for each test that asks for `database_url`.

Import the fixtures in conftest.py. PostgreSQL must be installed (`make postgres`); its absence is
an error, not a skip, so CI can't pass without testing the shared-database mode.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.services import Service, create_database, start_postgres

_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    server = start_postgres(Path(tmp_path_factory.mktemp("postgres")))
    yield server
    server.stop()


@pytest.fixture
def database_url(postgres: Service) -> str:
    """The URL of a new, empty database on the session's server."""
    name = f"test_{next(_numbers)}"
    create_database(postgres.url.rsplit("/", 1)[0] + "/postgres", name)
    return postgres.url.rsplit("/", 1)[0] + "/" + name
