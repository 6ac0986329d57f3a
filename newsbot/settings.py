"""All of newsbot's settings, in groups a person can read: storage, model, embedder, retrieval,
web, fetch and limits, plus one door for tuning.

Each group reads its own `NEWSBOT_*` environment variables (and a `.env` file in the working
directory) through pydantic-settings; the names are the ones newsbot always used, so
`NEWSBOT_LLM_PROVIDER` is `settings.model.provider` and `NEWSBOT_TOP_K` is
`settings.retrieval.top_k`. Explicit overrides (`get_settings(data_dir=...)`) use the same flat
names. Nothing reads settings at import time: the entry points (CLI, web app) call
`get_settings()` and hand everything below them finished objects.

Numbers chosen by measurement (the ranking weights, the answer check's thresholds) live with the
policy objects that use them (`vectorstore.ranking.RankingPolicy`,
`bot.answer.grounding.GroundingPolicy`); `NEWSBOT_TUNING` overrides any of them by name.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from platformdirs import user_data_dir
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from newsbot.errors import ConfigError

Provider = Literal["local", "openai", "openai_compatible"]

# Variables that were settings of their own and are now keys of NEWSBOT_TUNING (or renamed):
# refused with a message that names the new spelling, rather than silently ignored.
MOVED = {
    "NEWSBOT_KEYWORD_WEIGHT": "NEWSBOT_TUNING='{\"keyword_weight\": 0.5}'",
    "NEWSBOT_RECENCY_WEIGHT": "NEWSBOT_TUNING='{\"recency_weight\": 4}'",
    "NEWSBOT_RECENCY_DAYS": "NEWSBOT_TUNING='{\"recency_days\": 14}'",
    "NEWSBOT_GROUNDING": "NEWSBOT_TUNING (same JSON keys, e.g. '{\"cited_support\": 0.5}')",
    "NEWSBOT_TIME_PHRASES": "NEWSBOT_TUNING='{\"time_phrases\": true}'",
}


def _default_data_dir() -> Path:
    return Path(user_data_dir("newsbot", appauthor=False))


def _group_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=f"NEWSBOT_{prefix}",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )


class Group(BaseSettings):
    """A group of settings; `PREFIX` joins NEWSBOT_ and a field's name into its variable."""

    PREFIX: ClassVar[str] = ""

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable of one field."""
        alias = cls.model_fields[field].validation_alias
        return alias if isinstance(alias, str) else f"NEWSBOT_{cls.PREFIX}{field}".upper()


_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]")


class StorageSettings(Group):
    """Where articles, vectors and model files live."""

    model_config = _group_config("")

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

    keep_days: int | None = Field(
        default=None,
        ge=1,
        description="Remove articles published (or, undated, stored) more than this many days "
        "ago, except pinned ones; checked by `newsbot serve` and `newsbot follow run` every "
        "hour. Unset keeps everything.",
    )

    @field_validator("data_dir", "models_dir", mode="after")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("collection", mode="after")
    @classmethod
    def _check_collection(cls, value: str) -> str:
        # Chroma's rule, checked before any command: an empty name (a blank line of a .env
        # template) otherwise named a folder of the data dir in its error.
        if not _COLLECTION_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a collection name: use 3-512 letters, digits, '.', '_' or '-' "
                "that starts and ends with a letter or digit"
            )
        return value

    @field_validator("database_url", mode="after")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must be a PostgreSQL URL such as postgresql://newsbot:secret@db:5432/newsbot"
            )
        return value or None

    @model_validator(mode="after")
    def _check_shared_database(self) -> StorageSettings:
        # A shared registry describes the vectors every machine shares; beside an embedded
        # store (one per machine) it would tell one machine that another's articles are stored.
        if self.database_url and not self.chroma_host:
            raise ValueError(
                "NEWSBOT_DATABASE_URL is for deployments with a Chroma server: set "
                "NEWSBOT_CHROMA_HOST too, or unset NEWSBOT_DATABASE_URL to keep the registry in "
                "the data dir"
            )
        return self

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"


class ModelSettings(Group):
    """The chat model, always reached through the OpenAI protocol (`NEWSBOT_LLM_*`)."""

    PREFIX = "LLM_"
    model_config = _group_config("LLM_")

    provider: Provider = Field(
        default="local",
        description="Chat model provider: bundled llama.cpp server (local), OpenAI, or any "
        "OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio).",
    )
    model: str | None = Field(
        default=None,
        description="Model name sent to the server (default: gpt-4o-mini for openai, the GGUF "
        "file name for local).",
    )
    base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible server (defaults to OPENAI_BASE_URL).",
    )
    api_key: str | None = Field(
        default=None, description="API key for the chat model server (defaults to OPENAI_API_KEY)."
    )
    model_path: Path | None = Field(
        default=None,
        description="GGUF file for the local provider; unset means the bundled Qwen2.5 1.5B model.",
    )
    context_tokens: int = Field(
        default=4096, ge=512, description="Context window of the local llama.cpp server."
    )
    max_tokens: int = Field(default=400, ge=16, description="Most tokens generated for one answer.")
    temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 keeps answers repeatable."
    )
    timeout: float = Field(
        default=300.0, gt=0, description="Seconds to wait for the chat model to answer."
    )

    @field_validator("model_path", mode="after")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    # The usual OpenAI variables are respected when the newsbot-specific ones are unset.
    @property
    def resolved_api_key(self) -> str | None:
        return self.api_key or os.environ.get("OPENAI_API_KEY")

    @property
    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL")


class EmbedderSettings(Group):
    """The embedder that turns chunks and questions into vectors (`NEWSBOT_EMBEDDING_*`)."""

    PREFIX = "EMBEDDING_"
    model_config = _group_config("EMBEDDING_")

    provider: Provider = Field(
        default="local",
        validation_alias="NEWSBOT_EMBEDDER",
        description="Embedding provider: bundled ONNX MiniLM (local), OpenAI, or any "
        "OpenAI-compatible /embeddings endpoint.",
    )
    model: str = Field(
        default="text-embedding-3-small",
        description="Embedding model name for the openai and openai_compatible embedders.",
    )
    base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible embeddings server."
    )
    api_key: str | None = Field(
        default=None, description="API key for the embeddings server (defaults to OPENAI_API_KEY)."
    )
    batch_size: int = Field(
        default=32,
        ge=1,
        le=2048,
        validation_alias="NEWSBOT_EMBED_BATCH_SIZE",
        description="Texts embedded per call to the embedder.",
    )

    @property
    def resolved_api_key(self) -> str | None:
        return self.api_key or os.environ.get("OPENAI_API_KEY")

    @property
    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL")


class RetrievalSettings(Group):
    """How articles are cut into chunks and which of them a question reads."""

    model_config = _group_config("")

    # 200 cl100k tokens come to about 205 MiniLM word pieces, inside the embedder's 256-piece
    # window; at 300, 63% of the mini corpus's chunks lost their tails to truncation (measured).
    chunk_tokens: int = Field(
        default=200, ge=32, le=4000, description="Target chunk size in cl100k_base tokens."
    )
    chunk_overlap: int = Field(
        default=30, ge=0, description="Tokens shared by consecutive chunks of one article."
    )
    # Prompt length drives the first-token time on CPU: see BENCHMARKS.md for the choice of 4
    # chunks read through the compact context.
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
        "searched and answered beside the user's previous question, with no extra call (and "
        "searched alone too when it names a subject of its own).",
    )

    @model_validator(mode="after")
    def _check_overlap(self) -> RetrievalSettings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_tokens "
                f"({self.chunk_tokens})"
            )
        return self


class WebSettings(Group):
    """Who may reach `newsbot serve`, and where it listens."""

    model_config = _group_config("")

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
    log_questions: bool = Field(
        default=False,
        description="Keep a question log in the registry database: each web answer's question, "
        "answer, sources, refusal and timings, and readers' votes and comments (no addresses or "
        "cookies). Off: nothing is kept and feedback is refused (SECURITY.md).",
    )
    log_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days the question log keeps a question (and its vote); older ones are "
        "deleted.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: `newsbot serve` writes its access and answer logs as one JSON "
        "object a line (for log collectors); `text`: plain lines.",
    )


class FetchSettings(Group):
    """What URL ingest may fetch, and how much (`NEWSBOT_FETCH_*`)."""

    PREFIX = "FETCH_"
    model_config = _group_config("FETCH_")

    allow_networks: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR, e.g. 10.0.0.0/8 or 127.0.0.1/32) that URL ingest may fetch "
        "from besides the public internet; empty refuses loopback, private, link-local, metadata "
        'and other non-public addresses. A JSON list: ["192.168.1.0/24"].',
    )
    max_bytes: int = Field(
        default=20_000_000,
        ge=1,
        description="Largest response body a URL fetch accepts, in bytes (after decompression).",
    )
    max_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds one URL fetch may take in all (redirects and a slow body included).",
    )
    timeout: float = Field(
        default=20.0,
        gt=0,
        validation_alias="NEWSBOT_HTTP_TIMEOUT",
        description="Seconds to wait for an article or feed URL to answer.",
    )

    follow_in_serve: bool = Field(
        default=True,
        validation_alias="NEWSBOT_FOLLOW_IN_SERVE",
        description="Poll the followed feeds and sitemaps (`newsbot follow add`) on a background "
        "thread of `newsbot serve`; off when a worker machine runs `newsbot follow run`.",
    )
    follow_lease: float = Field(
        default=120.0,
        ge=1.0,
        validation_alias="NEWSBOT_FOLLOW_LEASE_SECONDS",
        description="Seconds a poller holds a followed source before another replica may take "
        "it over (a killed poller's sources are picked up after at most this long).",
    )

    @field_validator("allow_networks", mode="after")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"{network!r} is not an IP network such as 10.0.0.0/8") from exc
        return value


class LimitsSettings(Group):
    """How much work one machine takes on: answers at once, the queue, input sizes, threads."""

    model_config = _group_config("")

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
    max_input_bytes: int = Field(
        default=200_000_000,
        ge=1,
        description="Largest input file or download accepted by ingest, in bytes.",
    )
    max_article_chars: int = Field(
        default=300_000,
        ge=1000,
        description="Longest article text ingest accepts, in characters; a longer one is "
        "refused with a message (each takes minutes to embed).",
    )
    threads: int = Field(
        default=0, ge=0, description="CPU threads for the local models; 0 means all cores."
    )

    @property
    def resolved_threads(self) -> int:
        return self.threads or os.cpu_count() or 1


class TuningSettings(Group):
    """Overrides of measured numbers, by the name their policy object gives them."""

    model_config = _group_config("")

    tuning: dict[str, float | bool] = Field(
        default_factory=dict,
        description="Overrides of measured numbers, as JSON: the ranking's keyword_weight, "
        "recency_weight and recency_days (vectorstore/ranking.py), the answer check's "
        "thresholds (bot/answer/grounding/policy.py) and time_phrases (search a question "
        "that names a time inside that window first). For experiments: the defaults are "
        "measured (BENCHMARKS.md).",
    )


GROUPS: dict[str, type[Group]] = {
    "storage": StorageSettings,
    "model": ModelSettings,
    "embedder": EmbedderSettings,
    "retrieval": RetrievalSettings,
    "web": WebSettings,
    "fetch": FetchSettings,
    "limits": LimitsSettings,
    "tuning": TuningSettings,
}


class Settings(BaseModel):
    """newsbot's configuration, one group per concern (see the module docstring)."""

    storage: StorageSettings
    model: ModelSettings
    embedder: EmbedderSettings
    retrieval: RetrievalSettings
    web: WebSettings
    fetch: FetchSettings
    limits: LimitsSettings
    tuning: dict[str, float | bool]

    def replace(self, **overrides: Any) -> Settings:
        """These settings with some values replaced, by their flat names (`top_k=8`)."""
        update: dict[str, Any] = {}
        for key, value in overrides.items():
            group, field = _locate(key)
            if group == "tuning":
                update["tuning"] = value
            else:
                current = update.get(group, getattr(self, group))
                update[group] = current.model_copy(update={field: value})
        return self.model_copy(update=update)


def _flat_names() -> dict[str, tuple[str, str]]:
    """Every setting's flat name (its variable without NEWSBOT_, lower case) -> (group, field)."""
    return {
        cls.env_name(field).removeprefix("NEWSBOT_").lower(): (group, field)
        for group, cls in GROUPS.items()
        for field in cls.model_fields
    }


def _locate(flat_name: str) -> tuple[str, str]:
    try:
        return _flat_names()[flat_name]
    except KeyError:
        raise ConfigError(f"unknown setting {flat_name!r}") from None


def _refuse_moved() -> None:
    from dotenv import dotenv_values

    names = set(os.environ) | set(dotenv_values(".env") if Path(".env").is_file() else {})
    for old, new in MOVED.items():
        if old in names:
            raise ConfigError(f"{old} is no longer read: use {new}")


def get_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and `.env`, with explicit overrides (flat names
    such as `data_dir`, `top_k`, `llm_provider`) on top.

    Raises:
        ConfigError: when a value is malformed (the message names the variable), or a variable
            that moved is still set (the message names its new spelling).
    """
    _refuse_moved()
    per_group: dict[str, dict[str, Any]] = {name: {} for name in GROUPS}
    for key, value in overrides.items():
        if value is not None:
            group, field = _locate(key)
            per_group[group][field] = value
    built: dict[str, Any] = {}
    for name, cls in GROUPS.items():
        try:
            built[name] = cls(**per_group[name])
        except ValidationError as exc:
            problems = "; ".join(
                f"{_variable(cls, err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"Invalid settings: {problems}") from exc
        except SettingsError as exc:  # a list or mapping variable that is not JSON
            quoted = _QUOTED.search(str(exc))
            variable = _variable(cls, (quoted.group(1),) if quoted else ())
            raise ConfigError(
                f"Invalid settings: {variable} is not JSON ({exc.__cause__ or exc}): write a "
                'list as ["a", "b"], a mapping as {"name": 1}'
            ) from exc
    built["tuning"] = built["tuning"].tuning
    return Settings(**built)


_QUOTED = re.compile(r'field "([^"]+)"')


def _variable(cls: type[Group], loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else ""
    if field in cls.model_fields:
        return cls.env_name(field)
    return field.upper() if field.startswith("NEWSBOT_") else f"NEWSBOT_{cls.PREFIX or ''}SETTINGS"
