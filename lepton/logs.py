"""Log lines for humans (key=value, the default) or for machines (one JSON object a line).

Engine code logs `event=... job=%s subtask=%s` messages. Rather than change every call,
the JSON formatter reads those key=value pairs back out of the message and makes them
fields, renaming `job` to `job_id` and `subtask` to `subtask_id`, and adds the Celery
worker's node name. Every line of the pipeline (loggers under `jobs.`) carries
`job_id`, `subtask_id`, `attempt` and `worker`, null where the line does not know them,
so a log store can filter on them without guessing which lines have them.
"""

import ast
import json
import logging
import re
from datetime import datetime, timezone

from django.core.exceptions import ImproperlyConfigured

FORMATS = ("keyvalue", "json")
KEYVALUE_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"

#: key=value, key='quoted %r value', key="quoted value"; a key is a word.
_PAIR = re.compile(r"""(?<![\w=])(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s]+)""")
RENAMED = {"job": "job_id", "subtask": "subtask_id"}
PIPELINE_FIELDS = ("job_id", "subtask_id", "attempt", "worker")
PIPELINE_LOGGERS = ("jobs.", "celery.app.trace")
#: Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

#: This process's Celery node name, once it is a worker (set by lepton.celery).
worker_hostname = None


def parse_pairs(message):
    """The key=value pairs of a message as a dict: quoted values unquoted, numbers as numbers."""
    return {RENAMED.get(key, key): _value(raw) for key, raw in _PAIR.findall(message)}


def _value(raw):
    if raw[:1] in "'\"":
        try:
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return raw
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _current_worker():
    from celery import current_task

    request = getattr(current_task, "request", None)
    return getattr(request, "hostname", None) or worker_hostname


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and its fields."""

    def format(self, record):
        message = record.getMessage()
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if record.name.startswith(PIPELINE_LOGGERS):
            entry.update(dict.fromkeys(PIPELINE_FIELDS))
            entry["worker"] = _current_worker()
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        entry.update(parse_pairs(message))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def logging_config(log_format, level):
    """Django's LOGGING for LEPTON_LOG_FORMAT and LEPTON_LOG_LEVEL."""
    if log_format not in FORMATS:
        raise ImproperlyConfigured(f"LEPTON_LOG_FORMAT={log_format!r}: expected one of {', '.join(FORMATS)}")
    formatter = {"()": JSONFormatter} if log_format == "json" else {"format": KEYVALUE_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"lepton": formatter},
        # Idle housekeeping ticks log nothing above DEBUG (jobs.logfilters).
        "filters": {"quiet_housekeeping": {"()": "jobs.logfilters.QuietHousekeeping"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "lepton", "filters": ["quiet_housekeeping"]}
        },
        "root": {"handlers": ["console"], "level": level},
        # django-axes reports every login check at INFO; its warnings are what matter.
        "loggers": {"axes": {"level": "WARNING"}},
    }
