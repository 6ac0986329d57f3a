"""How long "more on this story" takes (`NewsStore.related`): over every stored article in turn
(at most `--articles`), the time of one call with that article as the cited one, p50 / p95 / max,
and how many related articles were found. No model, no embedding.

    python -m benchmarks.related --data-dir DIR [--articles 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from newsbot.factories import build_store
from newsbot.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a newsbot data dir")
    parser.add_argument("--articles", type=int, default=200, help="articles to ask about")
    args = parser.parse_args()
    store = build_store(get_settings(data_dir=args.data_dir))
    rows = store.list_articles(limit=args.articles)
    store.related([rows[0].article_id])  # load the index and the registry's connection first
    seconds, found = [], []
    for row in rows:
        started = time.perf_counter()
        related = store.related([row.article_id], k=3)
        seconds.append(time.perf_counter() - started)
        found.append(len(related))
    ms = sorted(1000 * s for s in seconds)
    print(
        f"{len(ms)} articles of {store.stats()['articles']} ({store.stats()['chunks']} chunks): "
        f"related in p50 {statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} "
        f"ms, max {ms[-1]:.1f} ms; found {sum(found) / len(found):.2f} per article "
        f"({sum(1 for n in found if n) / len(found):.0%} with any)"
    )


if __name__ == "__main__":
    main()
