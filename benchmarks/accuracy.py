"""The accuracy part: collects the summaries that `newsbot eval` wrote beside its predictions,
each with the `newsbot eval` command that re-makes it."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.common import BenchConfig, stamp
from newsbot.errors import InputError
from newsbot.settings import Group, LimitsSettings, RetrievalSettings
from vectorstore.ranking import RankingPolicy

#: The product options a `newsbot eval` run records that are settings of their own, by the group
#: that holds each (`context_tokens` is retrieval's compact-context budget, not the model's window).
_PLAIN: dict[str, type[Group]] = {
    "max_history_chars": LimitsSettings,
    "context_tokens": RetrievalSettings,
    "condense_follow_ups": RetrievalSettings,
}
#: ... and those that are NEWSBOT_TUNING names (the run's name -> the tuning name).
_TUNED = {
    "keyword_weight": "keyword_weight",
    "recency_weight": "recency_weight",
    "recency_days": "recency_days",
    "time_windows": "time_phrases",
}


def answering_env(answering: dict[str, Any]) -> list[str]:
    """`NEWSBOT_...=value` for each recorded product option that is not the default."""
    options = {**answering.get("ranking", {}), **answering}
    env = [
        f"{group.env_name(option)}={options[option]}"
        for option, group in _PLAIN.items()
        if option in options and options[option] != group.model_fields[option].default
    ]
    defaults = {**asdict(RankingPolicy()), "time_windows": False}
    tuning = {
        name: options[option]
        for option, name in _TUNED.items()
        if option in options and options[option] != defaults[option]
    }
    if tuning:
        env.append(f"NEWSBOT_TUNING={json.dumps(tuning)}")
    return env


def other_model(run: dict[str, Any]) -> str:
    """The GGUF file a run answered with when it is not the bundled default ("" otherwise)."""
    from bot.llm.model_spec import DEFAULT_MODEL

    model = str(run.get("model") or "")
    return model if model.endswith(".gguf") and model != DEFAULT_MODEL.filename else ""


def eval_command(run: dict[str, Any], dataset_size: int | None = None) -> str:
    """The `newsbot eval` command of a run (its dataset under ../shared/bench)."""
    env = answering_env(run["answering"]) if run.get("answering") else []
    if other_model(run):
        env.insert(0, f"NEWSBOT_LLM_MODEL_PATH={other_model(run)}")
    args = [*env, "newsbot", "eval", f"../shared/bench/{run['dataset']}"]
    if run["mode"] != "newsbot":
        args += ["--mode", run["mode"]]
    elif run["k"] != RetrievalSettings.model_fields["top_k"].default:
        args += ["-k", str(run["k"])]
    n = run["summary"]["n"]
    if dataset_size is None or n < dataset_size:
        args += ["--limit", str(n)]
    return shlex.join(args)


def _questions(config: BenchConfig, dataset: str) -> int | None:
    for folder in (config.mini, config.full):
        if folder.name == dataset and (folder / "queries.jsonl").is_file():
            lines = (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
            return sum(1 for line in lines if line.strip())
    return None


def bench_accuracy(config: BenchConfig) -> dict[str, Any]:
    """The runs of the summary files given (`--summaries`), finished ones only."""
    runs = []
    for path in config.summaries:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{path} is not a summary of `newsbot eval` ({exc})") from None
        if data.get("status") != "done":
            raise InputError(f"{path} is from an unfinished run: finish it first (rerun resumes)")
        run = {
            "dataset": data["dataset"],
            "mode": data["mode"],
            "k": data["k"],
            "model": data.get("model", ""),
            "seconds": data["seconds"],
            "asked": data.get("asked"),
            "answer_seconds": data["answer_seconds"],
            "summary": data["summary"],
            "ingest": data.get("ingest", {}),
            "answering": data.get("config", {}).get("answering"),
        }
        run["command"] = eval_command(run, _questions(config, run["dataset"]))
        runs.append(run)
    return stamp("accuracy", config, {"runs": runs})
