"""The embedders: the real bundled ONNX model, its file checks, and the OpenAI-protocol embedder
against a real local HTTP server that answers /v1/embeddings."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from newsbot.errors import ConfigError, ModelError
from tests.loopback_http import serving
from vectorstore.embeddings import (
    LOCAL_DIMENSION,
    LOCAL_NAME,
    MAX_TOKENS,
    LocalMiniLMEmbeddings,
    default_model_path,
    default_tokenizer_path,
    embedder_info,
    make_openai_embeddings,
)

TEXTS = [
    "Pakistan and the United States agreed to work together against fake visa networks.",
    "The central bank raised interest rates by half a percentage point to fight inflation.",
    "A short one.",
    "Heavy rain flooded the streets of the capital overnight, and schools were closed on Monday.",
]


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbeddings:
    model = LocalMiniLMEmbeddings(batch_size=2, threads=2)
    model.load()
    return model


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_vectors_are_unit_length_and_384_wide(embedder: LocalMiniLMEmbeddings) -> None:
    vectors = np.array(embedder.embed_documents(TEXTS))
    assert vectors.shape == (len(TEXTS), LOCAL_DIMENSION)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.name == LOCAL_NAME
    assert embedder_info(embedder).dimension == LOCAL_DIMENSION


def test_deterministic_and_in_input_order(embedder: LocalMiniLMEmbeddings) -> None:
    first = embedder.embed_documents(TEXTS)
    again = embedder.embed_documents(TEXTS)
    assert first == again
    # Batches are sorted by length inside; each vector must still belong to its own text.
    for text, vector in zip(TEXTS, first, strict=True):
        assert cosine(embedder.embed_query(text), vector) > 0.9999


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(
    embedder: LocalMiniLMEmbeddings,
) -> None:
    query = embedder.embed_query("What did Pakistan and the US agree on about visas?")
    paraphrase, unrelated = embedder.embed_documents([TEXTS[0], TEXTS[1]])
    assert cosine(query, paraphrase) > cosine(query, unrelated) + 0.2


def test_long_texts_are_cut_at_the_models_limit(embedder: LocalMiniLMEmbeddings) -> None:
    long_text = " ".join(["inflation"] * 1000)
    assert embedder.count_tokens([long_text, "two words"]) == [MAX_TOKENS, 4]
    # Everything after the limit is ignored, as in sentence-transformers.
    same = embedder.embed_documents([long_text, " ".join(["inflation"] * 600)])
    assert cosine(same[0], same[1]) > 0.9999
    assert embedder.embed_documents([]) == []


def test_corrupt_model_file_is_refused(tmp_path: Path) -> None:
    source = default_model_path()
    assert source is not None
    copy = tmp_path / "model.onnx"
    shutil.copyfile(source, copy)
    with copy.open("r+b") as handle:
        handle.seek(4096)
        byte = handle.read(1)
        handle.seek(4096)
        handle.write(bytes([byte[0] ^ 0xFF]))
    model = LocalMiniLMEmbeddings(model_path=copy)
    with pytest.raises(ModelError, match=r"damaged or a different version.*force-reinstall"):
        model.embed_query("anything")


def test_missing_tokenizer_is_refused(tmp_path: Path) -> None:
    model = LocalMiniLMEmbeddings(tokenizer_path=tmp_path / "nowhere" / "tokenizer.json")
    with pytest.raises(ModelError, match=r"tokenizer is missing.*reinstall"):
        model.load()


def test_edited_tokenizer_is_refused(tmp_path: Path) -> None:
    source = default_tokenizer_path()
    assert source is not None
    copy = tmp_path / "tokenizer.json"
    copy.write_text(source.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(ModelError, match="tokenizer at"):
        LocalMiniLMEmbeddings(tokenizer_path=copy).load()


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="batch size"):
        LocalMiniLMEmbeddings(batch_size=0)
    with pytest.raises(ConfigError, match="threads"):
        LocalMiniLMEmbeddings(threads=-1)


def test_openai_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_openai_embeddings("text-embedding-3-small", api_key=None, base_url=None)


def test_openai_embedder_knows_its_name_and_dimension_without_a_call() -> None:
    embeddings = make_openai_embeddings("text-embedding-3-small", api_key="sk-test", base_url=None)
    assert embeddings.name == "openai/text-embedding-3-small"
    assert embeddings.dimension == 1536
    assert embeddings.check_embedding_ctx_length


@pytest.fixture
def embeddings_server(
    embedder: LocalMiniLMEmbeddings,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server speaking OpenAI's /v1/embeddings, backed by the local model."""
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            vectors = embedder.embed_documents(texts)
            payload = json.dumps(
                {
                    "object": "list",
                    "model": body["model"],
                    "data": [
                        {"object": "embedding", "index": i, "embedding": v}
                        for i, v in enumerate(vectors)
                    ],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url + "/v1", requests


def test_openai_compatible_server_gets_raw_text_in_batches(
    embeddings_server: tuple[str, list[dict[str, Any]]], embedder: LocalMiniLMEmbeddings
) -> None:
    base_url, requests = embeddings_server
    remote = make_openai_embeddings("minilm", api_key=None, base_url=base_url, batch_size=3)
    assert remote.name == "openai_compatible/minilm"
    assert remote.dimension == LOCAL_DIMENSION  # measured on a probe text
    vectors = remote.embed_documents(TEXTS)
    assert [len(r["input"]) for r in requests[1:]] == [3, 1]
    assert all(isinstance(text, str) for r in requests for text in r["input"])
    for text, vector in zip(TEXTS, vectors, strict=True):
        assert cosine(vector, embedder.embed_query(text)) > 0.999


def test_unreachable_server_is_a_model_error() -> None:
    remote = make_openai_embeddings("minilm", api_key=None, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ModelError, match="NEWSBOT_EMBEDDING_BASE_URL"):
        _ = remote.dimension
