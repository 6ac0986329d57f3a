"""The JSON API: `POST /api/ask`, `POST /api/ask/stream` (server-sent events), `GET /api/health`.

`/api/ask` returns `AnswerResult.to_dict()` and the answer's `answer_id` (for `POST /api/feedback`,
`bot.web.feedback_api`). `/api/ask/stream` first sends `event: searched` with
`{"passages", "articles", "question"}` once the passages are found (before the model reads them,
which takes seconds: a progress note, not answer text), then `event: delta` messages with
`{"text": ...}` as the answer passes the check (final text, never taken back; the deltas joined
are the answer), `event: source` with each source as it is first cited, then one `event: result`
with the same object as `/api/ask`, its `answer_id` included (or `event: error` with
`{"detail": ...}`).

Who may call them is decided for the whole app (`bot.web.auth`). A full queue answers 429 with
`Retry-After` (`bot.web.limits`); a client that disconnects gives up its place and its answer is
stopped, model call included (`bot.web.stopping`); a history turn over MAX_TURN_CHARS is a 422
(the assistant reads a follow-up with the recent turns only). `since`, `until` and `sources`
narrow the search (`bot.answer.question.make_filter`); a date range that cannot be used is a 422.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.routing import Route

from bot.answer.events import AnswerDone, AnswerEvent, Searched, SourceCited, TextDelta
from bot.answer.links import LinkFilter, plain_links
from bot.answer.question import MAX_QUESTION_CHARS, MAX_SOURCES, Question, make_filter
from bot.answer.result import AnswerResult
from bot.web.answer_log import AnswerRecorder, Door, new_answer_id
from bot.web.chat import ChatAssistant, is_blank, reader_error
from bot.web.limits import AnswerGate, Busy, Stopped
from bot.web.stopping import answer_in_worker, request_stop
from newsbot.errors import InputError, NewsbotError

log = logging.getLogger(__name__)

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
        if is_blank(value):
            raise ValueError('question is empty: send {"question": "What happened ...?"}')
        return value

    @model_validator(mode="after")
    def _usable_filter(self) -> AskRequest:
        try:
            self.asked()
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return self

    def asked(self) -> Question:
        """The question the request asks.

        Raises:
            InputError: `since` is after `until`, or a source is too long.
        """
        return Question(
            self.question,
            [{"role": turn.role, "content": turn.content} for turn in self.history],
            self.as_of,
            make_filter(self.since, self.until, self.sources),
        )


def _http_error(exc: NewsbotError) -> HTTPException:
    code = 400 if isinstance(exc, InputError) else 503
    return HTTPException(status_code=code, detail=reader_error(exc))


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


def result_json(result: AnswerResult, answer_id: str | None = None) -> dict[str, Any]:
    """What the API returns for an answer: `to_dict()`, the answer's links and URLs made plain
    text (`plain_links`: the only links are its sources' urls), and its `answer_id`."""
    values = result.to_dict()
    values["answer"] = plain_links(values["answer"])
    if answer_id is not None:
        values["answer_id"] = answer_id
    return values


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _busy(exc: Busy) -> HTTPException:
    return HTTPException(
        status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
    )


GONE = HTTPException(status_code=503, detail="The question was dropped: its client went away.")
"""What a stopped question answers (nobody reads it: the client has gone)."""


def build_api_router(
    assistant: ChatAssistant,
    gate: AnswerGate | None = None,
    recorder: AnswerRecorder | None = None,
) -> APIRouter:
    """The `/api` routes, answering with `assistant`, one question per `gate` slot; each answer
    counted and logged by `recorder` (`bot.web.answer_log`).

    Each answer runs on a worker thread (`bot.web.stopping.answer_in_worker`); a client that
    disconnects gives up its place in the queue and stops its model call.
    """
    router = APIRouter(prefix="/api", tags=["api"])
    slots = gate or AnswerGate()
    watch = recorder or AnswerRecorder()

    def answer(
        body: AskRequest, request: Request, answer_id: str, door: Door
    ) -> AsyncGenerator[AnswerEvent, None]:
        asked = body.asked()
        return answer_in_worker(
            slots,
            lambda: watch.watch(assistant.stream(asked), answer_id, door),
            request_stop(request),
        )

    @router.head("/health", include_in_schema=False)  # health checks may ask with HEAD
    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.post("/ask")
    async def ask(body: AskRequest, request: Request) -> dict[str, Any]:
        answer_id = new_answer_id()
        try:
            async with aclosing(answer(body, request, answer_id, "api")) as events:
                async for event in events:
                    if isinstance(event, AnswerDone):
                        return result_json(event.result, answer_id)
        except Busy as exc:
            raise _busy(exc) from exc
        except Stopped as exc:
            raise GONE from exc
        except NewsbotError as exc:
            log.warning("api ask failed: %s", exc)
            raise _http_error(exc) from exc
        raise GONE  # the stream ended without a result: it was stopped

    @router.post("/ask/stream")
    async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
        answer_id = new_answer_id()
        events = answer(body, request, answer_id, "stream")
        first: AnswerEvent | NewsbotError | None = None
        try:
            # A full queue is a 429 before the stream starts: wait here for the first event.
            first = await anext(events)
        except StopAsyncIteration:
            first = None
        except Busy as exc:
            raise _busy(exc) from exc
        except Stopped as exc:
            raise GONE from exc
        except NewsbotError as exc:
            first = exc

        async def sse() -> AsyncIterator[str]:
            links = LinkFilter()  # deltas are released once no link can be open across them
            async with aclosing(events):
                try:
                    if isinstance(first, NewsbotError):
                        raise first
                    if first is not None:
                        for line in _sse_lines(first, links, answer_id):
                            yield line
                    async for event in events:
                        for line in _sse_lines(event, links, answer_id):
                            yield line
                except NewsbotError as exc:
                    log.warning("api stream failed: %s", exc)
                    yield _sse("error", {"detail": reader_error(exc)})

        return StreamingResponse(
            sse(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def _sse_lines(event: AnswerEvent, links: LinkFilter, answer_id: str) -> list[str]:
    """The server-sent events for one answer event (deltas with their links made plain)."""
    if isinstance(event, AnswerDone):
        rest = links.flush()
        return [
            *([_sse("delta", {"text": rest})] if rest else []),
            _sse("result", result_json(event.result, answer_id)),
        ]
    if isinstance(event, Searched):
        return [_sse("searched", asdict(event))]
    if isinstance(event, SourceCited):
        return [_sse("source", asdict(event.source))]
    if isinstance(event, TextDelta):
        text = links.feed(event.text)
        return [_sse("delta", {"text": text})] if text else []
    return []


API_FALLBACK = "/api/{rest:path}"
"""Registered last of the /api routes, for every method (`api_fallback`)."""
EVERY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def with_head(methods: set[str]) -> set[str]:
    """`methods`, with HEAD wherever GET: health checks and link checkers ask with it."""
    return methods | {"HEAD"} if "GET" in methods else methods


def api_fallback(request: Request) -> JSONResponse:
    """A request to /api that no route takes: 405 with the methods its path does take (`GET
    /api/ask`: POST), else 404, both in JSON. Without it such a request falls through to the
    chat page mounted at "/", which answers every method with its HTML 404."""
    path = request.scope["path"]
    # The API's routes are in its OpenAPI schema (included routers are not plain routes to
    # list); the hidden ones (the docs page) are the app's own routes.
    allowed = {method.upper() for method in request.app.openapi()["paths"].get(path, {})}
    for route in request.app.routes:
        if isinstance(route, Route) and route.path == path and route.path != API_FALLBACK:
            allowed |= route.methods or set()
    if allowed:
        methods = ", ".join(sorted(with_head(allowed)))
        return JSONResponse(
            {"detail": f"Method Not Allowed: use {methods}"}, 405, headers={"Allow": methods}
        )
    return JSONResponse({"detail": "Not Found"}, 404)
