"""Scale-out as an operator runs it: every piece of shared state in the shared engines.

`scripts/scale_demo.py`'s deployment with real processes on real loopback ports: PostgreSQL,
`chroma run`, the bundled model behind `newsbot model serve`, two `newsbot serve` replicas with data
dirs of their own, and an ingest worker with a third. The tests run in order on one deployment.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import chromadb
import httpx
import psycopg
import pytest

from scripts.scale_demo import Deployment, deploy
from scripts.services import NEWSBOT
from tests.conftest import EXAMPLES_DIR, MINI_DIR
from tests.fixtures_llm import TEST_MODELS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.server]

TITLE = "Quillon ferry returns to the Sable Strait after engine refit"
ARTICLE = f"""# {TITLE}

The Quillon ferry sailed across the Sable Strait again on Monday after a four-month engine refit,
its operator said. Captain Imre Valdottir took the first crossing with ninety passengers aboard.
"""
QUESTION = "Who captained the Quillon ferry's first crossing after the refit?"
USER, PASSWORD = "editor", "harbour-lights-42"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from bot.llm.model_files import ensure_default_model

    ensure_default_model(TEST_MODELS_DIR)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "OPENAI_"))}
    env |= {"NEWSBOT_MODELS_DIR": str(TEST_MODELS_DIR), "ANONYMIZED_TELEMETRY": "False"}
    settings = {"NEWSBOT_AUTH": f"{USER}:{PASSWORD}"}
    with deploy(tmp_path_factory.mktemp("scale"), env=env, settings=settings) as running:
        yield running


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def listing(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def counts(deployment: Deployment, index: int | None) -> tuple[int, int, int]:
    """(articles, chunks, pending) as `newsbot stats` says on the worker or a replica."""
    run = deployment.worker if index is None else lambda *a: deployment.on_replica(index, *a)
    stats = as_json(run("stats", "--json"))
    return stats["articles"], stats["chunks"], stats["pending"]


def ask(replica: str, question: str) -> dict[str, Any]:
    response = httpx.post(
        replica + "/api/ask", json={"question": question}, auth=(USER, PASSWORD), timeout=600
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_an_article_ingested_on_the_worker_is_answered_by_both_replicas(
    deployment: Deployment, tmp_path: Path
) -> None:
    (tmp_path / "quillon-ferry.md").write_text(ARTICLE, encoding="utf-8")
    report = as_json(deployment.worker("ingest", "--json", str(EXAMPLES_DIR), str(tmp_path)))
    assert report["failed"] == 0
    assert report["new"] >= 2

    # Every machine's stats and listing agree: one registry, in PostgreSQL.
    machines = [None, 0, 1]
    assert len({counts(deployment, m) for m in machines}) == 1
    lists = [listing(deployment.worker("list", "--json", "--limit", "100"))] + [
        listing(deployment.on_replica(i, "list", "--json", "--limit", "100")) for i in (0, 1)
    ]
    assert lists[0] == lists[1] == lists[2]
    assert TITLE in [row["title"] for row in lists[0]]

    # Both replicas, asked at once, answer from the new article (the model server answers both).
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda r: ask(r.url, QUESTION), deployment.replicas))
    for result in results:
        assert TITLE in [s["title"] for s in result["sources"]], result["answer"]
        assert "Valdottir" in result["answer"]


def test_a_delete_on_one_replica_is_seen_by_the_other(deployment: Deployment) -> None:
    article_id = next(
        row["article_id"]
        for row in listing(deployment.on_replica(1, "list", "--json", "--limit", "100"))
        if row["title"] == TITLE
    )
    deleted = deployment.on_replica(0, "delete", article_id)
    assert deleted.returncode == 0, deleted.stderr
    titles = [r["title"] for r in listing(deployment.on_replica(1, "list", "--json"))]
    assert TITLE not in titles
    result = ask(deployment.replicas[1].url, QUESTION)
    assert TITLE not in [p["title"] for p in result["retrieved"]]
    assert len({counts(deployment, m) for m in (None, 0, 1)}) == 1


def test_a_sign_in_on_one_replica_opens_the_other(deployment: Deployment) -> None:
    first, second = (replica.url for replica in deployment.replicas)
    assert httpx.get(second + "/api/health").status_code == 401
    signed_in = httpx.post(first + "/login", data={"username": USER, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    cookies = signed_in.cookies
    assert httpx.get(second + "/api/health", cookies=cookies).status_code == 200
    httpx.post(second + "/logout", cookies=cookies)
    assert httpx.get(first + "/api/health", cookies=cookies).status_code == 401


def test_the_model_server_takes_only_requests_with_its_key(deployment: Deployment) -> None:
    model = next(s for s in deployment.services if s.name == "model server")
    assert httpx.get(model.url + "/v1/models").status_code == 401
    key = deployment.env["NEWSBOT_LLM_API_KEY"]
    answer = httpx.get(model.url + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    # On a network address it refuses to start without a key.
    refused = subprocess.run(
        [*NEWSBOT, "model", "serve", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in deployment.env.items() if k != "NEWSBOT_LLM_API_KEY"},
    )
    assert refused.returncode != 0
    assert "set NEWSBOT_LLM_API_KEY" in refused.stderr


def mini_articles(tmp_path: Path, name: str, start: int, stop: int) -> Path:
    with gzip.open(MINI_DIR / "corpus.jsonl.gz", "rt", encoding="utf-8") as corpus:
        lines = [line for i, line in enumerate(corpus) if start <= i < stop]
    path = tmp_path / name
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_two_workers_on_one_input_embed_it_once(deployment: Deployment, tmp_path: Path) -> None:
    source = mini_articles(tmp_path, "batch.jsonl", 0, 24)
    runs = [
        subprocess.Popen(
            [*NEWSBOT, "-v", "ingest", "--json", str(source)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=deployment.machine(machine),
        )
        for machine in ("worker", "replica-1")
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    reports = sorted((json.loads(out) for out, _ in outputs), key=lambda r: r["new"])
    assert (reports[0]["new"], reports[0]["unchanged"], reports[0]["chunks"]) == (0, 24, 0)
    assert (reports[1]["new"], reports[1]["unchanged"]) == (24, 0)
    assert any("Waiting for another newsbot process" in err for _, err in outputs)


def test_a_worker_killed_mid_ingest_is_completed_from_a_replica(
    deployment: Deployment, tmp_path: Path
) -> None:
    source = mini_articles(tmp_path, "more.jsonl", 24, 64)
    database = deployment.env["NEWSBOT_DATABASE_URL"]
    worker = subprocess.Popen(
        [*NEWSBOT, "ingest", str(source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=deployment.machine("worker"),
    )
    deadline = time.monotonic() + 300
    with psycopg.connect(database, autocommit=True) as db:
        while not db.execute("SELECT 1 FROM articles WHERE status = 'pending'").fetchall():
            assert worker.poll() is None, "the worker ended before it began to write"
            assert time.monotonic() < deadline, "the worker never began to write"
            time.sleep(0.1)
    time.sleep(2)  # into the embedding of the batch
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert counts(deployment, 0)[2] > 0  # the replica sees the interrupted write

    report = as_json(deployment.on_replica(0, "ingest", "--json", str(source)))
    assert report["failed"] == 0
    articles, chunks, pending = counts(deployment, 1)
    assert pending == 0
    # No duplicates, no orphans: Chroma holds exactly the chunks the registry says, and the
    # keyword index the same ids.
    with psycopg.connect(database, autocommit=True) as db:
        expected = {
            f"{article_id}:{i}"
            for article_id, n in db.execute(
                "SELECT article_id, n_chunks FROM articles WHERE collection = 'news'"
            ).fetchall()
            for i in range(n)
        }
        keyword_ids = {
            row[0]
            for row in db.execute(
                "SELECT chunk_id FROM keyword_chunks WHERE collection = 'news'"
            ).fetchall()
        }
    client = chromadb.HttpClient(host="127.0.0.1", port=int(deployment.env["NEWSBOT_CHROMA_PORT"]))
    stored = client.get_collection("news").get(include=[])["ids"]
    assert len(stored) == len(set(stored)) == chunks
    assert set(stored) == expected == keyword_ids
    assert articles == len({cid.rsplit(":", 1)[0] for cid in expected})
