"""End to end: the assistant carries the check's quotes on its sources to every door."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict
from pathlib import Path

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot.answer.assistant import Assistant
from bot.answer.events import AnswerDone, SourceCited
from bot.answer.question import Question
from bot.terminal import format_sources
from bot.web.render import result_sources_html
from prompts import load_prompts
from tests.fixtures_llm import assistant_options
from tests.test_quotes import FERRY, FERRY_CITED
from tests.test_web_api import make_store


def test_the_assistant_carries_the_checks_quotes_to_every_door(tmp_path: Path) -> None:
    article = tmp_path / "ferry.md"
    article.write_text(f"---\ntitle: Ferry\nsource: Bay Courier\n---\n{FERRY}\n", encoding="utf-8")
    answer = "The island ferry will add an early crossing at six in the morning from June [1]."
    llm = GenericFakeChatModel(messages=itertools.cycle([AIMessage(content=answer)]))
    assistant = Assistant(
        make_store(tmp_path / "data", [article]), llm, load_prompts(), **assistant_options(k=3)
    )
    events = list(assistant.stream(Question("When does the new ferry crossing leave?")))
    (cited,) = [e.source for e in events if isinstance(e, SourceCited)]
    (done,) = [e.result for e in events if isinstance(e, AnswerDone)]
    assert cited.quoted == [FERRY_CITED]  # the SSE `source` event
    assert done.sources[0].quoted == [FERRY_CITED]
    assert json.loads(json.dumps(done.to_dict()))["sources"][0]["quotes"] == [
        list(span) for span in done.sources[0].quotes
    ]
    assert asdict(cited)["quotes"] == done.sources[0].quotes
    assert f"<mark>{FERRY_CITED}</mark>" in result_sources_html(done)
    assert f"\u201c{FERRY_CITED}\u201d" in format_sources(done)
