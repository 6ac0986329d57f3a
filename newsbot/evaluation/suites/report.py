"""The outcome of a suite run, written beside its drafts as `<drafts>.summary.json`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbot.evaluation.predictions import summary_path_for

if TYPE_CHECKING:
    from newsbot.evaluation.suites.drafts import Drafts


@dataclass
class SuiteReport:
    """Where a suite wrote its drafts, how many it asked, and its `result` (counts by group)."""

    suite: str
    dataset: str
    k: int
    model: str
    out_path: Path
    result: dict[str, Any]
    asked: int
    cached: int
    seconds: float

    @property
    def summary_path(self) -> Path:
        """`drafts.jsonl` → `drafts.summary.json`."""
        return summary_path_for(self.out_path)

    def write(self) -> None:
        """Write the summary JSON."""
        data = asdict(self)
        data["out_path"] = str(self.out_path)
        data["status"] = "done"
        self.summary_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def finish(
    suite: str,
    dataset: str,
    drafts: Drafts,
    k: int,
    model: str,
    result: dict[str, Any],
    total: int,
    started: float,
) -> SuiteReport:
    """The report of a suite run that began at `started` (`perf_counter`) and scored `total`
    drafts (`drafts.asked` of them asked now), written to disk."""
    report = SuiteReport(
        suite=suite,
        dataset=dataset,
        k=k,
        model=model,
        out_path=drafts.cache.path,
        result=result,
        asked=drafts.asked,
        cached=total - drafts.asked,
        seconds=round(time.perf_counter() - started, 1),
    )
    report.write()
    return report
