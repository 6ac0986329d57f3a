"""The sections of BENCHMARKS.md about what the model reads and the answer check: the context
measured without the model, the grounding and follow-up suites run with it, and the golden
corpus scored without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.render_header import header


def _refused_by(counts: dict[str, Any]) -> str:
    from newsbot.evaluation.report import refused_by_cell

    return refused_by_cell(counts.get("refused_by", {}))


@dataclass(frozen=True)
class GroundingRates:
    """Right and wrong-but-shown over each question's own passages (`wrong` None when the result
    predates its recording), refused over another question's and, for a later year's questions
    the store cannot answer, refused over their own (`later` 0 when not asked)."""

    own: int
    right: float
    wrong: float | None
    other: int
    refused: float
    later: int = 0
    later_refused: float = 0.0


def grounding_rates(groups: dict[str, Any]) -> GroundingRates:
    """The rates the free-form targets are stated in, from a grounding result's groups."""
    own = [c for name, c in groups.items() if name not in ("mismatched", "later year")]
    asked = sum(c["questions"] for c in own)
    other = groups.get("mismatched", {"questions": 0, "refused": 0})
    recorded = all("wrong_grounded" in c for c in own)
    later = groups.get("later year", {"questions": 0, "refused": 0})
    return GroundingRates(
        own=asked,
        right=sum(c["right_answered"] for c in own) / asked if asked else 0.0,
        wrong=sum(c["wrong_grounded"] for c in own) / asked if asked and recorded else None,
        other=other["questions"],
        refused=other["refused"] / other["questions"] if other["questions"] else 0.0,
        later=later["questions"],
        later_refused=later["refused"] / later["questions"] if later["questions"] else 0.0,
    )


def _rates(groups: dict[str, Any]) -> str:
    rates = grounding_rates(groups)
    wrong = "not recorded" if rates.wrong is None else f"{rates.wrong:.2f}"
    return (
        f"right {rates.right:.2f} (target ≥ 0.65), wrong but shown {wrong} (≤ 0.10) of "
        f"{rates.own} over their own, refused {rates.refused:.2f} (≥ 0.9) of {rates.other} "
        "over another's"
        + (
            f", refused {rates.later_refused:.2f} (≥ 0.9) of {rates.later} of a later year"
            if rates.later
            else ""
        )
    )


def grounding_section(r: dict[str, Any]) -> list[str]:
    out = ["## Refusals (the answer check)", "", *header(r)]
    out += [
        f"The first questions of each set, each answered (k={r['k']}) from its own retrieved",
        "passages and, separately, from the passages retrieved for another question whose",
        "evidence they do not hold (`newsbot eval DATASET --suite grounding`: the product's",
        "`ask` path, no answer choices). Over its own passages the bot",
        "should answer when the evidence was retrieved; over another question's passages it",
        "should refuse. *model refused*: the model's first reply was the refusal, so it was",
        "asked once more without that way out; *answered on a second look*: of those, answers",
        "that passed the check; *refused*: the result after the answer check, with the checks",
        "that refused (docs/grounding.md); *right*: answered and holding the correct choice's",
        "text; *wrong but shown*: answered (shown as grounded) without it. *later year*: the",
        "first questions of realtimeqa-2024-h1, asked as of their own dates of the set's 2022",
        "store (`--later`), which cannot answer them but holds look-alike stories: each should",
        "be refused; every answer shown there is listed below for a reader to judge.",
        "",
        "| set | passages | questions | model refused | answered on a second look "
        "| refused after the check | refused by | right | wrong but shown |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    datasets = r.get("datasets") or {"realtimeqa-2022-mini": r}
    for name, result in datasets.items():
        for group, c in result["groups"].items():
            out.append(
                f"| {name} | {group} | {c['questions']} | {c['model_refused']} | "
                f"{c['second_look_answered']} | {c['refused']} | {_refused_by(c)} | "
                f"{c['right_answered']} | {c.get('wrong_grounded', '—')} |"
            )
    out.append("")
    out += [f"- {name}: {_rates(result['groups'])}." for name, result in datasets.items()]
    out.append("")
    shown = [(n, e) for n, result in datasets.items() for e in result.get("later_shown", [])]
    if shown:
        out += ["Answers shown for a later year's questions, which the store cannot answer:", ""]
        out += [f"- {name}: {e['question']} → {e['answer']!r}" for name, e in shown]
        out.append("")
    examples = [(n, e) for n, result in datasets.items() for e in result["refused_examples"]]
    if examples:
        out += ["Answers over their own passages that the check (not the model) refused:", ""]
        out += [
            f"- {name}: {e['question']} → {e['raw']!r} (correct: {e.get('correct', '?')})"
            for name, e in examples
        ]
        out.append("")
    return out


def followups_section(r: dict[str, Any]) -> list[str]:
    out = ["## Follow-up questions", "", *header(r)]
    out += [
        "Two-turn conversations over two corpora: the sample articles in `examples/articles`",
        "(`scripts/followups.jsonl`; `newsbot eval --suite followups`) and the shared seed article",
        f"(`scripts/followups-seed.jsonl`), k={r['k']}: a first question, then a follow-up that",
        'the articles answer or one they don\'t ("What about toasters?" after a kettle recall).',
        "Columns as above; *subject* among the checks that refused means the passages never",
        "mention what the follow-up asks about; *right*: answered and holding the expected fact.",
        "",
        "| corpus | follow-ups | questions | model refused | answered on a second look "
        "| refused after the check | refused by | right |",
        "|---|---|---|---|---|---|---|---|",
    ]
    corpora = r.get("corpora") or {"samples": r}
    wrong: list[str] = []
    for corpus, result in corpora.items():
        for group, c in result["groups"].items():
            label = "answered by the articles" if group == "answer" else "not in the articles"
            out.append(
                f"| {corpus} | {label} | {c['questions']} | {c['model_refused']} | "
                f"{c['second_look_answered']} | {c['refused']} | {_refused_by(c)} | "
                f"{c['right']} |"
            )
        wrong += [
            f"- {corpus}: {c['follow_up']} → {c['answer']!r}"
            for c in result["cases"]
            if c["grounded"] == (c["expect"] == "refuse")
        ]
    latency = [
        f"- {corpus}: first checked text p50 {t['first']:.1f} s for the first questions (each "
        f"the first time it is asked), {t['follow_up']:.1f} s for their follow-ups"
        for corpus, result in corpora.items()
        if (t := result.get("first_token_p50_s")) and t.get("first") is not None
    ]
    if latency:
        out += ["", *latency]
    if wrong:
        out += ["", "Follow-ups the check got wrong:", "", *wrong]
    return [*out, ""]


def golden_section(r: dict[str, Any]) -> list[str]:
    out = ["## The answer check on the golden corpus", "", *header(r)]
    out += [
        f"{r['cases']} recorded cases (tests/golden: the local model's raw answers to grounding "
        "and follow-up cases, recorded by `python -m tests.golden.record` on "
        f"{', '.join(r['recorded'])}; tests/golden/meta.json says under which settings), scored "
        "with today's check and no model. Tuning and held-out halves "
        "were written separately; thresholds are tuned on the tuning half only.",
        "",
        "| suite | half | answerable | right | wrong but grounded | refused though "
        "answerable | unanswerable | refused |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for suite, halves in [("all", r["halves"]), *r["by_suite"].items()]:
        for half in ("tuning", "heldout"):
            h = halves.get(half)
            if not h:
                continue
            keys = (
                *("expect_answer", "right", "wrong_grounded", "refused_answerable"),
                *("expect_refuse", "refused_when_expected"),
            )
            out.append(f"| {suite} | {half} | " + " | ".join(str(h.get(k, 0)) for k in keys) + " |")
    return [*out, ""]


def claims_section(r: dict[str, Any]) -> list[str]:
    out = ["## Claims checked by the model", "", *header(r)]
    g, p = r["golden"], r["pairs"]
    out += [
        f"Can the chat model ({r['model']}) tell whether a cited passage states a sentence? For "
        f"each of the {r['answers']} answers the check shows on the golden corpus, every cited "
        "sentence was put to the model with only its passage (scripts/bench_claims.py) and "
        "P(yes) read from its first token. *AUC*: how well the answer's least-supported "
        "sentence separates right answers from wrong ones (0.5 is chance); *kept* / *caught*: "
        "the model's own yes/no (P(yes) >= 0.5, nothing tuned).",
        "",
        "| half | right answers | kept | wrong answers | caught | AUC |",
        "|---|---|---|---|---|---|",
    ]
    for half, h in g["halves"].items():
        out.append(
            f"| {half} | {h['right']} | {h['right_kept']} | {h['wrong']} | "
            f"{h['wrong_caught']} | {h['auc']} |"
        )
    out += [
        "",
        f"{g['sentences']} sentences, {g['p50_s']:.1f} s p50 / {g['p95_s']:.1f} s p95 each. "
        "Claim pairs "
        "(scripts/claim_pairs.jsonl, written over our sample articles, each sentence stated by "
        f"its paragraph or one detail away from it): {p['stated_kept']} of {p['stated']} stated "
        f"kept, {p['changed_caught']} of {p['changed']} changed caught, AUC {p['auc']}.",
        "",
    ]
    return out


def context_section(r: dict[str, Any]) -> list[str]:
    out = ["## What the model reads", "", *header(r)]
    out += [
        "How often the answer's text is in what the model reads, without the model: the "
        "product's retrieval (4 chunks, as of each question's date), then each context built "
        "from them (scripts/bench_context.py). *single sentences and the next*: the sentences "
        "that share the question's words, each with its follower; *paragraphs*: each chosen "
        "sentence brings its paragraph (up to 150 tokens); *+ lead*: the best article's first "
        f"sentence first (the default, at {r['default_budget']} tokens). The number before the "
        "colon is the budget in tokens; *tokens*: the "
        "passages as the prompt shows them (characters / 4). Halves split by question id; "
        "*ratio*: all questions, against 4 chunks whole.",
        "",
        "| set | context | answer text, tuning / held-out | all | ratio | evidence | tokens |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, dataset in r["datasets"].items():
        contexts = dataset["contexts"]
        whole = contexts["4 chunks whole"]["all"]["answer"] or 1
        for label, c in contexts.items():
            out.append(
                f"| {name} ({dataset['questions']}) | {label} | {c['tuning']['answer']:.3f} / "
                f"{c['held-out']['answer']:.3f} | {c['all']['answer']:.3f} | "
                f"{c['all']['answer'] / whole:.2f} | {c['all']['evidence']:.3f} | "
                f"{c['all']['tokens']} |"
            )
    return [*out, ""]
