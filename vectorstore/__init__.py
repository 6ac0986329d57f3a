"""Where article chunks live: embedders, the Chroma client, the article registry and `NewsStore`.

- `records`: the frozen dataclasses the store takes (`ArticleMeta`, `ChunkText`) and returns
  (`ArticleRow`, `Passage`).
- `chunks`: a chunk's Chroma id and metadata, and the `Passage` read back from a query row.
- `embeddings`: the offline MiniLM int8 ONNX embedder and the OpenAI(-compatible) one.
- `client`: an embedded Chroma in the data dir, or a `chroma run` server.
- `sharing` and `locks`: how processes sharing a data dir see each other's writes (reopen on a
  moved counter, writers in turn under file locks).
- `collection`: newsbot's collection, checked against the embedder and kept current.
- `registry`: one SQLite row per article (hash, chunk count, pending/done) for skip checks,
  stats and listings.
- `filters`: which chunks a search filtered by date range and sources keeps.
- `keywords`: the BM25 keyword index (SQLite FTS5) beside the registry.
- `ranking`: reciprocal rank fusion of the dense and keyword rankings, and the recency prior.
- `search`: the read path: dense and keyword candidates, filtered by the registry, fused.
- `store`: `NewsStore`, the crash-safe writer that ties them together and searches through
  `search`.
"""
