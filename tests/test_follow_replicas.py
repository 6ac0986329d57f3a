"""Two `newsbot serve` replicas on one Chroma server and PostgreSQL follow the same feed.

`scripts/scale_demo.py`'s deployment (real processes on loopback ports), with a short lease: the
replicas share the feed through its lease, each page is read and embedded once, and when the
replica caught holding the lease is killed with SIGKILL the other takes the feed over once the
lease runs out. Chroma, the registry and the keyword index then hold exactly the same ids.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from newsbot.factories import build_store
from newsbot.settings import get_settings
from scripts.scale_demo import Deployment, deploy
from tests.feed_site import Site, serve_site
from tests.fixtures_llm import TEST_MODELS_DIR
from tests.test_follow import three_stores
from tests.test_follow_processes import PAGES, kill_the_holder_and_see_it_taken_over, publish

pytestmark = [pytest.mark.slow, pytest.mark.server]

LEASE = 8.0


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as served:
        yield served


@pytest.fixture
def deployment(tmp_path: Path, site: Site) -> Iterator[Deployment]:
    from bot.llm.model_files import ensure_default_model

    ensure_default_model(TEST_MODELS_DIR)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "OPENAI_"))}
    env |= {"NEWSBOT_MODELS_DIR": str(TEST_MODELS_DIR), "ANONYMIZED_TELEMETRY": "False"}
    settings = {
        "NEWSBOT_FETCH_ALLOW_NETWORKS": '["127.0.0.1/32"]',
        "NEWSBOT_FOLLOW_LEASE_SECONDS": str(LEASE),
    }
    publish(site, 2)
    with deploy(tmp_path / "scale", env=env, settings=settings) as running:
        yield running


def test_two_replicas_share_a_feed_and_one_takes_over_when_the_other_is_killed(
    site: Site, deployment: Deployment
) -> None:
    added = deployment.worker("follow", "add", site.url("/feed.xml"), "--every", "1s")
    assert added.returncode == 0, added.stderr
    database = deployment.env["NEWSBOT_DATABASE_URL"]

    def owner() -> str | None:
        with psycopg.connect(database, autocommit=True) as db:
            row = db.execute("SELECT lease_owner FROM followed_sources").fetchone()
        return row[0] if row else None

    kill_the_holder_and_see_it_taken_over(
        site,
        [replica.process for replica in deployment.replicas],
        owner,
        lambda: "".join(r.log.read_text(errors="replace") for r in deployment.replicas),
        LEASE,
    )
    env = deployment.env
    settings = get_settings(
        data_dir=deployment.folder / "checker",
        chroma_host=env["NEWSBOT_CHROMA_HOST"],
        chroma_port=int(env["NEWSBOT_CHROMA_PORT"]),
        database_url=database,
    )
    store = build_store(settings)
    try:
        deadline = time.monotonic() + 60
        while len(store.registry.list_articles()) < len(PAGES) and time.monotonic() < deadline:
            time.sleep(0.2)  # the last page read is being embedded
        rows = store.registry.list_articles(limit=100)
        chroma, registry, keywords = three_stores(store)
    finally:
        store.registry.close()
    assert sorted(row.title for row in rows) == sorted(title for _, title, _ in PAGES)
    assert chroma == registry == keywords
