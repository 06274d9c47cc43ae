"""Structured logs with the standard library's `logging`: one formatter per
`GATEWAY_LOG_FORMAT` (`json`, one object a line, or `text`), the request id on every record
logged while a request is served, and the stack of an error in the log only.

Fields beyond the message travel in `extra={"fields": {...}}`: the formatters write exactly
those, so no attribute of a record (and nothing a library attached) reaches a line unasked.
Nothing here logs headers or bodies; the access line (`gateway.observability.middleware`)
names the principal by id, never by credential.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from gateway.core.settings import LogFormat, Settings
from gateway.http.middleware.request_id import current_request_id

ACCESS_LOGGER: Final = "gateway.access"
_HANDLER_NAME: Final = "switchyard"


_second: tuple[int, str] = (-1, "")


def _timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 in UTC to the millisecond; the part up to the second is made once a second."""
    global _second
    whole = int(record.created)
    if _second[0] != whole:
        _second = (whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{int(record.created * 1000) % 1000:03d}Z"


def _request_id(record: logging.LogRecord) -> str:
    value = getattr(record, "request_id", None)
    return value if isinstance(value, str) else current_request_id()


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, the record's fields
    and, for an error, its stack."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id != "-":
            line["request_id"] = request_id
        line.update(_fields(record))
        if record.exc_info:
            line["stack"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """A line for people: time, level, logger, request id, message, then `key=value`s."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        line = (
            f"{_timestamp(record)} {record.levelname:<7} {record.name}"
            f" [{_request_id(record)}] {record.getMessage()}"
        )
        if fields:
            line = f"{line} {fields}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class BatchedStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Records to stderr, written out in batches: `sys.stderr` is line-buffered, so every
    access line would cost a system call (measured with wrk: a sixth of a small request's
    time). Here lines wait in a block buffer until `DELAY` seconds after the first of them,
    on the event loop that wrote it; a warning or worse, a record from outside a loop and the
    process's exit write everything at once."""

    DELAY: Final = 0.2

    def __init__(self) -> None:
        stream = open(  # noqa: SIM115  # stderr's descriptor, kept open for the process
            sys.stderr.fileno(), "w", buffering=1 << 16, encoding="utf-8", closefd=False
        )
        super().__init__(stream)
        self._due = False
        atexit.register(self.write_out)

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        if record.levelno >= logging.WARNING:
            self.write_out()

    def flush(self) -> None:
        """After each record (`StreamHandler.emit`): write out soon, not now."""
        if self._due:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.write_out()
            return
        self._due = True
        loop.call_later(self.DELAY, self.write_out)

    def write_out(self) -> None:
        self._due = False
        super().flush()


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format is LogFormat.json else TextFormatter()


def _rank(level: str) -> int:
    return logging.getLevelNamesMapping()[level]


def dict_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for `gateway serve` (uvicorn applies it in every worker):
    the gateway's, uvicorn's and everything else's records through one handler on stderr, in
    the configured format. uvicorn's own access log is replaced by the gateway's line."""
    name = "json" if settings.logs_as is LogFormat.json else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": f"{__name__}.JsonFormatter"},
            "text": {"()": f"{__name__}.TextFormatter"},
        },
        "handlers": {
            _HANDLER_NAME: {
                "()": f"{__name__}.BatchedStderr",
                "formatter": name,
            }
        },
        # DEBUG is for the gateway's own loggers: other libraries' debug output (Tortoise logs
        # every statement with its values) would put digests and personal data in the log.
        "root": {"handlers": [_HANDLER_NAME], "level": max(settings.log_level, "INFO", key=_rank)},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "gateway": {"level": settings.log_level},
        },
    }


def _lighter_records() -> None:
    """Records without the thread, process and multiprocessing names no line shows: looked up
    for every record otherwise, a good part of an access line's cost."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def install(settings: Settings) -> None:
    """Make the app's records come out in the configured format wherever it is served: when
    nothing configured logging yet (`uvicorn gateway.http.app:create_app --factory`, a test), one
    stderr handler on the root logger; `gateway serve` has configured it already
    (`dict_config`), and so may a host application."""
    logging.getLogger("gateway").setLevel(settings.log_level)
    _lighter_records()
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == _HANDLER_NAME]
    if root.handlers and not ours:
        return  # someone else's configuration: leave it alone
    handler = ours[0] if ours else BatchedStderr()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(settings.logs_as))
    if not ours:
        root.addHandler(handler)
