"""One factory for the chat model: every provider is `ChatOpenAI` over the OpenAI protocol.

- `local`: the in-process llama.cpp server (`LocalLLMServer`), reached at its 127.0.0.1 address.
- `openai`: api.openai.com (or a proxy given as `base_url`), default model gpt-4o-mini.
- `openai_compatible`: any server that speaks the OpenAI API (vLLM, Ollama, LM Studio,
  llama.cpp's `llama-server`), at `base_url`.

The caller passes explicit values (the settings layer has already folded in `OPENAI_API_KEY` and
`OPENAI_BASE_URL`); this module passes them on explicitly too, so `ChatOpenAI` and the `openai`
client never pick up a different base URL or key from the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

import httpx
from langchain_openai import ChatOpenAI

from bot.llm.local_server import LocalLLMServer
from newsbot.errors import ConfigError

logger = logging.getLogger(__name__)

Provider = Literal["local", "openai", "openai_compatible"]

OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
LOCAL_API_KEY = "local"  # the in-process server checks no key, but the client needs one
NO_API_KEY = "none"  # placeholder for OpenAI-compatible servers that take no key


def make_chat_model(
    provider: Provider,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = 400,
    timeout: float = 300.0,
    local_server_factory: Callable[[], LocalLLMServer] | None = None,
    http_client: httpx.Client | None = None,
) -> ChatOpenAI:
    """Build the streaming chat model for `provider`.

    Args:
        provider: `local`, `openai` or `openai_compatible`.
        model: model name sent to the server; defaults to gpt-4o-mini (openai) or the GGUF file
            name (local). Required for openai_compatible servers that serve several models, and
            defaults to `default` otherwise.
        base_url: OpenAI API root (ending in `/v1` for most servers). Required for
            openai_compatible; optional for openai (a proxy); ignored for local.
        api_key: the key; required for openai, optional for openai_compatible.
        temperature: sampling temperature.
        max_tokens: most tokens generated per answer.
        timeout: seconds to wait for a response, and between streamed chunks.
        local_server_factory: returns the (shared, lazily started) local server; required for
            local. Calling `make_chat_model` for local loads the model if it is not loaded yet.
        http_client: the httpx client the OpenAI client sends with (the web app's lets a
            client's disconnect stop the call); default: the OpenAI client's own.

    Raises:
        ConfigError: when a required key or base URL is missing or malformed.
        ModelError: when the local model cannot be loaded.
    """
    if provider == "local":
        if local_server_factory is None:
            raise ValueError("make_chat_model('local') needs a local_server_factory")
        server = local_server_factory()
        url, key, name, retries = server.base_url, LOCAL_API_KEY, server.model_name, 0
        if model:
            name = model
    elif provider == "openai":
        if not api_key:
            raise ConfigError(
                "The openai provider needs an API key: set OPENAI_API_KEY or NEWSBOT_LLM_API_KEY "
                "(or NEWSBOT_LLM_PROVIDER=local to use the bundled model)"
            )
        url = _check_url(base_url) if base_url else OPENAI_BASE_URL
        key, name, retries = api_key, model or OPENAI_DEFAULT_MODEL, 2
    elif provider == "openai_compatible":
        if not base_url:
            raise ConfigError(
                "The openai_compatible provider needs the server's address: set "
                "NEWSBOT_LLM_BASE_URL (or OPENAI_BASE_URL), e.g. http://localhost:11434/v1"
            )
        url, key, name, retries = _check_url(base_url), api_key or NO_API_KEY, model or "", 2
        if not name:
            name = "default"
            logger.info("No NEWSBOT_LLM_MODEL set; asking %s for model %r", url, name)
    else:
        raise ConfigError(
            f"Unknown LLM provider {provider!r}: set NEWSBOT_LLM_PROVIDER to local, openai or "
            "openai_compatible"
        )
    return ChatOpenAI(
        model=name,
        base_url=url,
        api_key=key,  # type: ignore[arg-type]  # a str is accepted and wrapped in SecretStr
        temperature=temperature,
        max_tokens=max_tokens,  # type: ignore[call-arg]  # declared under an alias
        timeout=timeout,
        stream_chunk_timeout=timeout,
        max_retries=retries,
        # Other servers may lack /responses: never let a model name (e.g. "...codex...") route
        # there. For OpenAI itself, keep LangChain's choice (some models exist only there).
        use_responses_api=None if provider == "openai" else False,
        streaming=True,
        stream_usage=True,
        http_client=http_client,
    )


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"LLM base URL {url!r} is not an http(s) URL: set NEWSBOT_LLM_BASE_URL (or "
            "OPENAI_BASE_URL) to something like http://localhost:8000/v1"
        )
    return url.rstrip("/")
