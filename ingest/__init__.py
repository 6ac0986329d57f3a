"""Ingest: news inputs (files, folders, globs, URLs) → cleaned `Article`s → token chunks → store.

Entry point: `ingest.pipeline.ingest(sources, store, *, tiktoken_cache_dir, ...) -> IngestReport`.
Parts: `ingest.sources` (expand arguments, read each), `ingest.loaders.*` (one reader per format),
`ingest.article` (record, id rules), `ingest.cleaning`, `ingest.dates`, `ingest.tokens` (offline
cl100k_base) and `ingest.chunking` (token chunks with exact character offsets).
"""
