"""The editors' view in the Library tab: what readers asked in the last day or week.

Questions grouped when they ask the same thing (`bot.web.question_groups`, with the store's
embedder), with counts; groups holding a refusal first (the stories the articles do not cover);
then the answers readers marked wrong, with their comments; and a CSV of it all
(`/library/questions.csv?days=1|7`). It is part of the Library tab, so only those who may use the
Library see it (signed in, or on this machine), and only when the question log is on.
Everything readers wrote is escaped.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import gradio as gr
from fastapi import Query
from fastapi.responses import Response

from bot.web.answer_log import LoggedAnswer, QuestionLog
from bot.web.question_groups import (
    DAYS,
    Embedder,
    QuestionGroup,
    QuestionReport,
    asked_when,
    recent_report,
    report_csv,
    summary,
)
from newsbot.errors import NewsbotError

CSV_PATH = "/library/questions.csv"
SHOWN_GROUPS = 50
"""Groups drawn in the tab (the CSV holds them all)."""
SHOWN_WRONG = 30


class QuestionDigest:
    """The report of the last `days` days of `log`, grouped with `embedder`."""

    def __init__(self, log: QuestionLog, embedder: Embedder) -> None:
        self.log = log
        self.embedder = embedder

    def report(self, days: int) -> QuestionReport:
        return recent_report(self.log, self.embedder, days)

    def csv_response(self, days: int = Query(7, ge=1, le=7)) -> Response:
        """The route behind `CSV_PATH` (under the app's one credential rule)."""
        name = f"newsbot-questions-{datetime.now(UTC):%Y-%m-%d}-{days}d.csv"
        return Response(
            report_csv(self.report(days)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def _group_html(group: QuestionGroup) -> str:
    wordings = Counter(answer.question for answer in group.answers)
    items = "".join(
        f"<li>{html.escape(text)}{f' ({n} times)' if n > 1 else ''}</li>"
        for text, n in wordings.most_common()
    )
    notes = ", ".join(group.notes)
    note = f' <span class="nb-question-note">({notes})</span>' if notes else ""
    return (
        f'<li class="nb-question-group"><details><summary><strong>{group.count}</strong> '
        f"{html.escape(group.question)}{note}</summary><ul>{items}</ul></details></li>"
    )


def _wrong_html(answer: LoggedAnswer) -> str:
    comment = html.escape(answer.comment) if answer.comment else "<em>no comment</em>"
    text = answer.answer if len(answer.answer) <= 300 else answer.answer[:300] + "…"
    return (
        f'<li class="nb-wrong-answer"><strong>{html.escape(answer.question)}</strong> '
        f"<small>{asked_when(answer)}</small><br>{comment}"
        f"<blockquote>{html.escape(text)}</blockquote></li>"
    )


def report_html(report: QuestionReport) -> str:
    """The report as escaped HTML (groups, then the wrong answers, then the CSV link)."""
    if not report.groups:
        return f"<p>{summary(report)}</p>"
    groups = "".join(_group_html(group) for group in report.groups[:SHOWN_GROUPS])
    parts = [
        f"<p>{summary(report)}; refused ones first.</p>",
        f'<ol class="nb-question-groups">{groups}</ol>',
    ]
    if report.wrong:
        wrong = "".join(_wrong_html(answer) for answer in report.wrong[:SHOWN_WRONG])
        parts.append(f'<h4>Marked wrong</h4><ul class="nb-wrong-answers">{wrong}</ul>')
    # Relative to the page (`/`), so a proxy's prefix is kept.
    parts.append(f'<p><a href=".{CSV_PATH}?days={report.days}" download>Export CSV</a></p>')
    return "".join(parts)


def questions_panel(digest: QuestionDigest) -> None:
    """The panel, in the Library tab being built: computed on request (grouping embeds the
    questions: up to ~20 s for a busy week), never on page load."""
    gr.Markdown("### What readers ask")
    with gr.Row(equal_height=True):
        period = gr.Radio(
            [("Last day", "day"), ("Last week", "week")],
            value="day",
            show_label=False,
            scale=3,
            elem_id="nb-questions-period",
        )
        show = gr.Button("Show questions", scale=1, elem_id="nb-questions-show")
    shown = gr.HTML(elem_id="nb-questions")

    def draw(choice: str) -> str:
        try:
            return report_html(digest.report(DAYS.get(choice, 1)))
        except NewsbotError as exc:
            return f"<p><strong>Could not read the questions:</strong> {html.escape(str(exc))}</p>"

    private: dict[str, Any] = {"api_visibility": "private"}
    show.click(draw, [period], [shown], **private)
