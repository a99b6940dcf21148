"""Secrets never reach a log line: job tokens and API keys in URLs are redacted in every log record.

A job token may travel as `?token=` (the apps' WebSocket URL, some job routes) and Google's API key as
`?key=` in an upstream URL (which `requests` repeats in its exception messages). The access log
(uvicorn's `uvicorn.access`, and its WebSocket lines), Django's and Celery's loggers and any traceback
would write them out. `install()` wraps the process's log record factory, so every record from every
logger is redacted when it is created, whatever handler or formatter later writes it: its message, its
arguments and the text of an attached exception. Only text that holds `=` is searched, so the access
log pays one substring test per argument.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

REDACTED = "[REDACTED]"
# Query parameters (and form fields written into a message) whose value is a secret.
SECRET_PARAMETERS = ("token", "key", "api_key", "apikey", "access_token", "oldToken", "password", "secret")
_SECRET_QUERY = re.compile(r"(?i)(?<![A-Za-z0-9_])(" + "|".join(SECRET_PARAMETERS) + r")=([^&\s#\"'<>]+)")
_HEADER_SECRETS = re.compile(
    r"(?i)((?:authorization|x-goog-api-key|x-api-key)[\"']?\s*[:=]\s*)([\"']?)(?:(?:bearer|token|basic)\s+)?[^\s\"',}]+"
)


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter (and auth header) replaced."""
    if "=" not in text and ":" not in text:
        return text
    text = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _HEADER_SECRETS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def _redact_arg(value: Any) -> Any:
    if type(value) is str and "=" in value:
        return redact(value)
    if isinstance(value, bytes | bytearray) and b"=" in value:
        return redact(bytes(value).decode("utf-8", "replace"))
    return value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if type(record.msg) is str and "=" in record.msg:
        record.msg = redact(record.msg)
    args = record.args
    if isinstance(args, tuple) and args:
        record.args = tuple(_redact_arg(value) for value in args)
    elif isinstance(args, dict) and args:
        record.args = {key: _redact_arg(value) for key, value in args.items()}
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # Rendered once here, redacted; formatters use `exc_text` when it is set.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    return record


_installed = False


def install() -> None:
    """Wrap the log record factory (idempotent: once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for a handler configured outside this process's factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True
