"""llama.cpp's OpenAI-compatible server, in-process, from the `xllamacpp` wheel.

`LocalLLMServer` loads a GGUF file on first use (not at construction), listens on 127.0.0.1 at a
free port, and is stopped when the process exits. Prompt-prefix caching is on, so a follow-up
request that repeats the previous prompt's beginning skips re-reading it: keep prompts
prefix-stable (fixed instructions first, changing parts last).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from pathlib import Path
from typing import Any

from bot.llm.model_spec import FIX
from newsbot.errors import ModelError

logger = logging.getLogger(__name__)

_servers: dict[tuple[Path, int, int], LocalLLMServer] = {}
_servers_lock = threading.Lock()


def shared_server(model_path: Path, n_ctx: int = 4096, threads: int = 0) -> LocalLLMServer:
    """The process-wide server for these arguments, created on first call (not yet started).

    Every caller in one process (CLI, web app, chain, tests) gets the same instance, so the model
    is loaded at most once per process.
    """
    key = (Path(model_path).resolve(), n_ctx, threads)
    with _servers_lock:
        if key not in _servers:
            _servers[key] = LocalLLMServer(Path(model_path), n_ctx, threads)
        return _servers[key]


class LocalLLMServer:
    """A lazily started llama.cpp server for one GGUF model.

    Args:
        model_path: the GGUF file to serve.
        n_ctx: context window in tokens (prompt plus answer).
        threads: CPU threads for generation and prompt processing; 0 lets llama.cpp choose.
        cache_ram_mib: host memory for cached prompt states, so alternating prompts (condense,
            answer) each keep their prefix; 0 disables it.
        host: the address it listens on (loopback unless it serves other machines).
        port: its port; 0 lets the OS pick a free one.
        parallel: answers generated at once; each gets `n_ctx` tokens of context.
        api_key: when set, every request must send it (`Authorization: Bearer ...`).
    """

    def __init__(
        self,
        model_path: Path,
        n_ctx: int = 4096,
        threads: int = 0,
        *,
        cache_ram_mib: int = 512,
        host: str = "127.0.0.1",
        port: int = 0,
        parallel: int = 1,
        api_key: str | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.threads = threads
        self.cache_ram_mib = cache_ram_mib
        self.host = host
        self.port = port
        self.parallel = parallel
        self.api_key = api_key
        self._server: Any = None
        self._address: str | None = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The name the server answers to: the GGUF file name."""
        return self.model_path.name

    @property
    def running(self) -> bool:
        """True once the model is loaded and the server listens."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The OpenAI API root, e.g. `http://127.0.0.1:41234/v1`; starts the server if needed."""
        return self.start() + "/v1"

    def start(self) -> str:
        """Load the model and start listening (once); return `http://127.0.0.1:<port>`.

        Raises:
            ModelError: when the file is missing or llama.cpp cannot load it.
        """
        with self._lock:
            if self._address is not None:
                return self._address
            if not self.model_path.is_file():
                raise ModelError(f"Model file {self.model_path} not found: {FIX}")
            import xllamacpp  # 30 ms, but keep it off the import path of everything else

            params = xllamacpp.CommonParams()
            params.model.path = str(self.model_path)
            params.model_alias = {self.model_name}
            params.n_ctx = self.n_ctx * self.parallel  # llama.cpp splits it among the slots
            if self.threads > 0:
                params.cpuparams.n_threads = self.threads
                params.cpuparams_batch.n_threads = self.threads
            params.hostnames = [self.host]
            params.port = self.port
            params.n_parallel = self.parallel
            # llama.cpp checks for a cancelled request between batches: with the default 2048,
            # a long prompt is read in one step a client that left cannot stop. 512 is the
            # physical batch already, so the prompt is read as fast.
            params.n_batch = 512
            if self.api_key:
                params.api_keys = [self.api_key]
            params.cache_prompt = True
            params.cache_ram_mib = self.cache_ram_mib
            params.ui = False
            params.verbosity = 0
            logger.info("Loading %s (context %d tokens)", self.model_path, self.n_ctx)
            started = time.perf_counter()
            try:
                self._server = xllamacpp.Server(params)
            except RuntimeError as exc:
                raise ModelError(
                    f"llama.cpp could not load {self.model_path} ({exc}): check that it is a "
                    "complete GGUF chat model, run `newsbot model install` to rebuild the "
                    "default one, or set NEWSBOT_LLM_MODEL_PATH to another GGUF file"
                ) from exc
            self._address = str(self._server.listening_address).rstrip("/")
            atexit.register(self.stop)
            logger.info(
                "Local LLM ready at %s in %.1f s", self._address, time.perf_counter() - started
            )
            return self._address

    def stop(self) -> None:
        """Stop the server and free the model's memory; a later `start()` loads it again."""
        with self._lock:
            if self._server is None:
                return
            server, self._server, self._address = self._server, None, None
            del server  # xllamacpp stops the HTTP thread and frees the model on deallocation
            atexit.unregister(self.stop)
            logger.info("Local LLM stopped")

    def __repr__(self) -> str:
        state = self._address or "not started"
        return f"LocalLLMServer({self.model_path.name!r}, n_ctx={self.n_ctx}, {state})"
