"""benchmarks/results.json: every part's latest result, so parts measured at different times add up.

Accuracy runs accumulate: a new summary replaces the run of the same dataset, mode, k, size,
answering options and model, and leaves the others; one that asked nothing (a re-score of
finished predictions) keeps the replaced run's date and machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.common import REPO

RESULTS = REPO / "benchmarks" / "results.json"


def load_results(path: Path = RESULTS) -> dict[str, Any]:
    """The stored results by part ({} when there are none yet)."""
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _run_key(run: dict[str, Any]) -> tuple[Any, ...]:
    answering = json.dumps(run.get("answering"), sort_keys=True)
    return (run["dataset"], run["mode"], run["k"], run["summary"]["n"], answering, run.get("model"))


def merge(results: dict[str, Any], part: str, result: dict[str, Any]) -> dict[str, Any]:
    """`results` with `part` set to `result` (accuracy runs merged, see the module docstring)."""
    merged = dict(results)
    if part == "accuracy":
        before = results.get("accuracy", {}).get("runs", [])
        runs = {_run_key(run): run for run in before}
        for run in result["runs"]:
            earlier = runs.get(_run_key(run))
            if run.get("asked") == 0 and earlier is not None:
                # re-scored without asking anything: the answers, and their times, are the
                # earlier record's, so is its date and machine
                stamp = {"date": earlier["date"], "machine": earlier["machine"]}
            else:
                stamp = {"date": result["date"], "machine": result["machine"]}
            runs[_run_key(run)] = {**run, **stamp}
        result = {**result, "runs": list(runs.values())}
    merged[part] = result
    return merged


def save_results(results: dict[str, Any], path: Path = RESULTS) -> None:
    """Write the results (indented, parts in a stable order)."""
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
