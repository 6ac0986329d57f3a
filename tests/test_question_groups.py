"""The editors' digest: 20 paraphrased questions about 4 stories fall into 4 groups with the real
embedder, whatever order they were asked in; refusals first, wrong answers with their comments,
a CSV a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
import random
import time
from pathlib import Path

import pytest

from bot.web.answer_log import LoggedAnswer
from bot.web.question_groups import group_questions, question_report, report_csv
from tests.test_postgres import database
from vectorstore.database import Database

__all__ = ["database"]

STORIES = {
    "kettle": [
        "How many smart kettles did Brightwell recall?",
        "Why were Brightwell kettles recalled?",
        "What is wrong with the Brightwell smart kettle?",
        "Brightwell kettle recall: how many units?",
        "Which kettles is Brightwell taking back, and why?",
    ],
    "visa": [
        "What did Pakistan and the US agree on?",
        "What agreement did Pakistan sign with the United States?",
        "Pakistan US deal on visa fraud: what was decided?",
        "What did American and Pakistani officials agree about visas?",
        "Details of the Pakistan-US accord on visa fraud?",
    ],
    "climate": [
        "What did the climate panel warn coastal towns about?",
        "Which risks for seaside towns did the climate panel point out?",
        "Climate panel warning to coastal communities: what is it?",
        "Why are coastal towns being warned by the climate panel?",
        "What did the climate report say about sea level rise on the coast?",
    ],
    "pier": [
        "What did the harbour council approve?",
        "How much will the harbour's new piers cost?",
        "Harbour council pier budget: what was decided?",
        "When does work on the new harbour piers start?",
        "Did the harbour council vote to fund the pier project?",
    ],
}
STORY_OF = {question: story for story, questions in STORIES.items() for question in questions}


def logged(question: str, at: float, refused: bool = False, **votes: str) -> LoggedAnswer:
    return LoggedAnswer(
        answer_id=f"id{at}",
        asked_at=at,
        door="chat",
        question=question,
        answer="The articles I have don't say." if refused else "An answer [1].",
        grounded=not refused,
        refused_by="refusal" if refused else None,
        **votes,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_twenty_paraphrases_of_four_stories_make_four_groups(embedder: object, seed: int) -> None:
    questions = list(STORY_OF)
    random.Random(seed).shuffle(questions)
    answers = [logged(question, at) for at, question in enumerate(questions)]

    groups = group_questions(answers, embedder)  # type: ignore[arg-type]

    assert len(groups) == 4
    stories = [{STORY_OF[answer.question] for answer in group.answers} for group in groups]
    assert sorted(len(story) for story in stories) == [1, 1, 1, 1], stories
    assert sorted(group.count for group in groups) == [5, 5, 5, 5]


def test_the_report_puts_gaps_first_and_lists_wrong_answers(embedder: object) -> None:
    answers = [logged(q, i) for i, q in enumerate(STORIES["kettle"] * 2)]  # the most asked
    gap = [STORIES["pier"][0], STORIES["pier"][2]]  # two wordings of one question, refused
    answers += [logged(q, 20 + i, refused=True) for i, q in enumerate(gap)]
    answers.append(logged(STORIES["visa"][0], 30, vote="down", comment="=HYPERLINK(evil)"))

    report = question_report(answers, embedder, days=7)  # type: ignore[arg-type]

    assert [group.count for group in report.groups] == [2, 10, 1]  # the gap first
    assert report.groups[0].refused == 2
    assert report.groups[1].question in STORIES["kettle"]
    assert [answer.comment for answer in report.wrong] == ["=HYPERLINK(evil)"]
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert len(rows) == 13
    assert rows[0]["outcome"] == "refused"
    assert {row["group"] for row in rows} == {"1", "2", "3"}
    [voted] = [row for row in rows if row["vote"]]
    assert voted["comment"] == "'=HYPERLINK(evil)"  # never run as a spreadsheet formula


def test_newsbot_questions_prints_the_groups_and_writes_csv(
    clean_environ: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from newsbot.cli import cli
    from newsbot.question_log import DatabaseQuestionLog
    from vectorstore.database import open_database

    clean_environ.mkdir()
    off = CliRunner().invoke(cli, ["questions"])
    assert off.exit_code == 1
    assert off.output.startswith("Error: The question log is off")
    assert "Traceback" not in off.output

    database = open_database(clean_environ)  # the registry file `newsbot serve` logs into
    question_log = DatabaseQuestionLog(database)
    now = time.time()
    for i, question in enumerate(STORIES["kettle"] + STORIES["visa"][:2]):
        question_log.record(logged(question, now - 3600 - i))
    question_log.record(logged(STORIES["visa"][2], now - 60))
    question_log.record(logged(STORIES["pier"][0], now - 3 * 86_400, refused=True))
    assert question_log.add_feedback(f"id{now - 60}", "down", "Old news.") == "new"
    database.close()
    monkeypatch.setenv("NEWSBOT_LOG_QUESTIONS", "true")

    day = CliRunner().invoke(cli, ["questions"])
    assert day.exit_code == 0, day.output
    lines = day.output.splitlines()
    assert lines[0] == "8 questions in the last day, in 2 groups:"
    assert lines[1].split()[0] == "5"
    assert lines[2].split()[0] == "3"
    assert lines[2].endswith("(1 marked wrong)")
    assert "comment: Old news." in day.output

    week = CliRunner().invoke(cli, ["questions", "--since", "week"])
    assert week.output.splitlines()[1].endswith("(1 refused)")  # the gap first
    target = tmp_path / "questions.csv"
    assert CliRunner().invoke(cli, ["questions", "--csv", str(target)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 8


def test_newsbot_questions_prints_no_reader_text_raw(
    clean_environ: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question or comment is anyone's input: an escape sequence in it (OSC 52 writes the
    editor's clipboard, CSI recolours or clears) or a bidi override is shown escaped."""
    from click.testing import CliRunner

    from newsbot.cli import cli
    from newsbot.question_log import DatabaseQuestionLog
    from vectorstore.database import open_database

    clean_environ.mkdir()
    database = open_database(clean_environ)
    question_log = DatabaseQuestionLog(database)
    now = time.time()
    question_log.record(logged("Who met?\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J", now - 60))
    question_log.add_feedback(f"id{now - 60}", "down", "fine \u202eenod")
    database.close()
    monkeypatch.setenv("NEWSBOT_LOG_QUESTIONS", "true")

    shown = CliRunner().invoke(cli, ["questions"])

    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.output
    assert "\u202e" not in shown.output
    assert "Who met?\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J" in shown.output
    assert "comment: fine \\u202eenod" in shown.output


def test_no_cell_of_the_csv_starts_a_formula() -> None:
    """A space before `=`, a line break, or a full-width equals sign (U+FF1D) started a
    formula in some spreadsheet while `'` guarded only the ASCII first character."""
    from bot.web.question_groups import QuestionGroup, QuestionReport

    comments = ["  =cmd|' /C calc'!A0", "\n=1+1", '\uff1dHYPERLINK("x")', "@SUM(A1)", "fine"]
    answers = [
        logged(f"Question {n}?", n, vote="down", comment=text) for n, text in enumerate(comments)
    ]
    report = QuestionReport(7, [QuestionGroup(answers)], answers)

    rows = list(csv.DictReader(io.StringIO(report_csv(report))))

    assert [row["comment"] for row in rows] == [
        "'" + text if text != "fine" else text for text in comments
    ]


def test_the_editors_view_shows_readers_text_as_text() -> None:
    from bot.web.library_questions import report_html
    from bot.web.question_groups import QuestionGroup, QuestionReport

    attack = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    answer = logged(attack, 1.0, vote="down", comment=attack)
    answer = LoggedAnswer(**{**answer.__dict__, "answer": attack})

    shown = report_html(QuestionReport(1, [QuestionGroup([answer])], [answer]))

    assert "<img" not in shown
    assert "<script" not in shown
    # The group's name and wording, the wrong answer's question, comment and text.
    assert shown.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") == 5
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in shown


def test_a_busy_period_reads_only_its_newest_questions_and_says_so(
    database: Database, embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole period was read into memory and grouped up to MAX_QUESTIONS, while the view
    and the CSV said "N questions in the last 7 days" as if that were all of them."""
    import bot.web.question_groups as question_groups
    from bot.web.library_questions import report_html
    from newsbot.question_log import DatabaseQuestionLog

    monkeypatch.setattr(question_groups, "MAX_QUESTIONS", 5)
    question_log = DatabaseQuestionLog(database)
    now = time.time()
    asked = STORIES["kettle"] + STORIES["visa"][:3]  # 8, the visa ones the newest
    for n, question in enumerate(asked):
        question_log.record(logged(question, now - 3600 + n))

    newest = question_log.answers_since(0, newest=3)
    assert [answer.question for answer in newest] == asked[-3:]  # oldest first
    report = question_groups.recent_report(question_log, embedder, 7)  # type: ignore[arg-type]

    assert report.more
    assert report.questions == 5
    assert {a.question for g in report.groups for a in g.answers} == set(asked[-5:])
    assert "(the newest 5: older ones are left out)" in report_html(report)
    assert question_groups.summary(report).startswith(
        "5 questions in the last 7 days (the newest 5"
    )
