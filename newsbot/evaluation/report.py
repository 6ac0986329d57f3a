"""The summary table: one row per evaluated mode, with the published anchors beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

#: Published multiple-choice accuracy (RealTimeQA authors' prediction files, 2022-06 .. 2023-12).
ANCHORS: dict[str, float] = {
    "published: GPT-3 + Google": 0.641,
    "published: RAG + Google": 0.421,
    "published: GPT-3 closed-book": 0.450,
}

COLUMNS: tuple[tuple[str, str], ...] = (
    ("n", "n"),
    ("accuracy", "acc"),
    ("accuracy_ci95", "95% CI"),
    ("unparseable", "unparsed"),
    ("answer_recall@1", "ans@1"),
    ("answer_recall@5", "ans@5"),
    ("answer_recall@10", "ans@10"),
    ("evidence_hit@1", "ev@1"),
    ("evidence_hit@5", "ev@5"),
    ("evidence_hit@10", "ev@10"),
    ("mrr@10", "MRR@10"),
    ("citation_precision", "cite prec"),
    ("ttft_p50_s", "TTFT p50"),
    ("ttft_p95_s", "TTFT p95"),
    ("total_p50_s", "total p50"),
    ("total_p95_s", "total p95"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "-".join(f"{v:.2f}" if isinstance(v, float) else _cell(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


#: The terminal table's columns (the summary JSON and the Markdown table have all of them).
SHORT = (
    "n",
    "accuracy",
    "accuracy_ci95",
    "unparseable",
    "answer_recall@5",
    "evidence_hit@5",
    "citation_precision",
    "ttft_p50_s",
    "total_p50_s",
)


def summary_table(rows: Sequence[tuple[str, Mapping[str, Any]]], anchors: bool = True) -> Table:
    """A rich table of `(label, summary)` rows, then the published anchors (accuracy only)."""
    columns = [(key, header) for key, header in COLUMNS if key in SHORT]
    table = Table(title="Multiple-choice evaluation", show_lines=False)
    table.add_column("run", no_wrap=True)
    for _, header in columns:
        table.add_column(header, justify="right")
    for label, summary in rows:
        table.add_row(label, *(_cell(summary.get(key)) for key, _ in columns))
    if anchors:
        for label, accuracy in ANCHORS.items():
            table.add_row(label, "", _cell(accuracy), *([""] * (len(columns) - 2)))
    return table


def markdown_table(rows: Sequence[tuple[str, Mapping[str, Any]]], anchors: bool = True) -> str:
    """The same table in Markdown, for BENCHMARKS.md."""
    header = "| run | " + " | ".join(h for _, h in COLUMNS) + " |"
    lines = [header, "|---" * (len(COLUMNS) + 1) + "|"]
    for label, summary in rows:
        lines.append(f"| {label} | " + " | ".join(_cell(summary.get(k)) for k, _ in COLUMNS) + " |")
    if anchors:
        for label, accuracy in ANCHORS.items():
            cells = ["", _cell(accuracy)] + [""] * (len(COLUMNS) - 2)
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: The counts of the answer-check suites, in table order, with their headers.
SUITE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("questions", "questions"),
    ("model_refused", "model refused"),
    ("second_look_answered", "answered on a second look"),
    ("refused", "refused after the check"),
    ("right_answered", "right"),
    ("wrong_grounded", "wrong but shown"),
    ("right", "right"),
)


def refused_by_cell(counts: Mapping[str, int]) -> str:
    """Which checks refused, e.g. "cited_support 2, subject 1"."""
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "-"


def suite_table(title: str, groups: Mapping[str, Mapping[str, Any]]) -> Table:
    """A rich table of a suite's groups (`grounding` or `followups` result)."""
    present = {key for counts in groups.values() for key in counts}
    columns = [(key, header) for key, header in SUITE_COLUMNS if key in present]
    table = Table(title=title)
    table.add_column("group", no_wrap=True)
    for _, header in columns:
        table.add_column(header, justify="right")
    table.add_column("refused by")
    for group, counts in groups.items():
        cells = [_cell(counts.get(key, 0)) for key, _ in columns]
        table.add_row(group, *cells, refused_by_cell(counts.get("refused_by", {})))
    return table
