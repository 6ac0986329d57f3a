"""Citation checking: valid markers only, renumbered by first citation, fallback attribution."""

from __future__ import annotations

import pytest

from bot.answer.grounding.citations import (
    COVERAGE_THRESHOLD,
    SUBJECT_THRESHOLD,
    SUPPORT_THRESHOLD,
    asked_subject,
    attribute_sentences,
    check_citations,
    enforce_support,
    is_refusal,
    marker_numbers,
    question_coverage,
    split_sentences,
    strip_markers,
    subject_coverage,
    support,
)

PASSAGES = [
    "Heavy rain flooded the city centre on Monday and closed three schools.",
    "Pakistan and the US agreed to launch joint operations against fake visa networks.",
    "The central bank raised its interest rate by half a point to curb inflation.",
]


@pytest.mark.parametrize(
    ("inside", "numbers"),
    [
        ("1", [1]),
        ("1, 2", [1, 2]),
        ("2,1", [2, 1]),
        ("1-3", [1, 2, 3]),
        ("1 and 3", [1, 3]),
        ("2, 2", [2]),
        ("3-1", []),
    ],
)
def test_marker_forms(inside: str, numbers: list[int]) -> None:
    assert marker_numbers(inside) == numbers


def test_renumbered_in_order_of_first_citation() -> None:
    checked = check_citations("Rates rose [3]. Rain fell [1]. Rates again [3].", 3)
    assert checked.text == "Rates rose [1]. Rain fell [2]. Rates again [1]."
    assert checked.cited == [2, 0]


def test_grouped_adjacent_and_range_forms() -> None:
    checked = check_citations("A [2, 1]. B [1][3]. C [1-2]. D [Passage 3].", 3)
    assert checked.text == "A [1][2]. B [2][3]. C [2][1]. D [3]."
    assert checked.cited == [1, 0, 2]


def test_unknown_numbers_are_removed() -> None:
    checked = check_citations("A [7]. B [2, 9]. C [0].", 3)
    assert checked.text == "A. B [1]. C."
    assert checked.cited == [1]


def test_keeping_given_numbers() -> None:
    checked = check_citations("A [3]. B [1, 5].", 3, renumber=False)
    assert checked.text == "A [3]. B [1]."


def test_duplicate_markers_collapse() -> None:
    assert check_citations("A [2][2]. B [Passage 2] [2].", 2).text == "A [1]. B [1]."


def test_unmarked_sentence_gets_the_best_supporting_passage() -> None:
    text = "Pakistan and the US agreed on joint operations against fake visa networks."
    assert attribute_sentences(text, PASSAGES) == (
        "Pakistan and the US agreed on joint operations against fake visa networks [2]."
    )


def test_unsupported_or_short_sentences_stay_unmarked() -> None:
    text = "The president visited Japan to discuss semiconductor exports. Yes."
    assert attribute_sentences(text, PASSAGES) == text


def test_marked_sentences_are_left_alone() -> None:
    text = "Heavy rain flooded the city centre [3]."
    assert attribute_sentences(text, PASSAGES) == text


def test_support_is_the_share_of_content_words_found() -> None:
    assert support("Heavy rain flooded schools", PASSAGES[0]) == 1.0
    assert support("Heavy snow buried trains", PASSAGES[0]) == pytest.approx(1 / 4)
    assert support("It was so.", PASSAGES[0]) == 0.0
    assert 0 < SUPPORT_THRESHOLD < 1


def test_sentences_keep_their_markers() -> None:
    assert split_sentences("One fact. [1] Two facts [2]. Three?") == [
        "One fact. [1]",
        "Two facts [2].",
        "Three?",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The articles I have don't say.",
        "The articles I have don\u2019t say what they agreed about tariffs.",
        "The passages do not mention trade tariffs.",
        "There is no information about tariffs in the articles.",
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "Pakistan and the US agreed on joint operations [1].",
        "Natalie Baker represented the US [1]. The articles don't say more.",
    ],
)
def test_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


def test_strip_markers() -> None:
    assert strip_markers("A [1]. B [2, 3] and C [Passage 4].") == "A. B and C."


def test_restating_the_question_is_not_support() -> None:
    question = "What did Pakistan and the US agree about trade tariffs?"
    invented = "Pakistan and the US agreed on trade tariffs."
    assert support(invented, PASSAGES[1]) == 0.5, "half its words are in the passage"
    assert support(invented, PASSAGES[1], question) == 0.0, "but none beyond the question's"
    assert attribute_sentences(invented, PASSAGES, question) == invented
    answer = "Pakistan and the US agreed to launch joint operations against fake visa networks."
    assert support(answer, PASSAGES[1], "What did Pakistan and the US agree on?") == 1.0


def test_markers_after_the_full_stop_move_before_it() -> None:
    checked = check_citations("Baker met Naqvi. [2] Rain fell. [1][2]", 2)
    assert checked.text == "Baker met Naqvi [1]. Rain fell [2][1]."


def test_cited_sentences_that_their_passage_does_not_support_are_dropped() -> None:
    question = "What did Pakistan and the US agree about trade tariffs?"
    echoed = "Pakistan and the US agreed to cut trade tariffs [2]."
    supported = "They agreed to launch joint operations against fake visa networks [2]."
    assert enforce_support(f"{supported} {echoed}", PASSAGES, question) == supported
    assert enforce_support(echoed, PASSAGES, question) == ""
    mostly_invented = "Rain closed the airport and cut trade tariffs [2]."
    assert enforce_support(mostly_invented, PASSAGES) == "", "passage 1 holds only 2 of 6 words"


def test_a_misnumbered_citation_moves_to_the_supporting_passage() -> None:
    misnumbered = "Heavy rain flooded the city centre and closed schools [3]."
    assert enforce_support(misnumbered, PASSAGES) == (
        "Heavy rain flooded the city centre and closed schools [1]."
    )


def test_unmarked_sentences_are_not_dropped() -> None:
    text = "Pakistan and the US agreed to cut trade tariffs."
    assert enforce_support(text, PASSAGES) == text


def test_question_coverage_counts_the_answer_and_the_passages() -> None:
    answer = "Natalie Baker represented the US [1]."
    assert question_coverage("Who represented the US?", answer, PASSAGES[1:2]) == 1.0
    follow_up = "What did they agree about trade tariffs?"
    unrelated = "They agreed to launch joint operations against fake visa networks [1]."
    assert question_coverage(follow_up, unrelated, PASSAGES[1:2]) == 1 / 3, "only 'agree'"
    assert question_coverage(follow_up, unrelated, PASSAGES[1:2]) < COVERAGE_THRESHOLD
    assert question_coverage("Who is it?", "", []) == 1.0, "no content words: nothing to miss"


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What did they agree about trade tariffs?", {"trad", "tariff"}),
        ("What about China?", {"china"}),
        ("And regarding the schools, what happened?", {"school"}),
        ("What about the drivers who walked out?", {"driver"}),
        ("What about that deal?", {"deal"}),
        ("What about the visa networks in Pakistan?", {"visa", "network"}),
        ("What about Dr. Varga?", {"varga"}),
        ("Who represented the US?", set()),
        ("What about them?", set()),
        ("What about the second one?", set()),
        ("What about the first deal?", {"deal"}),
        ("What did she say about him afterwards?", set()),
        ("How about in 2024?", set()),
        ("Tell me more about what happened next.", set()),
        ("About how many pages were seized?", set()),
        ("Which city is the conference about to open in?", set()),
        ("They spoke about 40 minutes.", set()),
        ("It cost about five million.", set()),
    ],
)
def test_asked_subject_is_what_follows_about(question: str, subject: set[str]) -> None:
    assert asked_subject(question) == subject


def test_subject_coverage_looks_for_the_subject_in_the_passages() -> None:
    tariffs = "What did they agree about trade tariffs?"
    assert subject_coverage(tariffs, PASSAGES) == 0.0 < SUBJECT_THRESHOLD
    assert subject_coverage("What about the visa networks?", PASSAGES) == 1.0
    assert subject_coverage("What did they say about modernisation?", ["to modernise"]) == 1.0
    assert subject_coverage("What about the bank's rates and China?", PASSAGES) == 2 / 3
    assert subject_coverage("What about China?", ["Chinese officials said"]) == 1.0
    assert subject_coverage("Who represented the US?", []) == 1.0, "no subject named"


def test_a_title_full_stop_ends_no_sentence() -> None:
    text = "The chair is Dr. Ilse Varga [1]. Mr. Naqvi met the U.S. envoy. It was No. 5. Jr. left."
    assert split_sentences(text) == [
        "The chair is Dr. Ilse Varga [1].",
        "Mr. Naqvi met the U.S. envoy.",
        "It was No. 5.",
        "Jr. left.",
    ]


def test_names_and_numbers_are_the_capitalised_words_and_numbers() -> None:
    from bot.answer.grounding.citations import names_and_numbers

    assert names_and_numbers("Dr. Ilse Varga\u2019s panel saw 40 cm by 2070 [1].") == {
        "dr",
        "ilse",
        "varga",
        "40",
        "2070",
    }
    assert names_and_numbers("They said owners should stop using the kettle [2].") == set()
    assert names_and_numbers("However, owners should stop [2].") == set()
    assert names_and_numbers("According to Brightwell, owners should stop.") == {"brightwell"}
    assert names_and_numbers("Canada will print them.") == {"canada"}


def test_a_sentence_with_a_name_or_number_the_passages_lack_is_dropped() -> None:
    from bot.answer.grounding.citations import drop_unsupported_names

    vocabulary = (
        "Canada will print a warning on every cigarette from 2023, its health minister said."
    )
    text = (
        "The United States will print a warning on every cigarette [1]. "
        "Canada will print it from 2023 [1]. Canada will print it from 2025 [1]."
    )
    assert drop_unsupported_names(text, vocabulary) == "Canada will print it from 2023 [1]."


def test_check_answer_drops_an_invented_affiliation_and_keeps_the_rest() -> None:
    from bot.answer.assistant import check_answer
    from tests.test_chain import PASSAGES

    raw = (
        "Natalie Baker met Interior Minister Mohsin Naqvi in Islamabad [3]. "
        "Baker, of the State Department's Lahore office, met Naqvi in Islamabad [3]."
    )
    answer, sources, grounded = check_answer(raw, PASSAGES, "Who did Natalie Baker meet?")
    assert answer == "Natalie Baker met Interior Minister Mohsin Naqvi in Islamabad [1]."
    assert grounded
    assert [s.article_id for s in sources] == ["art2"]
