"""All of newsbot's settings, in one typed tree.

Values come from (highest first) explicit overrides, `NEWSBOT_*` environment variables, a `.env`
file in the working directory, and the defaults below. `get_settings()` reads them once per call;
nothing reads settings at import time, and only the entry points (CLI, web app) call it. Everything
below the entry points receives ready-made objects instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["local", "openai", "openai_compatible"]


def _default_data_dir() -> Path:
    return Path(user_data_dir("newsbot", appauthor=False))


class Settings(BaseSettings):
    """newsbot configuration; every field is also `NEWSBOT_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -------------------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the Chroma store, the article registry, model files and caches.",
    )
    models_dir: Path | None = Field(
        default=None,
        description="Folder for the assembled local model files; unset means <data_dir>/models.",
    )
    collection: str = Field(
        default="news", description="Chroma collection that holds the article chunks."
    )
    chroma_host: str | None = Field(
        default=None,
        description="Host of a Chroma server (`chroma run`); unset means an embedded store in "
        "data_dir.",
    )
    chroma_port: int = Field(default=8000, description="Port of the Chroma server.")
    chroma_ssl: bool = Field(default=False, description="Use HTTPS to reach the Chroma server.")
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user:password@host:5432/db) for the article "
        "registry, the keyword index and the ingest lock, shared by every machine of a "
        "deployment; unset means a SQLite file in data_dir (one machine).",
    )

    # --- ingest --------------------------------------------------------------------------------
    # 200 cl100k tokens come to about 205 MiniLM word pieces, inside the embedder's 256-piece
    # window; at 300, 63% of the mini corpus's chunks lost their tails to truncation (measured).
    chunk_tokens: int = Field(
        default=200, ge=32, le=4000, description="Target chunk size in cl100k_base tokens."
    )
    chunk_overlap: int = Field(
        default=30, ge=0, description="Tokens shared by consecutive chunks of one article."
    )
    max_input_bytes: int = Field(
        default=200_000_000,
        ge=1,
        description="Largest input file or download accepted by ingest, in bytes.",
    )
    http_timeout: float = Field(
        default=20.0, gt=0, description="Seconds to wait for an article or feed URL."
    )

    # --- embeddings ----------------------------------------------------------------------------
    embedder: Provider = Field(
        default="local",
        description="Embedding provider: bundled ONNX MiniLM (local), OpenAI, or any "
        "OpenAI-compatible /embeddings endpoint.",
    )
    embedding_model: str = Field(
        default="text-embedding-3-small",
        description="Embedding model name for the openai and openai_compatible embedders.",
    )
    embedding_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible embeddings server."
    )
    embedding_api_key: str | None = Field(
        default=None, description="API key for the embeddings server (defaults to OPENAI_API_KEY)."
    )
    embed_batch_size: int = Field(
        default=32, ge=1, le=2048, description="Texts embedded per call to the embedder."
    )
    threads: int = Field(
        default=0, ge=0, description="CPU threads for the local models; 0 means all cores."
    )

    # --- answering -----------------------------------------------------------------------------
    llm_provider: Provider = Field(
        default="local",
        description="Chat model provider: bundled llama.cpp server (local), OpenAI, or any "
        "OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio).",
    )
    llm_model: str | None = Field(
        default=None,
        description="Model name sent to the server (default: gpt-4o-mini for openai, the GGUF "
        "file name for local).",
    )
    llm_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible server (defaults to OPENAI_BASE_URL).",
    )
    llm_api_key: str | None = Field(
        default=None, description="API key for the chat model server (defaults to OPENAI_API_KEY)."
    )
    llm_model_path: Path | None = Field(
        default=None,
        description="GGUF file for the local provider; unset means the bundled Qwen2.5 1.5B model.",
    )
    llm_context_tokens: int = Field(
        default=4096, ge=512, description="Context window of the local llama.cpp server."
    )
    llm_max_tokens: int = Field(
        default=400, ge=16, description="Most tokens generated for one answer."
    )
    llm_temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 keeps answers repeatable."
    )
    llm_timeout: float = Field(
        default=300.0, gt=0, description="Seconds to wait for the chat model to answer."
    )
    # Prompt length drives the first-token time on CPU (~40-70 prompt tokens/s on 2 cores). The
    # compact context (the best sentences of the top 4 chunks within 200 tokens) halved the
    # prompt and was as accurate as the top 3 chunks whole on the mini quiz (BENCHMARKS.md).
    top_k: int = Field(default=4, ge=1, le=50, description="Chunks retrieved for each question.")
    retrieval: Literal["auto", "hybrid", "dense"] = Field(
        default="auto",
        description="hybrid: fuse the embedding search with BM25 keyword search (SQLite FTS5 "
        "beside the registry); dense: embeddings only; auto: hybrid with the embedded store, "
        "dense with a Chroma server (each client's keyword index would only know what that "
        "client ingested).",
    )
    keywords_in_memory: bool = Field(
        default=True,
        description="Rank keyword search in each process's memory once it has read the keyword "
        "index (about 130 MB per 60k chunks; kept current from the index's change journal), "
        "instead of in the database for every search.",
    )
    # The weights below were chosen on the tuning half of the mini questions (BENCHMARKS.md,
    # ranking); the held-out half checks them.
    keyword_weight: float = Field(
        default=0.5,
        ge=0.0,
        le=10.0,
        description="Weight of the BM25 ranking against the embedding ranking (1) in hybrid "
        "retrieval's reciprocal rank fusion.",
    )
    recency_weight: float = Field(
        default=4.0,
        ge=0.0,
        le=10.0,
        description="Weight of the recency prior (0: off), in first places of one ranking: a "
        "chunk published `age` days before the question's date gains up to weight / 61 x "
        "recency_days / (recency_days + age), scaled by its similarity to the question "
        "relative to the best candidate's (vectorstore/ranking.py).",
    )
    recency_days: float = Field(
        default=14.0,
        gt=0.0,
        description="Scale of the recency prior in days: how much older a chunk must be to "
        "lose about half its bonus.",
    )
    context_tokens: int = Field(
        default=200,
        ge=0,
        le=4000,
        description="Compact context: give the model only the retrieved chunks' sentences that "
        "bear on the question, within about this many tokens (0: the top_k chunks whole).",
    )
    condense_follow_ups: bool = Field(
        default=False,
        description="Have the model rewrite a follow-up as a standalone question before "
        "searching (one more model call before the first word). Off: the follow-up is "
        "searched and answered beside the user's previous question, with no extra call.",
    )
    time_phrases: bool = Field(
        default=False,
        description='Search a question that names a time ("this week", "yesterday", "in '
        'June 2022") inside that window first, filling up from outside it when it holds too '
        "few passages.",
    )
    grounding: dict[str, float] = Field(
        default_factory=dict,
        description="Overrides of the answer check's thresholds, as JSON: e.g. "
        "'{\"cited_support\": 0.5}'; the names and defaults are in "
        "bot/answer/grounding/policy.py. For experiments; the defaults are measured.",
    )

    # --- web -----------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address `newsbot serve` listens on.")
    port: int = Field(default=7860, ge=0, le=65535, description="Port `newsbot serve` listens on.")
    auth: str | None = Field(
        default=None,
        description="`user:password` for the web app's login page (and HTTP Basic auth). With "
        "it or api_key set, every page and API route needs a credential; unset means open.",
    )
    api_key: str | None = Field(
        default=None,
        description="Key accepted as `Authorization: Bearer <key>` (or as the login password). "
        "With it or auth set, every page and API route needs a credential; unset means open.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins (e.g. https://example.com) allowed to call the app from a browser "
        'and to frame the widget; empty means same-origin only. ["*"] (any origin, no '
        "cookies) is refused when auth or api_key is set.",
    )

    # --- web: exposure and load (issue 12) -------------------------------------------------------
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names the web app answers to, besides localhost and IP addresses (a "
        'guard against DNS rebinding); e.g. ["news.example.com"]. ["*"] accepts any name.',
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses (or networks) of the reverse proxies in front of `newsbot serve` "
        "whose X-Forwarded-For and X-Forwarded-Proto are believed: the client's address then "
        "counts for the sign-in throttle, and https makes the session cookie Secure; e.g. "
        '["127.0.0.1"]. Empty: the headers are ignored (anyone could send them).',
    )
    max_active_answers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Questions the web app answers at once (match the chat model's parallel "
        "slots: 1 for the bundled model); more wait in the queue.",
    )
    max_queued_questions: int = Field(
        default=4,
        ge=0,
        le=1000,
        description="Questions that may wait for a free answer slot; beyond that the web app "
        "answers HTTP 429 with Retry-After.",
    )
    max_queue_wait: float = Field(
        default=120.0,
        gt=0,
        description="Seconds a question may wait in the queue before it gets HTTP 429; time in "
        "the queue does not count against NEWSBOT_LLM_TIMEOUT.",
    )
    max_history_chars: int = Field(
        default=6000,
        ge=500,
        description="Characters of recent chat history sent to the model with a follow-up; older "
        "turns are dropped so the prompt fits the model's context.",
    )

    # --- ingest: URL fetches and size limits (issue 12) ---------------------------------------
    fetch_allow_networks: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR, e.g. 10.0.0.0/8 or 127.0.0.1/32) that URL ingest may fetch "
        "from besides the public internet; empty refuses loopback, private, link-local, metadata "
        'and other non-public addresses. A JSON list: ["192.168.1.0/24"].',
    )
    fetch_max_bytes: int = Field(
        default=20_000_000,
        ge=1,
        description="Largest response body a URL fetch accepts, in bytes (after decompression).",
    )
    fetch_max_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds one URL fetch may take in all (redirects and a slow body included).",
    )
    max_article_chars: int = Field(
        default=300_000,
        ge=1000,
        description="Longest article text ingest accepts, in characters; a longer one is "
        "refused with a message (each takes minutes to embed).",
    )

    @field_validator("fetch_allow_networks", mode="after")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for network in value:
            try:
                ipaddress.ip_network(network.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"{network!r} is not an IP network such as 10.0.0.0/8") from exc
        return value

    @field_validator("database_url", mode="after")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must be a PostgreSQL URL such as postgresql://newsbot:secret@db:5432/newsbot"
            )
        return value or None

    @field_validator("data_dir", "models_dir", "llm_model_path", mode="after")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @model_validator(mode="after")
    def _check_shared_database(self) -> Settings:
        # A shared registry describes the vectors every machine shares; beside an embedded
        # store (one per machine) it would tell one machine that another's articles are stored.
        if self.database_url and not self.chroma_host:
            raise ValueError(
                "NEWSBOT_DATABASE_URL is for deployments with a Chroma server: set "
                "NEWSBOT_CHROMA_HOST too, or unset NEWSBOT_DATABASE_URL to keep the registry in "
                "the data dir"
            )
        return self

    @model_validator(mode="after")
    def _check_overlap(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_tokens "
                f"({self.chunk_tokens})"
            )
        return self

    # The usual OpenAI variables are respected when the newsbot-specific ones are unset.
    @property
    def resolved_llm_api_key(self) -> str | None:
        return self.llm_api_key or os.environ.get("OPENAI_API_KEY")

    @property
    def resolved_llm_base_url(self) -> str | None:
        return self.llm_base_url or os.environ.get("OPENAI_BASE_URL")

    @property
    def resolved_embedding_api_key(self) -> str | None:
        return self.embedding_api_key or os.environ.get("OPENAI_API_KEY")

    @property
    def resolved_embedding_base_url(self) -> str | None:
        return self.embedding_base_url or os.environ.get("OPENAI_BASE_URL")

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def resolved_threads(self) -> int:
        return self.threads or os.cpu_count() or 1


def get_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and `.env`, with explicit overrides on top.

    Raises:
        ConfigError: when a value is malformed; the message names the variable.
    """
    from pydantic import ValidationError

    from newsbot.errors import ConfigError

    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSBOT_{'_'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid settings: {problems}") from exc
