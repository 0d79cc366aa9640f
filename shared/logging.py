"""Logs with the business day's correlation id on every line: JSON for machines, and
one readable line per event when a person watches the terminal."""

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        return True


class _ConsoleFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)-7s {service:<8} %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        day = getattr(record, "correlation_id", None)
        return f"{line} [{day}]" if day else line


def _json_formatter(service: str) -> logging.Formatter:
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s %(correlation_id)s",
        # ISO 8601 in UTC with its offset (asctime is local time without one).
        timestamp="ts",
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"service": service},
    )


def configure_logging(service: str, level: str = "INFO", log_format: str = "auto") -> None:
    """JSON lines, unless stderr is a terminal (`glbridge up` in a shell), where a JSON
    object per event is unreadable; `log_format` "json" or "console" decides instead."""
    handler = logging.StreamHandler(sys.stderr)
    console = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    handler.setFormatter(_ConsoleFormatter(service) if console else _json_formatter(service))
    handler.addFilter(_CorrelationFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Access logs would carry query strings (OAuth codes, state): keep them out.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
