"""`POST /api/feedback`: a reader's vote on an answer, by the `answer_id` the answer came with.

The body is `{"answer_id": "...", "vote": "up" | "down", "comment": "..."}` (comment optional, at
most `MAX_COMMENT_CHARS`). Answers:
- 200 `{"stored": true}`: the vote (and comment) is kept with the logged answer; a second vote
  on the same answer replaces the first, comment included (the last vote wins, so voting again
  adds nothing: `newsbot_feedback_total` counts an answer's vote once per value);
- 404: no such answer in the log (never given, or older than the log keeps);
- 403: this server keeps no question log (`NEWSBOT_LOG_QUESTIONS` is off), so it keeps no votes:
  nothing was stored;
- 422: a malformed body (a bad id, a vote other than up/down, a comment too long).

Who may call it is decided for the whole app (`bot.web.auth`), as for `/api/ask`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from bot.web.answer_log import (
    ANSWER_ID,
    MAX_COMMENT_CHARS,
    AnswerRecorder,
    FeedbackOff,
    Vote,
)
from bot.web.chat import reader_error
from newsbot.errors import NewsbotError

log = logging.getLogger(__name__)


class FeedbackRequest(BaseModel):
    """The body of `/api/feedback`."""

    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(
        pattern=f"^{ANSWER_ID.pattern}$",
        description="The `answer_id` of the answer (from `/api/ask` or the stream's result).",
    )
    vote: Vote = Field(description="`up` (helpful) or `down` (wrong or unhelpful).")
    comment: str | None = Field(
        default=None,
        max_length=MAX_COMMENT_CHARS,
        description=f"What was wrong or right, at most {MAX_COMMENT_CHARS} characters.",
    )


def build_feedback_router(recorder: AnswerRecorder) -> APIRouter:
    """The `/api/feedback` route, storing votes through `recorder`."""
    router = APIRouter(prefix="/api", tags=["api"])

    @router.post("/feedback")
    async def feedback(body: FeedbackRequest) -> dict[str, Any]:
        try:
            # The database may take a moment (a commit, PostgreSQL over the network).
            stored = await run_in_threadpool(
                recorder.feedback, body.answer_id, body.vote, body.comment
            )
        except FeedbackOff as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from exc
        except NewsbotError as exc:
            log.warning("feedback not stored: %s", exc)
            raise HTTPException(status_code=503, detail=reader_error(exc)) from exc
        if not stored:
            raise HTTPException(
                status_code=404,
                detail=f"No answer {body.answer_id} in the question log: it was never given, "
                "or is older than the log keeps (NEWSBOT_LOG_RETENTION_DAYS)",
            )
        return {"stored": True}

    return router
