"""`NEWSBOT_LOG_FORMAT=json`: `newsbot serve`'s logs as one JSON object a line, for collectors.

Every record has `time` (ISO 8601, UTC), `level`, `logger` and `message`. uvicorn's access lines
add `client`, `method`, `path`, `http_version` and `status`; the answer lines
(`bot.web.answer_log`, one per answer) add `answer_id`, `door`, `outcome`, `refused_by`,
`first_token_s` and `total_s`, never the question or the answer (those go to the question log,
only when it is on).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

ANSWER_FIELDS = ("answer_id", "door", "outcome", "refused_by", "first_token_s", "total_s")
_ACCESS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            line.update(zip(_ACCESS, args, strict=True))
        for name in ANSWER_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def use_json(config: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging configuration `config` writing JSON lines, with newsbot's own records
    (warnings, and the answer lines at INFO) through the same handler."""
    config["formatters"] = {name: {"()": JsonFormatter} for name in config["formatters"]}
    for name in ("bot.web.answer_log", "bot.web.server"):  # answers; the "serving on" line
        config["loggers"][name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
