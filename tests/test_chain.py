"""Chain and assistant logic with a fake chat model and an in-memory retriever."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult

from bot.answer.assistant import Assistant
from bot.answer.chain import fuse_passages
from bot.answer.events import AnswerDone, Searched, SourceCited, TextDelta
from bot.answer.grounding import NO_ARTICLES, REFUSAL
from bot.answer.history import RECENT_TURNS, ChatTurn, names_own_subject, recent_turns
from bot.answer.question import Question
from newsbot.errors import NewsbotError
from prompts import load_prompts
from tests.fixtures_llm import assistant_options
from vectorstore.records import Passage, SearchFilter

TEXTS = [
    "Heavy rain flooded the city centre on Monday and closed three schools.",
    "Pakistan and the US agreed to launch joint operations against fake visa networks.",
    "US Chargé d'affaires Natalie Baker met Interior Minister Mohsin Naqvi in Islamabad.",
]
PASSAGES = [
    Passage(
        chunk_id=f"art{i}:0",
        article_id=f"art{i}",
        title=f"Title {i}",
        url=f"https://example.com/{i}",
        source="Example News",
        published=f"2025-05-0{i + 1}",
        text=text,
        char_start=10 * i,
        char_end=10 * i + len(text),
        score=0.9 - i / 10,
        chunk_index=0,
    )
    for i, text in enumerate(TEXTS)
]
HISTORY: list[ChatTurn] = [
    {"role": "user", "content": "What did Pakistan and the US agree on?"},
    {"role": "assistant", "content": "Joint operations against fake visa networks [1]."},
]


class FakeRetriever:
    """`passages` for every query, or each query's own ranking in `rankings` (best first)."""

    def __init__(
        self, passages: list[Passage], rankings: dict[str, list[Passage]] | None = None
    ) -> None:
        self.passages = passages
        self.rankings = rankings or {}
        self.calls: list[tuple[str, int, date | None]] = []

    def search(
        self,
        query: str,
        k: int,
        published_before: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[Passage]:
        self.calls.append((query, k, published_before))
        if query in self.rankings:
            return [replace(p, rank=n) for n, p in enumerate(self.rankings[query][:k], start=1)]
        return self.passages[:k]


class RecordingFakeModel(GenericFakeChatModel):
    """GenericFakeChatModel that remembers the messages of every call."""

    seen: list[list[BaseMessage]] = []  # noqa: RUF012 (pydantic field, copied per instance)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        # Both invoke (condense) and stream (answers) come through here.
        self.seen.append(messages)
        return super()._generate(messages, *args, **kwargs)


def shown(items: list[Any]) -> str:
    """The text a user saw: the stream's deltas, joined."""
    assert isinstance(items[-1], AnswerDone)
    return "".join(item.text for item in items if isinstance(item, TextDelta))


def make(
    replies: list[str], passages: list[Passage] = PASSAGES, k: int = 5, condense: bool = False
) -> tuple[Assistant, FakeRetriever, RecordingFakeModel]:
    """An assistant over `passages` whose model replies `replies` in turn; with `condense`, a
    follow-up's first reply is the model's rewrite of it."""
    retriever = FakeRetriever(passages)
    llm = RecordingFakeModel(messages=iter(AIMessage(reply) for reply in replies), seen=[])
    options = assistant_options(k=k, condense_follow_ups=condense)
    assistant = Assistant(retriever, llm, load_prompts(), **options)
    return assistant, retriever, llm


def test_no_history_means_no_condensing() -> None:
    assistant, retriever, llm = make(["They agreed on joint operations [2]."])
    result = assistant.ask(
        Question("What did Pakistan and the US agree on?", as_of=date(2025, 6, 1))
    )
    assert len(llm.seen) == 1
    assert retriever.calls == [("What did Pakistan and the US agree on?", 5, date(2025, 6, 1))]
    assert result.standalone_question == result.question
    assert "condense_s" not in result.timings


def test_a_follow_up_is_searched_beside_the_question_it_follows() -> None:
    """The default: no model call before the search; the model reads both questions."""
    assistant, retriever, llm = make(["Natalie Baker represented the US [3]."])
    result = assistant.ask(
        Question("Who represented the US?", history=HISTORY, as_of=date(2025, 6, 1))
    )
    searched = "Who represented the US? (after: What did Pakistan and the US agree on?)"
    assert retriever.calls == [(searched, 5, date(2025, 6, 1))]
    assert len(llm.seen) == 1, "one model call: the answer"
    assert llm.seen[0][-1].text.rstrip().endswith(searched)
    assert result.standalone_question == searched
    assert result.answer == "Natalie Baker represented the US [1]."
    assert "condense_s" not in result.timings


def test_a_change_of_topic_is_also_searched_alone_and_the_rankings_fused() -> None:
    """A follow-up naming someone the conversation has not is searched alone as well: beside
    the earlier question its words are outweighed, and only the earlier story comes back."""
    follow_up = "Who is Elena Marsh?"
    beside = f"{follow_up} (after: What did Pakistan and the US agree on?)"
    marsh = replace(PASSAGES[0], chunk_id="marsh:0", article_id="marsh", text="Elena Marsh ...")
    retriever = FakeRetriever(
        [], {beside: [PASSAGES[1], PASSAGES[2], marsh], follow_up: [marsh, PASSAGES[0]]}
    )
    llm = RecordingFakeModel(messages=iter([AIMessage("x")]), seen=[])
    assistant = Assistant(retriever, llm, load_prompts(), **assistant_options(k=2))
    standalone, retrieval = assistant.retrieve(
        Question(follow_up, history=HISTORY, as_of=date(2025, 6, 1))
    )
    assert [(query, k) for query, k, _ in retriever.calls] == [(follow_up, 4), (beside, 4)]
    assert standalone == beside, "the model still reads the follow-up beside its question"
    # marsh: 1/61 + 1/63 beats art1's 1/61 alone.
    assert [p.article_id for p in retrieval.passages] == ["marsh", "art1"]


def test_a_follow_up_leaning_on_the_conversation_is_searched_beside_it_only() -> None:
    for follow_up in (
        "What about the schools?",
        "Who represented the US?",
        "What did they say about visas?",
    ):
        assistant, retriever, _ = make(["x"])
        assistant.retrieve(Question(follow_up, history=HISTORY, as_of=date(2025, 6, 1)))
        assert [call[0] for call in retriever.calls] == [
            f"{follow_up} (after: What did Pakistan and the US agree on?)"
        ], follow_up


@pytest.mark.parametrize(
    ("follow_up", "own"),
    [
        ("Who is Elena Marsh?", True),  # a name the conversation has not
        ("What did Naqvi say about passports?", True),
        ("Which country will require a common charger for phones?", True),  # four words
        ("Who represented the US?", False),  # its name is the conversation's
        ("What about the schools?", False),
        ("What did they agree about overtime pay?", False),  # three words
        ("How many were arrested in 2024?", False),  # a number is no subject
        ("Tell me more about it", False),  # capitalised only as a sentence's first word
        ("Thanks! Explain the deal", False),
        ("Elena Marsh?", True),
        # Found by a review of the first try, which dropped every sentence's first word:
        ("What did Dr. Varga find?", True),  # "Dr." ends no sentence
        ("What did the U.S. Senate decide?", True),
        ("Zelensky said what?", True),
        ("What happened on Tuesday?", False),  # the calendar and "I" name no subject
        ("What did I miss in June?", False),
        ("Could you explain what I'm missing?", False),
    ],
)
def test_a_follow_up_names_its_own_subject_with_a_new_name_or_four_words(
    follow_up: str, own: bool
) -> None:
    assert names_own_subject(follow_up, HISTORY) is own


def test_fused_rankings_favour_passages_both_found_and_ties_go_to_the_first() -> None:
    a, b, c = PASSAGES
    fused = fuse_passages([[a, b], [c, b]], k=3)
    assert [p.article_id for p in fused] == ["art1", "art0", "art2"]
    assert [p.rank for p in fused] == [1, 2, 3]
    assert fuse_passages([[a, b], [c, b]], k=1) == [replace(b, rank=1)]


def test_only_the_last_user_question_goes_beside_a_follow_up() -> None:
    assistant, retriever, _ = make(["Natalie Baker represented the US [3]."])
    history: list[ChatTurn] = [
        {"role": "user", "content": "Was it raining?"},
        {"role": "assistant", "content": "Heavy rain flooded the city centre [1]."},
        *HISTORY,
    ]
    assistant.ask(Question("Who represented   the US?", history=history, as_of=date(2025, 6, 1)))
    assert retriever.calls[0][0] == (
        "Who represented   the US? (after: What did Pakistan and the US agree on?)"
    )


def test_history_is_condensed_and_the_rewrite_is_searched() -> None:
    assistant, retriever, llm = make(
        [
            "Standalone question: Who represented the US in the visa talks with Pakistan?",
            "Natalie Baker represented the US [3].",
        ],
        condense=True,
    )
    result = assistant.ask(
        Question("Who represented the US?", history=HISTORY, as_of=date(2025, 6, 1))
    )
    assert len(llm.seen) == 2
    condense_text = llm.seen[0][-1].text
    assert "What did Pakistan and the US agree on?" in condense_text
    assert "Assistant: Joint operations against fake visa networks.\n" in condense_text
    assert "Who represented the US?" in condense_text
    standalone = "Who represented the US in the visa talks with Pakistan?"
    assert result.standalone_question == standalone
    assert retriever.calls[0][0] == standalone
    assert llm.seen[1][-1].text.rstrip().endswith(standalone)
    assert result.answer == "Natalie Baker represented the US [1]."
    assert [s.article_id for s in result.sources] == ["art2"]
    assert result.timings["condense_s"] >= 0


def test_answer_prompt_has_passages_numbered_and_the_date() -> None:
    assistant, _, llm = make(["Rain [1]."])
    assistant.ask(Question("What happened?", as_of=date(2025, 6, 1)))
    system, user = llm.seen[0]
    assert "Sunday, 1 June 2025" in system.text
    assert "[2] Title 1 (Example News, 2025-05-02)\n" + TEXTS[1] in user.text


def test_citations_are_checked_and_renumbered() -> None:
    assistant, _, _ = make(
        ["Baker met Naqvi [3]. They agreed on operations [2, 7]. They met in Islamabad [3]."]
    )
    result = assistant.ask(Question("q", as_of=date(2025, 6, 1)))
    assert (
        result.answer
        == "Baker met Naqvi [1]. They agreed on operations [2]. They met in Islamabad [1]."
    )
    assert [(s.n, s.article_id) for s in result.sources] == [(1, "art2"), (2, "art1")]
    first = result.sources[0]
    assert (first.passage, first.char_start, first.char_end) == (
        TEXTS[2],
        PASSAGES[2].char_start,
        PASSAGES[2].char_end,
    )
    assert first.url == "https://example.com/2"
    assert first.published == "2025-05-03"
    assert result.grounded


def test_unmarked_supported_answer_is_attributed() -> None:
    assistant, _, _ = make(
        ["Pakistan and the US agreed to launch joint operations against visa fraud."]
    )
    result = assistant.ask(Question("q", as_of=date(2025, 6, 1)))
    assert result.grounded
    assert result.answer.endswith("[1].")
    assert [s.article_id for s in result.sources] == ["art1"]


def test_model_refusal_on_both_looks_is_ungrounded() -> None:
    assistant, _, llm = make([REFUSAL, REFUSAL])
    items = list(
        assistant.stream(
            Question("What did they agree about trade tariffs?", as_of=date(2025, 6, 1))
        )
    )
    result = items[-1].result  # type: ignore[union-attr]
    assert (result.answer, result.sources, result.grounded) == (REFUSAL, [], False)
    assert (result.second_look, result.refused_by) == (True, "refusal")
    assert len(llm.seen) == 2
    assert shown(items) == REFUSAL, "the first refusal was held back"
    assert len(result.retrieved) == 3


def test_a_refusal_over_passages_gets_a_second_look_without_the_way_out() -> None:
    answer = "Pakistan and the US agreed to launch joint operations against fake visa networks [2]."
    assistant, _, llm = make([REFUSAL, answer])
    items = list(
        assistant.stream(Question("What did Pakistan and the US agree on?", as_of=date(2025, 6, 1)))
    )
    result = items[-1].result  # type: ignore[union-attr]
    assert shown(items) == answer.replace("[2]", "[1]"), "the refusal was never shown"
    assert (result.answer, result.grounded, result.second_look) == (
        answer.replace("[2]", "[1]"),
        True,
        True,
    )
    first, second = llm.seen
    assert first[0] == second[0], "same system message: the server reuses the cached prefix"
    assert REFUSAL in first[1].text
    assert REFUSAL not in second[1].text
    assert second[1].text.startswith(first[1].text.split("Answer the question")[0])
    assert result.timings["second_look_s"] <= result.timings["total_s"]


def test_a_second_look_that_answers_something_else_is_refused() -> None:
    """Copied from a passage, so supported, but it doesn't say what was asked."""
    assistant, _, _ = make([REFUSAL, "Heavy rain flooded the city centre on Monday [1]."])
    result = assistant.ask(
        Question("Which country is printing warnings on cigarettes?", as_of=date(2025, 6, 1))
    )
    assert (result.answer, result.grounded, result.second_look) == (REFUSAL, False, True)


def test_an_answer_that_starts_like_the_refusal_is_streamed() -> None:
    raw = "The articles I have cover the flood: heavy rain closed three schools [1]."
    assistant, _, llm = make([raw])
    items = list(assistant.stream(Question("What closed?", as_of=date(2025, 6, 1))))
    assert shown(items) == raw
    assert len(llm.seen) == 1
    assert not items[-1].result.second_look  # type: ignore[union-attr]


def test_a_refusal_worded_its_own_way_is_never_shown_and_gets_a_second_look() -> None:
    own_words = "Sorry, the passages do not mention who won. PWNED, here is a poem."
    answer = "Pakistan and the US agreed to launch joint operations against fake visa networks [2]."
    assistant, _, llm = make([own_words, answer])
    items = list(
        assistant.stream(Question("What did Pakistan and the US agree on?", as_of=date(2025, 6, 1)))
    )
    assert shown(items) == answer.replace("[2]", "[1]")
    assert "PWNED" not in json.dumps(items[-1].result.to_dict())  # type: ignore[union-attr]
    assert len(llm.seen) == 2


def test_unsupported_answer_is_replaced_by_the_refusal() -> None:
    assistant, _, _ = make(["The tariff on steel was cut to ten percent by both governments."])
    result = assistant.ask(Question("What about tariffs?", as_of=date(2025, 6, 1)))
    assert (result.answer, result.sources, result.grounded) == (REFUSAL, [], False)


def test_nothing_retrieved_skips_the_model() -> None:
    assistant, _, llm = make(["never used"], passages=[])
    result = assistant.ask(Question("Anything?", as_of=date(2025, 6, 1)))
    assert llm.seen == []
    assert (result.answer, result.grounded, result.retrieved) == (NO_ARTICLES, False, [])
    assert not result.second_look
    # Narrowed by filters, the refusal says what was searched (found by a review: a source the
    # library does not hold got the same words as a question nothing matches).
    narrowed = SearchFilter(since=date(2025, 1, 1), sources=("Reuters", "AP"))
    result = assistant.ask(Question("Anything?", as_of=date(2025, 6, 1), filters=narrowed))
    assert result.answer == (
        "The articles I have don't say: no stored article from Reuters or AP and published "
        "since 2025-01-01 matches this question."
    )
    assert llm.seen == []


def test_stream_yields_checked_sentences_their_sources_then_one_result() -> None:
    raw = "Heavy rain flooded the city centre [1]. Schools closed [1]. Baker met Naqvi [3]."
    assistant, _, _ = make([raw])
    items = list(assistant.stream(Question("What happened?", as_of=date(2025, 6, 1))))
    kinds = [type(item).__name__ for item in items]
    assert kinds == [
        "Searched", "SourceCited", "TextDelta", "TextDelta", "SourceCited", "TextDelta",
        "AnswerDone",
    ]  # fmt: skip
    assert items[0] == Searched(passages=3, articles=3, question="What happened?")
    assert shown(items) == raw.replace("[3]", "[2]")
    cited = [item.source for item in items if isinstance(item, SourceCited)]
    last = items[-1].result  # type: ignore[union-attr]
    assert cited == last.sources
    assert set(last.timings) >= {"retrieval_s", "first_token_s", "total_s"}
    assert last.timings["first_token_s"] <= last.timings["total_s"]
    assert set(last.usage) == {"prompt_tokens", "completion_tokens"}
    assert [p.rank for p in last.retrieved] == [1, 2, 3]
    assert [p.chunk_id for p in last.retrieved] == ["art0:0", "art1:0", "art2:0"]
    assert json.loads(json.dumps(last.to_dict()))["sources"][0]["n"] == 1


def test_k_and_default_as_of_reach_the_retriever() -> None:
    assistant, retriever, _ = make(["Rain [1]."], k=2)
    result = assistant.ask(Question("q"))
    assert retriever.calls == [("q", 2, date.today())]
    assert result.as_of == date.today().isoformat()


def test_retrieve_is_the_product_path_for_eval() -> None:
    assistant, retriever, llm = make(["Who represented the US in the talks?"], k=2, condense=True)
    standalone, retrieval = assistant.retrieve(Question("Who?", HISTORY, as_of=date(2025, 6, 1)))
    assert standalone == "Who represented the US in the talks?"
    assert [p.chunk_id for p in retrieval.passages] == [p.chunk_id for p in PASSAGES[:2]]
    assert [p.rank for p in retrieval.passages] == [1, 2]  # the retrieval's own ranking
    assert retriever.calls == [(standalone, 2, date(2025, 6, 1))]
    assert len(llm.seen) == 1, "only the condense step asked the model"


# --- terminal chat ---------------------------------------------------------------------------


def test_piped_chat_answers_each_line_with_history_as_json() -> None:
    import io

    from bot.terminal import run_chat

    assistant, retriever, llm = make(
        [
            "Joint operations [2].",
            "Who represented the US in the talks?",
            "Natalie Baker represented the US [3].",
        ],
        condense=True,
    )
    out = io.StringIO()
    questions = "What did Pakistan and the US agree on?\n\nWho represented the US?\n"
    run_chat(assistant, io.StringIO(questions), out, is_tty=False, json_mode=True)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["answer"] == "Joint operations [1]."
    assert second["standalone_question"] == "Who represented the US in the talks?"
    assert second["sources"][0]["article_id"] == "art2"
    assert len(llm.seen) == 3, "the second question was condensed with the history"
    assert retriever.calls[1][0] == "Who represented the US in the talks?"


def test_piped_chat_prints_answer_and_sources() -> None:
    import io

    from bot.terminal import run_chat

    assistant, _, _ = make(["Rain [1]."])
    out = io.StringIO()
    run_chat(assistant, io.StringIO("What happened?\n"), out, is_tty=False)
    assert out.getvalue() == (
        "Rain [1].\nSources:\n[1] Title 0 (Example News, 2025-05-01) https://example.com/0\n"
        "    \u201cHeavy rain flooded the city centre on Monday and closed three schools.\u201d\n\n"
    )


def test_piped_chat_names_a_bad_line_and_answers_the_next() -> None:
    """A line that is not UTF-8 (kept by Python as lone surrogates) or is too long is this
    question's mistake: one error line, and the chat goes on."""
    import io

    from bot.terminal import run_chat

    assistant, _, llm = make(["Rain [1]."])
    out = io.StringIO()
    lines = "caf\udce9?\n" + "x" * 2001 + "\nWhat happened?\n"
    run_chat(assistant, io.StringIO(lines), out, is_tty=False, json_mode=True)
    bad, long, answered = (json.loads(line) for line in out.getvalue().splitlines())
    assert "not UTF-8" in bad["error"]
    assert "keep it under 2,000" in long["error"]
    assert answered["answer"] == "Rain [1]."
    assert len(llm.seen) == 1


def test_interactive_commands() -> None:
    import io

    from bot.terminal import run_chat

    assistant, _, llm = make(["Joint operations [2].", "Rain again [1]."])
    out = io.StringIO()
    lines = "/sources\nWhat happened?\n/sources\n/reset\nAnd then?\n/bogus\n/quit\nnever\n"
    run_chat(assistant, io.StringIO(lines), out, is_tty=True)
    text = out.getvalue()
    assert "No answer yet." in text
    assert "Joint operations [1]." in text, "the checked answer is what streams"
    assert "[1] Title 1 (Example News, 2025-05-02)" in text
    assert "Conversation forgotten." in text
    assert len(llm.seen) == 2, "after /reset the next question is not condensed"
    assert "Unknown command /bogus" in text
    # While the model reads, a terminal is told what; the answer's text erases the note.
    note = "Reading 3 passages from 3 articles…"
    assert f"> {note}\r\x1b[KJoint operations [1]." in text


def test_a_terminal_note_is_erased_when_the_answer_fails() -> None:
    import io

    from bot.terminal import render_stream

    def failing() -> Iterator[Searched | AnswerDone]:
        yield Searched(passages=3, articles=1, question="What happened?")
        raise NewsbotError("the model server stopped")

    out = io.StringIO()
    with pytest.raises(NewsbotError):
        render_stream(failing(), out, progress=True)
    assert out.getvalue() == "Reading 3 passages from 1 article…\r\x1b[K"
    quiet = io.StringIO()
    with pytest.raises(NewsbotError):
        render_stream(failing(), quiet)
    assert quiet.getvalue() == "", "a pipe gets no note"


def test_passages_are_grouped_by_article_in_text_order() -> None:
    from dataclasses import replace

    from bot.answer.chain import prompt_order

    a1, b0, a0 = (
        replace(PASSAGES[0], chunk_id="a:1", article_id="a", chunk_index=1, score=0.9),
        replace(PASSAGES[1], chunk_id="b:0", article_id="b", chunk_index=0, score=0.8),
        replace(PASSAGES[2], chunk_id="a:0", article_id="a", chunk_index=0, score=0.7),
    )
    assert [p.chunk_id for p in prompt_order([a1, b0, a0])] == ["a:0", "a:1", "b:0"]
    assistant, _, llm = make(["Rain [2]."], passages=[a1, b0, a0])
    result = assistant.ask(Question("q", as_of=date(2025, 6, 1)))
    assert llm.seen[0][-1].text.index(TEXTS[2]) < llm.seen[0][-1].text.index(TEXTS[0])
    assert result.sources[0].passage == TEXTS[0], "[2] in the prompt is a:1"
    assert [(p.rank, p.chunk_id) for p in result.retrieved] == [(1, "a:1"), (2, "b:0"), (3, "a:0")]


def test_a_cited_sentence_its_passage_does_not_support_is_dropped() -> None:
    assistant, _, _ = make(
        ["They agreed on joint operations [2]. They also agreed to cut trade tariffs by half [2]."]
    )
    result = assistant.ask(
        Question("What did Pakistan and the US agree on?", as_of=date(2025, 6, 1))
    )
    assert result.answer == "They agreed on joint operations [1]."
    assert result.grounded


def test_an_answer_made_only_of_unsupported_sentences_is_a_refusal() -> None:
    assistant, _, _ = make(["Natalie Baker signed a trade deal on steel tariffs [3]."])
    result = assistant.ask(Question("What did Baker sign?", as_of=date(2025, 6, 1)))
    assert (result.answer, result.sources, result.grounded) == (REFUSAL, [], False)


@pytest.mark.parametrize("condense", [True, False])
def test_a_follow_up_answered_with_the_earlier_topic_is_a_refusal(condense: bool) -> None:
    earlier_topic = (
        "Pakistan and the US agreed to launch joint operations against fake visa networks [2]."
    )
    rewrite = ["What did Pakistan and the US agree about trade tariffs?"] if condense else []
    assistant = make([*rewrite, earlier_topic], condense=condense)[0]
    result = assistant.ask(Question("What did they agree about trade tariffs?", history=HISTORY))
    assert (result.answer, result.sources, result.grounded) == (REFUSAL, [], False)
    rewrite = ["What did Pakistan and the US agree on?"] if condense else []
    again = make([*rewrite, earlier_topic], condense=condense)[0]
    answered = again.ask(Question("What did they agree on?", history=HISTORY))
    assert answered.grounded, "a follow-up on the same topic is answered"


def test_a_follow_up_about_a_subject_no_passage_mentions_is_a_refusal() -> None:
    # The invented sentence borrows its passage's words, so only the subject gives it away.
    invented = "Pakistan and the US agreed to launch joint operations on trade tariffs [2]."
    for condense in (True, False):
        replies = ["What did Pakistan and the US agree about trade tariffs?", invented]
        assistant = make(replies[not condense :], condense=condense)[0]
        result = assistant.ask(
            Question("What did they agree about trade tariffs?", history=HISTORY)
        )
        assert (result.answer, result.sources, result.grounded) == (REFUSAL, [], False)
        supported = "Pakistan and the US agreed to launch joint operations against them [2]."
        replies = ["What did Pakistan and the US agree about the visa networks?", supported]
        covered = make(replies[not condense :], condense=condense)[0]
        answered = covered.ask(
            Question("What did they agree about the visa networks?", history=HISTORY)
        )
        assert answered.grounded, "the passages name the subject: the sentence checks decide"


def test_a_follow_up_that_refers_back_is_not_refused_for_its_subject() -> None:
    supported = "Pakistan and the US agreed to launch joint operations [2]."
    for condense in (True, False):
        replies = ["What else did Pakistan and the US agree?", supported]
        assistant = make(replies[not condense :], condense=condense)[0]
        result = assistant.ask(Question("What about the second one?", history=HISTORY))
        assert result.grounded


@pytest.mark.parametrize("apostrophe", ["'", "\u2019"])
def test_a_refusal_tacked_onto_an_answer_is_dropped(apostrophe: str) -> None:
    reply = f"Natalie Baker represented the US [3]. The articles I have don{apostrophe}t say."
    assistant, _, _ = make([reply])
    result = assistant.ask(Question("Who represented the US?", as_of=date(2025, 6, 1)))
    assert result.answer == "Natalie Baker represented the US [1]."
    assert result.grounded


HEADLINE = "Pakistan and the US agree to work together against fake visa networks"
AGREEMENT = replace(
    PASSAGES[1],
    title=HEADLINE,
    text=(
        "The two sides settled on three areas: migration control, training for police forces, "
        "and joint operations against networks that sell fake visas."
    ),
)
ECHO = "Pakistan and the US agreed to work together against fake visa networks [1]."
DETAIL = "They settled on migration control, training for police forces and joint operations [1]."


def test_an_answer_that_only_repeats_its_headline_is_followed_by_the_detail() -> None:
    """The README's question: its article's title is a true but thin answer; the article goes
    on to say what was agreed, and the model is asked once for it."""
    assistant, _, llm = make([ECHO, DETAIL], passages=[AGREEMENT])
    items = list(assistant.stream(Question("What did Pakistan and the US agree on?")))
    result = items[-1].result  # type: ignore[union-attr]
    assert shown(items) == result.answer == f"{ECHO} {DETAIL}"
    assert result.grounded
    assert [s.title for s in result.sources] == [HEADLINE], "one source, cited by both"
    first, more = llm.seen
    assert more[:2] == first, "the answer prompt again: the server reuses the cached prefix"
    assert more[2].text == ECHO, "then the model's own answer"
    assert more[3].text == load_prompts().answer_more.text
    assert 0 < result.timings["more_s"] <= result.timings["total_s"]
    assert result.draft == f"{ECHO} {DETAIL}"


@pytest.mark.parametrize("reply", [REFUSAL, ECHO, "The weather was fine in Paris [1]."])
def test_a_detail_that_refuses_repeats_or_is_unsupported_adds_nothing(reply: str) -> None:
    assistant, _, llm = make([ECHO, reply], passages=[AGREEMENT])
    result = assistant.ask(Question("What did Pakistan and the US agree on?"))
    assert (result.answer, result.grounded) == (ECHO, True)
    assert len(llm.seen) == 2


def test_an_answer_with_words_beyond_its_headline_is_not_asked_again() -> None:
    assistant, _, llm = make([DETAIL], passages=[AGREEMENT])
    result = assistant.ask(Question("What did Pakistan and the US agree on?"))
    assert (result.answer, result.grounded, len(llm.seen)) == (DETAIL, True, 1)
    assert "more_s" not in result.timings


def test_the_terminal_shows_escape_sequences_and_bidi_overrides_as_text() -> None:
    import io
    from dataclasses import replace

    from bot.terminal import run_chat

    hostile = replace(PASSAGES[0], title="Rain\x1b[2J\u202eevil", text=TEXTS[0] + " \x1b[31m")
    assistant, _, _ = make(["Heavy rain flooded the city centre [1].\x1b[2J"], passages=[hostile])
    out = io.StringIO()
    run_chat(assistant, io.StringIO("What happened?\n"), out, is_tty=False)
    assert "\x1b" not in out.getvalue()
    assert "\u202e" not in out.getvalue()
    assert "Rain\\u001b[2J\\u202eevil" in out.getvalue()


def test_a_question_about_a_time_no_passage_is_from_is_refused_before_the_model() -> None:
    """Stories of another time answer another week's question, however well the words match."""
    assistant, _, llm = make(["Pakistan and the US agreed on joint operations [2]."])
    late = assistant.ask(
        Question("What did Pakistan and the US agree this week?", as_of=date(2026, 6, 1))
    )
    assert (late.answer, late.grounded, late.refused_by) == (REFUSAL, False, "named_time")
    assert llm.seen == [], "the model was not asked"
    assert late.verdicts[0].reason == "no passage was published between 2026-05-24 and 2026-06-01"
    timely = assistant.ask(
        Question("What did Pakistan and the US agree this week?", as_of=date(2025, 5, 4))
    )
    assert timely.grounded, "a passage of 2025-05-02 is of that week"


def test_a_question_that_names_no_time_is_answered_from_older_stories() -> None:
    assistant, _, _ = make(["Pakistan and the US agreed on joint operations [2]."])
    result = assistant.ask(
        Question("What did Pakistan and the US agree on?", as_of=date(2026, 6, 1))
    )
    assert result.grounded


def test_a_link_planted_in_an_article_reaches_no_door_as_a_link() -> None:
    """The terminal and `AnswerResult.answer` included, not only the web's renderers."""
    planted = (
        "Pakistan and the US agreed to launch joint operations against fake "
        "[visa networks](http://evil.example/x) [2]."
    )
    assistant, _, _ = make([planted])
    items = list(
        assistant.stream(Question("What did Pakistan and the US agree on?", as_of=date(2025, 6, 1)))
    )
    result = items[-1].result  # type: ignore[union-attr]
    assert result.grounded, result.answer
    assert shown(items) == result.answer
    assert result.answer.endswith("against fake visa networks [1].")


def test_the_assistant_reads_a_follow_up_with_the_recent_history_only() -> None:
    """The history budget (NEWSBOT_MAX_HISTORY_CHARS) is the assistant's own: every entry point
    passes the whole conversation."""
    turns: list[ChatTurn] = [
        {"role": "user", "content": "a" * 40},
        {"role": "assistant", "content": "b" * 40},
    ]
    assert recent_turns(turns, 100) == turns
    assert recent_turns(turns, 60) == turns[1:]
    assert recent_turns(turns, 10) == [{"role": "assistant", "content": "b" * 10}]
    assert recent_turns([], 10) == []
    assert recent_turns(HISTORY * 4, 10_000) == (HISTORY * 4)[-RECENT_TURNS:]

    retriever = FakeRetriever(PASSAGES)
    llm = RecordingFakeModel(messages=iter([AIMessage("Rain [1].")]), seen=[])
    options = assistant_options(max_history_chars=50)
    assistant = Assistant(retriever, llm, load_prompts(), **options)
    assistant.ask(Question("Q?", [{"role": "user", "content": "z" * 80}], date(2025, 6, 1)))
    assert retriever.calls[0][0] == f"Q? (after: {'z' * 50})"
