"""`make scale-demo`: newsbot as it runs on several machines, here on one machine's loopback.

    python scripts/scale_demo.py [ARTICLES ...] [--folder DIR] [--keep]

Starts what would run on separate machines: PostgreSQL (article registry, keyword index, ingest
lock), `chroma run` (vectors), the bundled model behind llama.cpp's OpenAI-compatible server
(`newsbot model serve`, standing in for vLLM), two `newsbot serve` replicas with data dirs of their
own, and an ingest worker (a `newsbot ingest` with a third data dir) that stores ARTICLES
(default: examples/articles). Prints each address and runs until Ctrl-C or SIGTERM, which both stop
every service it started and remove its temp folder (unless `--keep`, or the folder is `--folder`).

The same `Deployment` is what tests/test_scale_out.py and the `scale` benchmark start.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.services import (  # noqa: E402  (after the path fix, for `python scripts/...`)
    Service,
    newsbot,
    start_chroma,
    start_model_server,
    start_postgres,
    start_replica,
    start_together,
)


@dataclass
class Deployment:
    """The running services; `env` is the configuration every newsbot machine shares."""

    folder: Path
    env: dict[str, str]
    services: list[Service] = field(default_factory=list)
    replicas: list[Service] = field(default_factory=list)

    def machine(self, name: str) -> dict[str, str]:
        """The environment of one newsbot machine: the shared settings, its own data dir."""
        return {**self.env, "NEWSBOT_DATA_DIR": str(self.folder / name)}

    def worker(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run `newsbot ARGS` on the ingest worker."""
        return newsbot(*args, env=self.machine("worker"), timeout=timeout)

    def on_replica(
        self, index: int, *args: str, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        """Run `newsbot ARGS` as an operator would on replica `index`'s machine."""
        return newsbot(*args, env=self.machine(f"replica-{index}"), timeout=timeout)


@contextmanager
def deploy(
    folder: Path,
    replicas: int = 2,
    env: Mapping[str, str] | None = None,
    settings: Mapping[str, str] | None = None,
    model_parallel: int = 2,
) -> Iterator[Deployment]:
    """Start the services in `folder` (replicas get `settings` too); stop them all on exit."""
    base = dict(env if env is not None else os.environ)
    # The model server takes requests with this key only; the replicas send it.
    base["NEWSBOT_LLM_API_KEY"] = secrets.token_urlsafe(16)
    deployment = Deployment(folder, {})
    try:
        # What each machine would start on its own starts side by side here.
        postgres, chroma, model = start_together(
            [
                partial(start_postgres, folder),
                partial(start_chroma, folder / "chroma-server"),
                partial(start_model_server, folder, base, parallel=model_parallel),
            ]
        )
        deployment.services += [postgres, chroma, model]
        model_name = next(
            line.split("Serving ", 1)[1].split(" at ", 1)[0]
            for line in model.log.read_text().splitlines()
            if line.startswith("Serving ")
        )
        deployment.env = {
            **base,
            "NEWSBOT_CHROMA_HOST": "127.0.0.1",
            "NEWSBOT_CHROMA_PORT": chroma.url.rsplit(":", 1)[1],
            "NEWSBOT_DATABASE_URL": postgres.url,
            "NEWSBOT_LLM_PROVIDER": "openai_compatible",
            "NEWSBOT_LLM_BASE_URL": model.url + "/v1",
            "NEWSBOT_LLM_MODEL": model_name,
            **(settings or {}),
        }
        names = [f"replica-{index}" for index in range(replicas)]
        deployment.replicas = start_together(
            [partial(start_replica, n, folder / n, deployment.machine(n)) for n in names]
        )
        deployment.services += deployment.replicas
        yield deployment
    finally:
        for service in reversed(deployment.services):
            service.stop()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as Ctrl-C: unwind, so `deploy` stops every service (a `kill` or a service
    manager would otherwise leave PostgreSQL, Chroma, the model server and the replicas
    running). A second signal is ignored: the stopping is bounded (`Service.stop`) and must not
    be cut short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", nargs="*", default=[str(REPO / "examples" / "articles")])
    parser.add_argument("--folder", type=Path, help="where the services keep their data (kept)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp folder (data and logs) on exit"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="newsbot-scale-"))
    try:
        run(folder, args.articles)
    except KeyboardInterrupt:
        pass  # every service is stopped by now
    finally:
        if args.folder or args.keep:
            print(f"Data and logs kept in {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print("Stopped.", flush=True)


def run(folder: Path, articles: list[str]) -> None:
    """Start the deployment in `folder`, ingest `articles` and wait until interrupted."""
    print(f"Starting PostgreSQL, chroma run, the model server and 2 replicas in {folder} ...")
    with deploy(folder) as deployment:
        for service in deployment.services:
            print(f"  {service.name:<14} {service.url}   (log: {service.log})")
        print("Ingest worker: newsbot ingest", *articles)
        result = deployment.worker("ingest", *articles)
        print(result.stdout or result.stderr)
        print("Open either replica in a browser; Ctrl-C stops everything.", flush=True)
        try:
            deployment.replicas[0].process.wait()
        finally:
            print("\nStopping ...", flush=True)


if __name__ == "__main__":
    main()
