"""The sections of BENCHMARKS.md about the answer check: the grounding and follow-up suites run
with the model, and the golden corpus scored without it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newsbot.evaluation.bench.render_header import header


def _refused_by(counts: dict[str, Any]) -> str:
    from newsbot.evaluation.report import refused_by_cell

    return refused_by_cell(counts.get("refused_by", {}))


@dataclass(frozen=True)
class GroundingRates:
    """Right and wrong-but-shown over each question's own passages (`wrong` None when the result
    predates its recording), refused over another question's."""

    own: int
    right: float
    wrong: float | None
    other: int
    refused: float


def grounding_rates(groups: dict[str, Any]) -> GroundingRates:
    """The rates the free-form targets are stated in, from a grounding result's groups."""
    own = [c for name, c in groups.items() if name != "mismatched"]
    asked = sum(c["questions"] for c in own)
    other = groups.get("mismatched", {"questions": 0, "refused": 0})
    recorded = all("wrong_grounded" in c for c in own)
    return GroundingRates(
        own=asked,
        right=sum(c["right_answered"] for c in own) / asked if asked else 0.0,
        wrong=sum(c["wrong_grounded"] for c in own) / asked if asked and recorded else None,
        other=other["questions"],
        refused=other["refused"] / other["questions"] if other["questions"] else 0.0,
    )


def _rates(groups: dict[str, Any]) -> str:
    rates = grounding_rates(groups)
    wrong = "not recorded" if rates.wrong is None else f"{rates.wrong:.2f}"
    return (
        f"right {rates.right:.2f} (target ≥ 0.65), wrong but shown {wrong} (≤ 0.10) of "
        f"{rates.own} over their own, refused {rates.refused:.2f} (≥ 0.9) of {rates.other} "
        "over another's"
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
        "text; *wrong but shown*: answered (shown as grounded) without it.",
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
