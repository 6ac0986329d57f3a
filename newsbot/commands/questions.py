"""`newsbot questions`: the editors' view of the question log in the terminal (the Library tab's
panel, `bot.web.library_questions`): what readers asked, grouped, refusals first, the answers
marked wrong, or all of it as CSV. Readers' text is printed through `printable`: a question or
comment is anyone's input, and must not drive the editor's terminal."""

from __future__ import annotations

import click

from newsbot.commands.context import Context, pass_ctx
from newsbot.errors import ConfigError


@click.command()
@click.option(
    "--since",
    type=click.Choice(["day", "week"]),
    default="day",
    show_default=True,
    help="The period: the last day or the last week.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write every question with its group, outcome, vote and comment as CSV to this file "
    "('-': standard output) instead of the summary.",
)
@pass_ctx
def questions(obj: Context, since: str, csv_path: str | None) -> None:
    """Show what readers asked `newsbot serve`, grouped when they ask the same thing.

    Groups with a refused question come first (stories the articles do not cover), then the
    largest; then the answers readers marked wrong, with their comments. Needs the question
    log (NEWSBOT_LOG_QUESTIONS=true), which keeps questions NEWSBOT_LOG_RETENTION_DAYS days.

    \b
    Example:
      newsbot questions --since week
      newsbot questions --since week --csv questions.csv
    """
    settings = obj.stored_settings()
    if not settings.web.log_questions:
        raise ConfigError(
            "The question log is off, so no questions are kept: set NEWSBOT_LOG_QUESTIONS=true "
            "for `newsbot serve` (SECURITY.md says what it stores)"
        )
    from bot.web.question_groups import DAYS, asked_when, recent_report, report_csv, summary
    from ingest.cleaning import printable
    from newsbot.factories import build_embeddings, build_registry
    from newsbot.question_log import DatabaseQuestionLog

    days = DAYS[since]
    registry = build_registry(settings)
    try:
        log = DatabaseQuestionLog(registry.database, settings.web.log_retention_days)
        report = recent_report(log, build_embeddings(settings), days)
    finally:
        registry.close()
    if csv_path:
        if csv_path == "-":
            click.echo(report_csv(report), nl=False)
        else:
            with open(csv_path, "w", encoding="utf-8", newline="") as out:
                out.write(report_csv(report))
        return
    if not report.groups:
        click.echo(summary(report))
        return
    click.echo(f"{summary(report)}:")
    for group in report.groups:
        extra = f"  ({', '.join(group.notes)})" if group.notes else ""
        click.echo(f"{group.count:5}  {printable(group.question)}{extra}")
    if report.wrong:
        click.echo("\nMarked wrong:")
        for answer in report.wrong:
            click.echo(f"- {asked_when(answer)}  {printable(answer.question)}")
            click.echo(f"    comment: {printable(answer.comment or '(none)')}")
