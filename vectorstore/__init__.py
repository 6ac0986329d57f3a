"""Where article chunks live: embedders, the Chroma client, the article registry and `NewsStore`.

- `records`: the frozen dataclasses the store takes (`ArticleMeta`, `ChunkText`) and returns
  (`ArticleRow`, `Passage`).
- `embeddings`: the offline MiniLM int8 ONNX embedder and the OpenAI(-compatible) one.
- `client`: an embedded Chroma in the data dir, or a `chroma run` server.
- `registry`: one SQLite row per article (hash, chunk count, pending/done) for skip checks,
  stats and listings.
- `store`: `NewsStore`, the crash-safe writer and searcher that ties them together.
"""
