"""The prompt templates declare exactly the variables the chain fills in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.answer.chain import (
    Retrieval,
    answer_inputs,
    answer_prompt,
    condense_inputs,
    condense_prompt,
    second_look_prompt,
)
from bot.answer.grounding import REFUSAL
from newsbot.errors import ConfigError
from prompts import load_prompts
from prompts.loader import parse_template
from vectorstore.records import Passage

PASSAGE = Passage(
    chunk_id="a:0",
    article_id="a",
    title="Title",
    url="https://example.com/a",
    source="Example",
    published="2025-05-10",
    text="Some text.",
    char_start=0,
    char_end=10,
    score=0.5,
    chunk_index=0,
)
STATE = {
    "question": "Who?",
    "history": [{"role": "user", "content": "What?"}, {"role": "assistant", "content": "X [1]."}],
    "as_of": date(2025, 6, 1),
    "standalone_question": "Who did X?",
    "retrieval": Retrieval(passages=[PASSAGE], seconds=0.0),
}


def test_chain_templates_exist_with_declared_variables() -> None:
    prompts = load_prompts()
    assert prompts.condense.variables == {"history", "question"}
    assert prompts.answer_system.variables == {"as_of"}
    assert prompts.answer_user.variables == {"passages", "question"}
    assert prompts.answer_retry.variables == {"passages", "question"}


def test_condense_variables_match_what_the_chain_passes() -> None:
    prompts = load_prompts()
    passed = condense_inputs(STATE)
    assert set(passed) == prompts.condense.variables
    assert set(condense_prompt(prompts).input_variables) == set(passed)


def test_answer_variables_match_what_the_chain_passes() -> None:
    prompts = load_prompts()
    passed = answer_inputs(STATE)
    assert set(passed) == prompts.answer_system.variables | prompts.answer_user.variables
    assert set(answer_prompt(prompts).input_variables) == set(passed)
    system, user = answer_prompt(prompts).format_messages(**passed)
    assert "Sunday, 1 June 2025" in system.text
    assert user.text.rstrip().endswith("Who did X?"), "question last keeps the prefix stable"
    assert "[1] Title (Example, 2025-05-10)\nSome text." in user.text


def test_answer_prompt_names_the_refusal_sentence_the_checker_expects() -> None:
    prompts = load_prompts()
    text = prompts.answer_system.text + prompts.answer_user.text
    assert REFUSAL in text


def test_second_look_prompt_shares_the_answer_prompts_prefix_without_the_way_out() -> None:
    prompts = load_prompts()
    passed = answer_inputs(STATE)
    assert set(second_look_prompt(prompts).input_variables) == set(passed)
    first = answer_prompt(prompts).format_messages(**passed)
    second = second_look_prompt(prompts).format_messages(**passed)
    assert first[0] == second[0]
    assert second[1].text.startswith(first[1].text.split("Answer the question")[0])
    assert second[1].text.rstrip().endswith("Who did X?")
    assert REFUSAL not in second[1].text


def test_every_template_in_the_folder_loads() -> None:
    prompts = load_prompts()
    assert {"condense", "answer_system", "answer_user", "answer_retry"} <= set(prompts.templates)
    for template in prompts.templates.values():
        assert template.text, template.name


def test_mismatched_declaration_is_rejected() -> None:
    with pytest.raises(ConfigError, match="declares variables"):
        parse_template("bad", "# variables: a\n---\nHello {a} and {b}\n")


def test_missing_header_is_rejected() -> None:
    with pytest.raises(ConfigError, match="---"):
        parse_template("bad", "Hello {a}\n")


def test_literal_braces_are_not_variables() -> None:
    template = parse_template("ok", '# variables: a\n---\nJSON like {{"x": 1}} for {a}\n')
    assert template.variables == {"a"}
    assert template.format(a="you") == 'JSON like {"x": 1} for you'
    with pytest.raises(ValueError, match="takes"):
        template.format(a="you", b="extra")


def test_unknown_template_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "only.txt").write_text("# variables:\n---\nHi\n", encoding="utf-8")
    prompts = load_prompts(tmp_path)
    assert prompts.get("only").text == "Hi"
    with pytest.raises(ConfigError, match=r"add prompts/condense\.txt"):
        _ = prompts.condense
