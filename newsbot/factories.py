"""The composition root: builds newsbot's parts from `Settings`.

One factory per kind of part. The CLI and the web entry point call these; everything below them
receives the finished objects, so no other module reads settings.
"""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from newsbot.errors import ConfigError, StoreError
from newsbot.settings import Settings

if TYPE_CHECKING:
    import httpx
    from langchain_core.embeddings import Embeddings
    from langchain_openai import ChatOpenAI

    from bot.answer.assistant import Assistant
    from bot.llm.local_server import LocalLLMServer
    from vectorstore.ranking import RankingPolicy
    from vectorstore.registry import ArticleRegistry
    from vectorstore.store import NewsStore

log = logging.getLogger(__name__)

T = TypeVar("T")
TIME_PHRASES = "time_phrases"
"""The NEWSBOT_TUNING switch that searches a question naming a time inside that window first."""


def build_embeddings(settings: Settings) -> Embeddings:
    """The embedder the settings choose: bundled ONNX MiniLM or an OpenAI(-compatible) endpoint."""
    from vectorstore.embeddings import LocalMiniLMEmbeddings, make_openai_embeddings

    if settings.embedder.provider == "local":
        return LocalMiniLMEmbeddings(
            batch_size=settings.embedder.batch_size, threads=settings.limits.resolved_threads
        )
    base_url = settings.embedder.resolved_base_url
    if settings.embedder.provider == "openai_compatible" and not base_url:
        raise ConfigError(
            "NEWSBOT_EMBEDDER=openai_compatible needs NEWSBOT_EMBEDDING_BASE_URL "
            "(e.g. http://localhost:8000/v1)"
        )
    return make_openai_embeddings(
        model=settings.embedder.model,
        api_key=settings.embedder.resolved_api_key,
        base_url=base_url,
        batch_size=settings.embedder.batch_size,
    )


def build_registry(settings: Settings, collection: str | None = None) -> ArticleRegistry:
    """The article registry of the collection the settings point at, in the deployment's
    database (opening it loads neither Chroma nor an embedder, so `newsbot stats` starts fast)."""
    from vectorstore.registry import ArticleRegistry

    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    return ArticleRegistry.for_collection(
        settings.storage.data_dir,
        collection or settings.storage.collection,
        settings.storage.chroma_host,
        settings.storage.chroma_port,
        settings.storage.database_url,
    )


def build_store(settings: Settings, collection: str | None = None) -> NewsStore:
    """Open (or create) the Chroma collection and article registry the settings point at, with
    the keyword index beside the registry (always kept in step; searched as `retrieval` says)."""
    from vectorstore.client import make_chroma_client
    from vectorstore.keywords import keyword_index
    from vectorstore.store import NewsStore

    name = collection or settings.storage.collection
    embeddings = build_embeddings(settings)
    registry = build_registry(settings, name)
    client = make_chroma_client(
        settings.storage.data_dir,
        settings.storage.chroma_host,
        settings.storage.chroma_port,
        settings.storage.chroma_ssl,
    )
    keywords = keyword_index(
        registry.database, name, in_memory=settings.retrieval.keywords_in_memory
    )
    return NewsStore(
        client, name, embeddings, registry, keywords=keywords, ranking=ranking(settings)
    )


def repaired_store(settings: Settings) -> NewsStore:
    """The store of the settings, its embedded vector index rebuilt from the stored chunks
    (`newsbot repair`): opened first, so a store that cannot open loses nothing.

    Raises:
        ConfigError: the index is a Chroma server's.
        StoreError: the store has no such collection.
    """
    from vectorstore.client import CHROMA_SUBDIR
    from vectorstore.repair import index_folder

    storage = settings.storage
    if storage.chroma_host:
        raise ConfigError(
            f"The vector index is kept by the Chroma server at {storage.chroma_host}; "
            "`newsbot repair` rebuilds the index of an embedded store (unset NEWSBOT_CHROMA_HOST)"
        )
    if index_folder(storage.data_dir / CHROMA_SUBDIR, storage.collection) is None:
        raise StoreError(f"There is no collection {storage.collection!r} to repair")
    store = build_store(settings)
    store.rebuild_index()
    return store


def ranking(settings: Settings) -> RankingPolicy:
    """How searches rank: the measured weights, with NEWSBOT_TUNING's overrides, dense only
    where keywords would not know every article (see `vectorstore.ranking`)."""
    from vectorstore.ranking import RankingPolicy

    mode = settings.retrieval.retrieval
    if mode == "auto":
        # A keyword index that every client shares (PostgreSQL) or that is the only one (embedded
        # store); with a Chroma server and per-machine files, each would know only its writes.
        shared = settings.storage.database_url or not settings.storage.chroma_host
        mode = "hybrid" if shared else "dense"
    policy = tuned(RankingPolicy, settings)
    return policy if mode == "hybrid" else replace(policy, keyword_weight=0.0)


def tuned(policy: type[T], settings: Settings) -> T:
    """A policy object with the NEWSBOT_TUNING values that name its fields.

    Raises:
        ConfigError: a tuning name no policy knows, or a value its policy refuses.
    """
    from bot.answer.grounding import GroundingPolicy
    from vectorstore.ranking import RankingPolicy

    known = {f.name for kind in (RankingPolicy, GroundingPolicy) for f in fields(kind)}
    unknown = sorted(set(settings.tuning) - known - {TIME_PHRASES})
    if unknown:
        raise ConfigError(f"NEWSBOT_TUNING: unknown names {unknown}; known: {sorted(known)}")
    mine = {f.name for f in fields(policy)}  # type: ignore[arg-type]
    try:
        return policy(**{k: v for k, v in settings.tuning.items() if k in mine})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"NEWSBOT_TUNING: {exc}") from exc


def chunking(settings: Settings) -> dict[str, Any]:
    """How ingest cuts articles into chunks, as the settings give it: the keyword arguments
    `ingest.pipeline.ingest` (and a followed source's poll) take for it."""
    return {
        "tiktoken_cache_dir": settings.storage.data_dir / "tiktoken",
        "chunk_tokens": settings.retrieval.chunk_tokens,
        "overlap": settings.retrieval.chunk_overlap,
    }


def embedder_setting(settings: Settings) -> str:
    """The configured embedder in words, without loading it ("local", "openai:<model>")."""
    if settings.embedder.provider == "local":
        return "local"
    return f"{settings.embedder.provider}:{settings.embedder.model}"


def build_local_server(settings: Settings) -> LocalLLMServer:
    """The in-process llama.cpp server (not started until first use)."""
    from bot.llm.local_server import shared_server
    from bot.llm.model_files import resolve_model_path

    model_path = resolve_model_path(settings.model.model_path, settings.storage.resolved_models_dir)
    return shared_server(
        model_path, n_ctx=settings.model.context_tokens, threads=settings.limits.resolved_threads
    )


def build_llm(settings: Settings, http_client: httpx.Client | None = None) -> ChatOpenAI:
    """The chat model, always behind the OpenAI protocol (over `http_client` when given: the web
    app's, whose calls a client's disconnect stops)."""
    from bot.llm.providers import make_chat_model

    factory = partial(build_local_server, settings) if settings.model.provider == "local" else None
    return make_chat_model(
        settings.model.provider,
        model=settings.model.model,
        base_url=settings.model.resolved_base_url,
        api_key=settings.model.resolved_api_key,
        temperature=settings.model.temperature,
        max_tokens=settings.model.max_tokens,
        timeout=settings.model.timeout,
        local_server_factory=factory,
        http_client=http_client,
    )


def build_assistant(
    settings: Settings, store: NewsStore | None = None, http_client: httpx.Client | None = None
) -> Assistant:
    """The answering assistant over the configured store and model (`http_client`: as for
    `build_llm`)."""
    from bot.answer.assistant import Assistant
    from prompts import load_prompts

    return Assistant(
        store if store is not None else build_store(settings),
        build_llm(settings, http_client),
        load_prompts(),
        **answer_options(settings),
    )


def answer_options(settings: Settings) -> dict[str, Any]:
    """The assistant's numbers and switches, as the settings give them (`Assistant`'s keyword
    arguments; the settings hold their only defaults)."""
    from bot.answer.grounding import GroundingPolicy

    return {
        "k": settings.retrieval.top_k,
        "max_history_chars": settings.limits.max_history_chars,
        "context_tokens": settings.retrieval.context_tokens,
        "time_windows": bool(settings.tuning.get(TIME_PHRASES, False)),
        "condense_follow_ups": settings.retrieval.condense_follow_ups,
        "policy": tuned(GroundingPolicy, settings),
    }
