"""The tables `newsbot eval` prints: a mode's summary beside the published anchors, a suite's
counts by group."""

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

#: The terminal table's columns (the summary JSON has every metric).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("n", "n"),
    ("accuracy", "acc"),
    ("accuracy_ci95", "95% CI"),
    ("unparseable", "unparsed"),
    ("answer_recall@5", "ans@5"),
    ("evidence_hit@5", "ev@5"),
    ("citation_precision", "cite prec"),
    ("ttft_p50_s", "TTFT p50"),
    ("total_p50_s", "total p50"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "-".join(f"{v:.2f}" if isinstance(v, float) else _cell(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def summary_table(rows: Sequence[tuple[str, Mapping[str, Any]]]) -> Table:
    """A rich table of `(label, summary)` rows, then the published anchors (accuracy only)."""
    table = Table(title="Multiple-choice evaluation", show_lines=False)
    table.add_column("run", no_wrap=True)
    for _, header in COLUMNS:
        table.add_column(header, justify="right")
    for label, summary in rows:
        table.add_row(label, *(_cell(summary.get(key)) for key, _ in COLUMNS))
    for label, accuracy in ANCHORS.items():
        table.add_row(label, "", _cell(accuracy), *([""] * (len(COLUMNS) - 2)))
    return table


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
