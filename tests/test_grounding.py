"""The answer check: markers, the draft's sentences, each named check, and the streaming pipeline
(nothing released is ever taken back; a whole draft and the same draft streamed agree)."""

from __future__ import annotations

import pytest

from bot.answer.grounding import (
    REFUSAL,
    AnswerChecker,
    GroundingPolicy,
    check_answer,
    is_refusal,
    marker_numbers,
    strip_markers,
)
from bot.answer.grounding.draft import split_draft
from bot.answer.grounding.markers import Renumbering, keep_known_markers
from bot.answer.grounding.words import (
    asked_subject,
    content_words,
    names_and_numbers,
    question_coverage,
    subject_coverage,
    support,
)
from newsbot.evaluation.modes.base import plain_passage
from vectorstore.records import Passage

TEXTS = [
    "Heavy rain flooded the city centre on Monday and closed three schools.",
    "Pakistan and the US agreed to launch joint operations against fake visa networks.",
    "The central bank raised its interest rate by half a point to curb inflation.",
]


def passages(texts: list[str] = TEXTS) -> list[Passage]:
    return [plain_passage(f"a{i}:0", f"a{i}", text) for i, text in enumerate(texts)]


def checked(raw: str, question: str = "", texts: list[str] = TEXTS, **kw: object) -> str:
    return check_answer(raw, passages(texts), question, **kw).text  # type: ignore[arg-type]


# --- markers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inside", "numbers"),
    [("1", [1]), ("1, 2", [1, 2]), ("2,1", [2, 1]), ("1-3", [1, 2, 3]), ("1 and 3", [1, 3]),
     ("2, 2", [2]), ("3-1", [])],
)  # fmt: skip
def test_marker_forms(inside: str, numbers: list[int]) -> None:
    assert marker_numbers(inside) == numbers


def test_known_markers_keep_given_numbers_and_drop_unknown_ones() -> None:
    assert keep_known_markers("A [3]. B [1, 5]. C [0].", 3) == "A [3]. B [1]. C."
    assert keep_known_markers("A [2][2]. B [Passage 2] [2].", 2) == "A [2]. B [2]."
    assert keep_known_markers("Baker met Naqvi. [2]", 2) == "Baker met Naqvi [2]."


def test_renumbered_in_order_of_first_citation_across_releases() -> None:
    numbers = Renumbering()
    assert numbers.apply("Rates rose [3].") == ("Rates rose [1].", [3])
    assert numbers.apply("Rain fell [1][3].") == ("Rain fell [2][1].", [1])
    assert numbers.cited == [2, 0]


def test_strip_markers() -> None:
    assert strip_markers("A [1]. B [2, 3] and C [Passage 4].") == "A. B and C."


# --- the draft -----------------------------------------------------------------------------------


def test_sentences_keep_their_markers_and_titles() -> None:
    text = "One fact. [1] Dr. Ilse Varga [1]. Mr. Naqvi met the U.S. envoy. It was No. 5. Jr. left."
    assert [s.text for s in split_draft(text)] == [
        "One fact. [1]",
        "Dr. Ilse Varga [1].",
        "Mr. Naqvi met the U.S. envoy.",
        "It was No. 5.",
        "Jr. left.",
    ]


def test_lists_and_line_breaks_survive_the_check() -> None:
    raw = (
        "They agreed on two things:\n"
        "- joint operations against fake visa networks [2]\n"
        "- heavy rain closed three schools [1]\n\n"
        "The central bank raised its interest rate [3]."
    )
    assert checked(raw) == (
        "They agreed on two things:\n"
        "- joint operations against fake visa networks [1]\n"
        "- heavy rain closed three schools [2]\n\n"
        "The central bank raised its interest rate [3]."
    )


def test_a_dropped_list_item_takes_its_line_with_it() -> None:
    raw = (
        "1. Joint operations against fake visa networks [2].\n"
        "2. Trade tariffs were cut by Canada [2].\n"
        "3. Heavy rain closed three schools [1]."
    )
    assert checked(raw) == (
        "1. Joint operations against fake visa networks [1].\n"
        "3. Heavy rain closed three schools [2]."
    )


# --- the sentence checks -------------------------------------------------------------------------


def test_an_unmarked_sentence_gets_the_best_supporting_passage() -> None:
    raw = "Pakistan and the US agreed on joint operations against fake visa networks."
    assert checked(raw) == raw[:-1] + " [1]."


def test_an_unmarked_sentence_no_passage_holds_is_dropped_beside_a_cited_one() -> None:
    """Beside a supported, cited sentence an unmarked one used to be shown unchecked."""
    raw = "The mayor praised the new tram line. Heavy rain closed three schools [1]. Yes."
    result = check_answer(raw, passages(), "What happened?")
    assert result.text == "Heavy rain closed three schools [1]. Yes."
    [dropped] = [v for v in result.verdicts if v.action == "drop"]
    assert (dropped.check, dropped.text) == ("attribution", "The mayor praised the new tram line.")


def test_a_sentence_that_adds_no_word_of_its_own_is_dropped_as_a_repeat() -> None:
    raw = (
        "Pakistan and the US agreed on joint operations against fake visa networks [2]. "
        "Joint operations against fake visa networks were agreed [2]. "
        "Heavy rain closed three schools [1]."
    )
    result = check_answer(raw, passages(), "What did Pakistan and the US agree on?")
    assert result.text == (
        "Pakistan and the US agreed on joint operations against fake visa networks [1]. "
        "Heavy rain closed three schools [2]."
    )
    assert [v.check for v in result.verdicts if v.action == "drop"] == ["repeat"]


def test_an_answer_of_unsupported_or_short_sentences_is_refused() -> None:
    result = check_answer("The president visited Japan to discuss exports. Yes.", passages())
    assert (result.text, result.grounded, result.refused_by) == (
        REFUSAL,
        False,
        "supported_sentence",
    )


def test_support_is_the_share_of_content_words_found() -> None:
    assert support("Heavy rain flooded schools", TEXTS[0]) == 1.0
    assert support("Heavy snow buried trains", TEXTS[0]) == pytest.approx(1 / 4)
    assert support("It was so.", TEXTS[0]) == 0.0


def test_restating_the_question_is_not_support() -> None:
    question = "What did Pakistan and the US agree about trade tariffs?"
    invented = "Pakistan and the US agreed on trade tariffs."
    assert support(invented, TEXTS[1]) == 0.5, "half its words are in the passage"
    assert support(invented, TEXTS[1], question) == 0.0, "but none beyond the question's"
    assert checked(invented, question) == REFUSAL


def test_cited_sentences_their_passages_do_not_support_are_dropped() -> None:
    question = "What did Pakistan and the US agree about trade tariffs?"
    echoed = "Pakistan and the US agreed to cut trade tariffs [2]."
    supported = "They agreed to launch joint operations against fake visa networks [2]."
    result = check_answer(f"{supported} {echoed}", passages(), question)
    assert result.text == supported.replace("[2]", "[1]")
    assert [(v.action, v.check) for v in result.verdicts] == [
        ("keep", "cited_support"),
        ("drop", "cited_support"),
    ]


def test_a_misnumbered_citation_moves_to_the_supporting_passage() -> None:
    raw = "Heavy rain flooded the city centre and closed schools [3]."
    result = check_answer(raw, passages())
    assert result.text == raw.replace("[3]", "[1]")
    assert result.cited == [0]


def test_a_sentence_with_a_name_or_number_the_passages_lack_is_dropped() -> None:
    texts = ["Canada will print a warning on every cigarette from 2023, its health minister said."]
    raw = (
        "The United States will print a warning on every cigarette [1]. "
        "Canada will print it from 2023 [1]. Canada will print it from 2025 [1]."
    )
    result = check_answer(raw, passages(texts))
    assert result.text == "Canada will print it from 2023 [1]."
    assert [v.check for v in result.verdicts if v.action == "drop"] == ["names", "names"]


def test_names_and_numbers_are_the_capitalised_words_and_numbers() -> None:
    assert names_and_numbers("Dr. Ilse Varga\u2019s panel saw 40 cm by 2070 [1].") == {
        "dr", "ilse", "varga", "40", "2070",
    }  # fmt: skip
    assert names_and_numbers("They said owners should stop using the kettle [2].") == set()
    assert names_and_numbers("However, owners should stop [2].") == set()
    assert names_and_numbers("According to Brightwell, owners should stop.") == {"brightwell"}


@pytest.mark.parametrize(
    "text",
    [
        "The articles I have don't say.",
        "The articles I have don\u2019t say what they agreed about tariffs.",
        "The passages do not mention trade tariffs.",
        "There is no information about tariffs in the articles.",
    ],
)
def test_refusals_in_any_wording_are_recognised(text: str) -> None:
    assert is_refusal(text)
    result = check_answer(text, passages())
    assert (result.text, result.refused_by) == (REFUSAL, "refusal"), "never the model's wording"


@pytest.mark.parametrize(
    "refusal", ["The articles I have don't say.", "The articles don\u2019t say."]
)
def test_a_refusal_tacked_onto_an_answer_is_dropped(refusal: str) -> None:
    raw = f"They agreed to launch joint operations against fake visa networks [2]. {refusal}"
    assert checked(raw) == "They agreed to launch joint operations against fake visa networks [1]."


# --- answer checks -------------------------------------------------------------------------------


def test_question_coverage_counts_the_words_seen() -> None:
    follow_up = "What did they agree about trade tariffs?"
    seen = content_words("They agreed to launch joint operations [1].") | content_words(TEXTS[1])
    assert question_coverage(follow_up, seen) == 1 / 3, "only 'agree'"
    assert question_coverage("Who is it?", set()) == 1.0, "no content words: nothing to miss"


def test_a_follow_up_answered_with_the_earlier_topic_is_refused() -> None:
    raw = "They agreed to launch joint operations against fake visa networks [1]."
    result = check_answer(
        raw, passages(TEXTS[1:2]), "What did Pakistan and the US agree on trade?",
        follow_up="What did they agree about trade tariffs?",
        policy=GroundingPolicy(subject_coverage=0),
    )  # fmt: skip
    assert (result.grounded, result.refused_by) == (False, "follow_up_coverage")


def test_a_follow_up_about_a_subject_no_passage_mentions_is_refused_before_the_model() -> None:
    checker = AnswerChecker(passages(), "q", follow_up="What did they agree about trade tariffs?")
    assert checker.before_answer() == "subject"
    assert checker.result().text == REFUSAL


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What did they agree about trade tariffs?", {"trad", "tariff"}),
        ("What about China?", {"china"}),
        ("And regarding the schools, what happened?", {"school"}),
        ("What about the drivers who walked out?", {"driver"}),
        ("What about that deal?", {"deal"}),
        ("What about Dr. Varga?", {"varga"}),
        ("Who represented the US?", set()),
        ("What about the second one?", set()),
        ("What about the first deal?", {"deal"}),
        ("What did she say about him afterwards?", set()),
        ("How about in 2024?", set()),
        ("About how many pages were seized?", set()),
        ("It cost about five million.", set()),
    ],
)
def test_asked_subject_is_what_follows_about(question: str, subject: set[str]) -> None:
    assert asked_subject(question) == subject


def test_subject_coverage_looks_for_the_subject_in_the_passages() -> None:
    assert subject_coverage("What did they agree about trade tariffs?", TEXTS) == 0.0
    assert subject_coverage("What about the visa networks?", TEXTS) == 1.0
    assert subject_coverage("What did they say about modernisation?", ["to modernise"]) == 1.0
    assert subject_coverage("What about China?", ["Chinese officials said"]) == 1.0


def test_a_second_look_answer_must_restate_the_question() -> None:
    raw = "Heavy rain flooded the city centre on Monday [1]."
    question = "Which country is printing warnings on cigarettes?"
    assert check_answer(raw, passages(), question).grounded
    result = check_answer(raw, passages(), question, second_look=True)
    assert result.refused_by == "second_look_coverage"


# --- the streaming pipeline ----------------------------------------------------------------------

DRAFTS = [
    "Pakistan and the US agreed to launch joint operations against fake visa networks [2]. "
    "Heavy rain closed three schools [1].",
    "Yes. They agreed to launch joint operations against fake visa networks.\n- rain [9]\n- "
    "the central bank raised its interest rate [3]",
    "The United States cut tariffs [2]. The articles I have don't say.",
    "The articles do not say.",
]


@pytest.mark.parametrize("raw", DRAFTS)
def test_streaming_releases_only_final_text_and_agrees_with_the_whole_draft(raw: str) -> None:
    whole = check_answer(raw, passages(), "What did they agree on?")
    checker = AnswerChecker(passages(), "What did they agree on?")
    shown = ""
    for char in raw:
        for release in checker.feed(char):
            shown += release.text
        assert whole.text.startswith(shown) or (not whole.grounded and not shown)
        if checker.refused_by:
            break
    for release in checker.close():
        shown += release.text
    result = checker.result()
    assert (result.text, result.cited, result.refused_by) == (
        whole.text,
        whole.cited,
        whole.refused_by,
    )
    assert shown == (result.text if result.grounded else "")


def test_sentences_wait_until_the_answer_cites_a_passage() -> None:
    checker = AnswerChecker(passages(), "What happened?")
    assert checker.feed("Yes. It rained. ") == [], "uncited: the answer may still be refused"
    released = checker.feed("Heavy rain closed three schools [1]. More")
    assert (
        "".join(r.text for r in released) == "Yes. It rained. Heavy rain closed three schools [1]."
    )
    assert [r.new_citations for r in released] == [[], [], [0]]


# --- claims ------------------------------------------------------------------------------------

TALKS = (
    "Talks are due to resume on Thursday with a mediator from the labour board. The union "
    "warned that a longer strike could follow in April if no deal is reached."
)


def test_a_claim_assembled_from_different_sentences_is_dropped() -> None:
    """The passage's words, not its claim: the union warned of a strike, not the mediator."""
    question = "What happens next in the dispute?"
    wrong = "The mediator from the labour board warned of a longer strike in April [1]."
    assert checked(wrong, question, [TALKS]) == REFUSAL
    right = "The union warned that a longer strike could follow in April [1]."
    assert checked(right, question, [TALKS]) == right
    # The check can be turned off (NEWSBOT_TUNING='{"claim_window": 0}').
    off = GroundingPolicy(claim_window=0.0)
    assert checked(wrong, question, [TALKS], policy=off) == wrong


MILL = (
    "Kestrel Aluminum staff at the Dunmore smelter will get a pay rise of four percent. The "
    "company also plans to hire 200 people next year. Its shares rose by a tenth on the news. "
    "Elsewhere, workers at a truck plant in Tennessee voted to join the United Auto Workers union."
)


def test_an_answer_named_in_another_story_is_dropped() -> None:
    """The passage names Kestrel Aluminum, and a union vote three sentences on, at another plant:
    the draft restates the question of the one it names."""
    question = "Staff at which car plant voted to join the United Auto Workers union?"
    wrong = "Staff at Kestrel Aluminum voted to join the United Auto Workers union [1]."
    assert checked(wrong, question, [MILL]) == REFUSAL
    right = "Workers at a truck plant in Tennessee voted to join the United Auto Workers union [1]."
    assert checked(right, question, [MILL]) == right
    # NEWSBOT_TUNING='{"restated_near": 0}' turns the check off.
    off = GroundingPolicy(restated_near=0.0)
    assert checked(wrong, question, [MILL], policy=off) == wrong


def test_a_restated_question_may_stand_in_the_title_and_its_time_words_are_no_evidence() -> None:
    """The title frames every sentence of its article; "this week" is judged by the dates."""
    question = "Which country elected its first leftist leader this week?"
    text = (
        "Gustavo Petro will be the first leftist leader of his country. Turnout was 58 percent. "
        "Markets fell on Monday. Colombia now faces a long transition."
    )
    draft = "Colombia elected its first leftist leader this week [1]."
    title = "Colombia elects a leftist president"
    assert check_answer(draft, [plain_passage("c:0", "c", text, title=title)], question).text == (
        draft
    )
    assert check_answer(draft, passages([text]), question).text == REFUSAL


HARBOUR = [
    "The two ministries settled on three parts of the harbour deal. The first is dredging of the "
    "east channel. The second is a new ferry timetable for the islands. The third is shared "
    "customs checks at the quay. A protest by fishermen is planned for Friday."
]


SUMMARY = (
    "The deal has three parts: dredging of the east channel, a new ferry timetable for the "
    "islands, and shared customs checks at the quay [1]."
)


def test_a_list_that_sums_up_several_sentences_stands_when_each_part_does() -> None:
    """No one sentence holds a summary list; each of its parts must stand in one of them."""
    assert checked(SUMMARY, "What was agreed?", HARBOUR) == SUMMARY


def test_a_list_with_a_part_no_sentence_holds_is_dropped() -> None:
    invented = (
        "The deal has three parts: dredging of the east channel, a new ferry timetable for the "
        "islands, and a new bridge to the mainland [1]."
    )
    assert checked(invented, "What was agreed?", HARBOUR) == REFUSAL
