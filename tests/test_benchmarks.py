"""The dev-only benchmarks (`benchmarks/`, not shipped): recorded results and BENCHMARKS.md."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import benchmarks
from benchmarks.results import RESULTS, load_results, merge

ROOT = Path(__file__).resolve().parents[1]
MACHINE_PATHS = ("/work/", "/root/", "/home/", "/tmp/")
MODULES = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))


def test_modules_are_found() -> None:
    assert {"__main__", "common", "filters", "ranking", "context", "accuracy"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_module_imports(name: str) -> None:
    """The benchmarks are run by hand, so a product change that breaks one at import time
    (a moved name, a removed constant) fails here instead of on the next benchmark run. Only
    imports: no benchmark runs."""
    importlib.import_module(f"benchmarks.{name}")


def test_every_part_has_its_runner() -> None:
    """`python -m benchmarks --only PART` finds a function for each part it offers (importing
    each part's module, which `_parts` does only when the benchmarks run)."""
    from benchmarks.__main__ import PARTS, _parts

    assert set(_parts()) == set(PARTS)


def test_recorded_commands_and_benchmarks_md_carry_no_machine_paths() -> None:
    """Each part's command re-runs from a clone (no machine path, `python -m benchmarks`), and
    BENCHMARKS.md, written by hand from the results, states each part's command and no path of
    the machine it was written on."""
    results = load_results(RESULTS)
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "## Targets" in text
    assert "| MC accuracy ≥ 0.75, realtimeqa-2022-mini |" in text
    commands = [result["command"] for result in results.values()]
    commands += [run["command"] for run in results["accuracy"]["runs"]]
    for command in commands:
        assert len(command) < 400
        assert not any(path in command for path in MACHINE_PATHS), command
        assert re.match(r"(NEWSBOT_\w+=\S+ )*(python -m benchmarks |newsbot )", command), command
    for part, result in results.items():
        if part != "accuracy":  # its command records summaries; each run's own command is stated
            assert f"`{result['command']}`" in text, part
    for run in results["accuracy"]["runs"]:
        assert f"`{run['command']}`" in text, run["command"]
    assert not any(path in text for path in MACHINE_PATHS)


def test_accuracy_runs_merge_by_dataset_mode_and_size() -> None:
    results = load_results(RESULTS)
    runs = results["accuracy"]["runs"]
    new = {**runs[0], "summary": {**runs[0]["summary"], "accuracy": 0.5}}
    stamp = {"date": "2030-01-01 00:00 UTC", "machine": runs[0]["machine"], "command": "x"}
    merged = merge(results, "accuracy", {**stamp, "runs": [new]})
    assert len(merged["accuracy"]["runs"]) == len(runs)
    assert merged["accuracy"]["runs"][0]["summary"]["accuracy"] == 0.5
    assert merged["accuracy"]["runs"][0]["date"] == "2030-01-01 00:00 UTC"


def test_accuracy_command_sets_the_options_a_run_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables of an accuracy run's `newsbot eval` command give back the options the run
    recorded (as `newsbot eval` records them), each non-default one included."""
    from dataclasses import asdict

    from benchmarks.accuracy import answering_env
    from newsbot.evaluation.command import suite_answering
    from newsbot.factories import ranking
    from newsbot.settings import get_settings

    recorded = {
        "max_history_chars": 3000,
        "context_tokens": 0,
        "time_windows": True,
        "condense_follow_ups": True,
        "ranking": {**asdict(ranking(get_settings())), "keyword_weight": 0.25},
    }
    for assignment in answering_env(recorded):
        name, value = assignment.split("=", 1)
        monkeypatch.setenv(name, value)
    settings = get_settings()
    assert {**suite_answering(settings), "ranking": asdict(ranking(settings))} == recorded


def test_a_subset_holds_evenly_spaced_questions_of_one_half_beside_the_corpus(
    tmp_path: Path,
) -> None:
    from benchmarks.ranking import half
    from benchmarks.subset import write_subset

    dataset = tmp_path / "quiz"
    dataset.mkdir()
    (dataset / "corpus.jsonl.gz").write_bytes(b"corpus")
    ids = [f"2022{n:04d}_0" for n in range(60)]
    (dataset / "queries.jsonl").write_text("".join(f'{{"id": "{i}"}}\n' for i in ids))
    tuning = [i for i in ids if half(i) == "tuning"]

    folder = write_subset(dataset, "tuning", 5, tmp_path / "out")

    assert folder.name == "quiz", "the same name, so the eval reuses the ingested collection"
    lines = (folder / "queries.jsonl").read_text().splitlines()
    picked = [json.loads(line)["id"] for line in lines]
    assert picked == [tuning[n * len(tuning) // 5] for n in range(5)]
    assert (folder / "corpus.jsonl.gz").read_bytes() == b"corpus"
    # Written again (another size), it replaces the link and the questions.
    write_subset(dataset, "tuning", 2, tmp_path / "out")
    assert len((folder / "queries.jsonl").read_text().splitlines()) == 2
