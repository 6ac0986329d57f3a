"""`newsbot eval`: the evaluation suites on a RealTimeQA-style dataset or the follow-up questions.

The suites and modes are named in `newsbot.evaluation.registry` (imported here for the option
choices; it loads no model); the work is `newsbot.evaluation.command`, imported when the command
runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from newsbot.commands.context import Context, pass_ctx
from newsbot.evaluation.registry import MODES, SUITES


@click.command(name="eval")
@click.argument(
    "dataset_dir",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--suite",
    type=click.Choice(list(SUITES)),
    default="mc",
    show_default=True,
    help="; ".join(f"{spec.name}: {spec.help}" for spec in SUITES.values()) + ".",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    help="Only the first N questions (grounding: default 40) or conversations (followups).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Predictions (mc) or cached drafts (other suites), JSON lines; a rerun resumes it.",
)
@click.option("-k", "top_k", type=click.IntRange(1, 50), help="Passages to retrieve.")
@click.option(
    "--mode",
    type=click.Choice(list(MODES)),
    default="newsbot",
    show_default=True,
    help="How the mc suite picks passages: "
    + "; ".join(f"{spec.name}: {spec.help}" for spec in MODES.values())
    + ".",
)
@click.option(
    "--later",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="grounding: also ask this dataset's questions (of a later year), as of their dates, "
    "of DATASET's store, which cannot answer them: each should be refused.",
)
@pass_ctx
def eval_command(
    obj: Context,
    dataset_dir: Path | None,
    suite: str,
    limit: int | None,
    out: Path | None,
    top_k: int | None,
    mode: str,
    later: Path | None,
) -> None:
    """Measure accuracy, latency and the answer check on a RealTimeQA-style dataset
    (corpus.jsonl.gz + queries.jsonl), or the answer check on follow-up questions.

    \b
    Example:
      newsbot eval ../shared/bench/realtimeqa-2022-mini --limit 10 --out preds.jsonl
      newsbot eval ../shared/bench/realtimeqa-2022-mini --suite grounding
      newsbot eval ../shared/bench/realtimeqa-2022-mini --suite grounding \\
        --later ../shared/bench/realtimeqa-2024-h1
      newsbot eval --suite followups
    """
    from newsbot.evaluation.command import run_eval_command

    run_eval_command(
        obj.settings,
        dataset_dir,
        suite=suite,
        limit=limit,
        out=out,
        top_k=top_k,
        mode=mode,
        later=later,
    )
