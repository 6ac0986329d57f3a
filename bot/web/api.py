"""The JSON API: `POST /api/ask`, `POST /api/ask/stream` (server-sent events), `GET /api/health`.

`/api/ask` returns `AnswerResult.to_dict()`. `/api/ask/stream` first sends `event: searched` with
`{"passages", "articles", "question"}` once the passages are found (before the model reads them,
which takes seconds: a progress note, not answer text), then `event: delta` messages with
`{"text": ...}` as the answer passes the check (final text, never taken back; the deltas joined
are the answer), `event: source` with each source as it is first cited, then one `event: result`
with the same object as `/api/ask` (or `event: error` with `{"detail": ...}`).

Who may call them is decided for the whole app (`bot.web.auth`). A full queue answers 429 with
`Retry-After` (`bot.web.limits`); a history turn over MAX_TURN_CHARS is a 422, and the history
sent to the model is trimmed to its recent turns. `since`, `until` and `sources` narrow the
search (`bot.answer.filters`); a date range that cannot be used is a 422.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.answer.events import AnswerDone, Searched, SourceCited, TextDelta
from bot.answer.filters import MAX_SOURCES, make_filter
from bot.answer.history import ChatTurn
from bot.answer.links import LinkFilter, plain_links
from bot.answer.result import AnswerResult
from bot.web.chat import ChatAssistant
from bot.web.filters import filter_kwargs
from bot.web.limits import AnswerGate, Busy
from newsbot.errors import InputError, NewsbotError
from vectorstore.records import SearchFilter

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 50
MAX_TURN_CHARS = 4000


class Turn(BaseModel):
    """One earlier message of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_TURN_CHARS)


class AskRequest(BaseModel):
    """The body of `/api/ask` and `/api/ask/stream`."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=MAX_QUESTION_CHARS, description="The question to answer.")
    history: list[Turn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier messages, oldest first, for follow-up questions.",
    )
    as_of: date | None = Field(
        default=None, description="ISO date the answer is given as of (default: today)."
    )
    since: date | None = Field(
        default=None, description="Only articles published on or after this ISO date."
    )
    until: date | None = Field(
        default=None,
        description="Only articles published on or before this ISO date (undated ones are left "
        "out when since or until is set).",
    )
    sources: list[str] = Field(
        default_factory=list,
        max_length=MAX_SOURCES,
        description="Only articles from these sources (case-insensitive); empty: all sources.",
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError('question is empty: send {"question": "What happened ...?"}')
        return value

    @model_validator(mode="after")
    def _usable_filter(self) -> AskRequest:
        try:
            self.filters()
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return self

    def turns(self) -> list[ChatTurn]:
        return [{"role": turn.role, "content": turn.content} for turn in self.history]

    def filters(self) -> SearchFilter | None:
        """The search filter the request asks for; None when it sets none.

        Raises:
            InputError: `since` is after `until`, or a source is too long.
        """
        found = make_filter(self.since, self.until, self.sources)
        return found or None


def _http_error(exc: NewsbotError) -> HTTPException:
    code = 400 if isinstance(exc, InputError) else 503
    return HTTPException(status_code=code, detail=str(exc))


def _json_safe(value: Any) -> Any:
    """`value` with what JSON cannot carry made text: unpaired surrogates escaped (`\\ud800`),
    NaN and infinities as their names."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_json_safe(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 for a request it cannot validate, with the echoed input made JSON-safe.

    FastAPI's own handler echoes each wrong value, and fails (a 500) on one JSON cannot encode:
    a lone surrogate (`"\\ud800"`, valid in a JSON string, not in UTF-8), NaN or Infinity.
    """
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse(status_code=422, content={"detail": _json_safe(jsonable_encoder(errors))})


def result_json(result: AnswerResult) -> dict[str, Any]:
    """What the API returns for an answer: `to_dict()`, the answer's links and URLs made plain
    text (`plain_links`: the only links are its sources' urls)."""
    values = result.to_dict()
    values["answer"] = plain_links(values["answer"])
    return values


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def answer_slot(gate: AnswerGate) -> Callable[[], Iterator[None]]:
    """A dependency that holds one of `gate`'s slots until the response is sent (streams too)."""

    def slot() -> Iterator[None]:
        try:
            started = gate.acquire()
        except Busy as exc:
            raise HTTPException(
                status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
            ) from exc
        try:
            yield
        finally:
            gate.release(started)

    return slot


def build_api_router(assistant: ChatAssistant, gate: AnswerGate | None = None) -> APIRouter:
    """The `/api` routes, answering with `assistant`, one question per `gate` slot."""
    router = APIRouter(prefix="/api", tags=["api"])
    one_slot = [Depends(answer_slot(gate or AnswerGate()))]

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # Plain `def` endpoints: FastAPI runs them in its thread pool, off the event loop.
    @router.post("/ask", dependencies=one_slot)
    def ask(body: AskRequest) -> dict[str, Any]:
        try:
            filters = filter_kwargs(body.filters())
            return result_json(assistant.ask(body.question, body.turns(), body.as_of, **filters))
        except NewsbotError as exc:
            log.warning("api ask failed: %s", exc)
            raise _http_error(exc) from exc

    @router.post("/ask/stream", dependencies=one_slot)
    def ask_stream(body: AskRequest) -> StreamingResponse:
        def events() -> Iterator[str]:
            links = LinkFilter()  # deltas are released once no link can be open across them
            try:
                filters = filter_kwargs(body.filters())
                for event in assistant.stream(body.question, body.turns(), body.as_of, **filters):
                    if isinstance(event, AnswerDone):
                        rest = links.flush()
                        if rest:
                            yield _sse("delta", {"text": rest})
                        yield _sse("result", result_json(event.result))
                    elif isinstance(event, Searched):
                        yield _sse("searched", asdict(event))
                    elif isinstance(event, SourceCited):
                        yield _sse("source", asdict(event.source))
                    elif isinstance(event, TextDelta):
                        text = links.feed(event.text)
                        if text:
                            yield _sse("delta", {"text": text})
            except NewsbotError as exc:
                log.warning("api stream failed: %s", exc)
                yield _sse("error", {"detail": str(exc)})

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router
