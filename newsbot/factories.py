"""The composition root: builds newsbot's parts from `Settings`.

One factory per kind of part. The CLI and the web entry point call these; everything below them
receives the finished objects, so no other module reads settings.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from newsbot.errors import ConfigError
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


def build_embeddings(settings: Settings) -> Embeddings:
    """The embedder the settings choose: bundled ONNX MiniLM or an OpenAI(-compatible) endpoint."""
    from vectorstore.embeddings import LocalMiniLMEmbeddings, make_openai_embeddings

    if settings.embedder == "local":
        return LocalMiniLMEmbeddings(
            batch_size=settings.embed_batch_size, threads=settings.resolved_threads
        )
    base_url = settings.resolved_embedding_base_url
    if settings.embedder == "openai_compatible" and not base_url:
        raise ConfigError(
            "NEWSBOT_EMBEDDER=openai_compatible needs NEWSBOT_EMBEDDING_BASE_URL "
            "(e.g. http://localhost:8000/v1)"
        )
    return make_openai_embeddings(
        model=settings.embedding_model,
        api_key=settings.resolved_embedding_api_key,
        base_url=base_url,
        batch_size=settings.embed_batch_size,
    )


def build_registry(settings: Settings, collection: str | None = None) -> ArticleRegistry:
    """The article registry of the collection the settings point at, in the deployment's
    database (opening it loads neither Chroma nor an embedder, so `newsbot stats` starts fast)."""
    from vectorstore.registry import ArticleRegistry

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return ArticleRegistry.for_collection(
        settings.data_dir,
        collection or settings.collection,
        settings.chroma_host,
        settings.chroma_port,
        settings.database_url,
    )


def build_store(settings: Settings, collection: str | None = None) -> NewsStore:
    """Open (or create) the Chroma collection and article registry the settings point at, with
    the keyword index beside the registry (always kept in step; searched as `retrieval` says)."""
    from vectorstore.client import make_chroma_client
    from vectorstore.keywords import keyword_index
    from vectorstore.store import NewsStore

    name = collection or settings.collection
    embeddings = build_embeddings(settings)
    registry = build_registry(settings, name)
    client = make_chroma_client(
        settings.data_dir, settings.chroma_host, settings.chroma_port, settings.chroma_ssl
    )
    keywords = keyword_index(registry.database, name, in_memory=settings.keywords_in_memory)
    return NewsStore(
        client, name, embeddings, registry, keywords=keywords, ranking=ranking(settings)
    )


def ranking(settings: Settings) -> RankingPolicy:
    """How searches rank, from the settings (see `vectorstore.ranking`)."""
    from vectorstore.ranking import RankingPolicy

    mode = settings.retrieval
    if mode == "auto":
        # A keyword index that every client shares (PostgreSQL) or that is the only one (embedded
        # store); with a Chroma server and per-machine files, each would know only its writes.
        mode = "dense" if settings.chroma_host and not settings.database_url else "hybrid"
    return RankingPolicy(
        keyword_weight=settings.keyword_weight if mode == "hybrid" else 0.0,
        recency_weight=settings.recency_weight,
        recency_days=settings.recency_days,
    )


def embedder_setting(settings: Settings) -> str:
    """The configured embedder in words, without loading it ("local", "openai:<model>")."""
    if settings.embedder == "local":
        return "local"
    return f"{settings.embedder}:{settings.embedding_model}"


def build_local_server(settings: Settings) -> LocalLLMServer:
    """The in-process llama.cpp server (not started until first use)."""
    from bot.llm.local_server import shared_server
    from bot.llm.model_files import resolve_model_path

    model_path = resolve_model_path(settings.llm_model_path, settings.resolved_models_dir)
    return shared_server(
        model_path, n_ctx=settings.llm_context_tokens, threads=settings.resolved_threads
    )


def build_llm(settings: Settings, http_client: httpx.Client | None = None) -> ChatOpenAI:
    """The chat model, always behind the OpenAI protocol (over `http_client` when given: the web
    app's, whose calls a client's disconnect stops)."""
    from bot.llm.providers import make_chat_model

    factory = partial(build_local_server, settings) if settings.llm_provider == "local" else None
    return make_chat_model(
        settings.llm_provider,
        model=settings.llm_model,
        base_url=settings.resolved_llm_base_url,
        api_key=settings.resolved_llm_api_key,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
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

    try:
        policy = GroundingPolicy.from_overrides(settings.grounding)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"NEWSBOT_GROUNDING: {exc}") from exc
    return {
        "k": settings.top_k,
        "max_history_chars": settings.max_history_chars,
        "context_tokens": settings.context_tokens,
        "time_windows": settings.time_phrases,
        "condense_follow_ups": settings.condense_follow_ups,
        "policy": policy,
    }
