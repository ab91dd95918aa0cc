"""LEPTON_LOG_FORMAT: key=value lines by default, one JSON object per line with `json`."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from lepton import logs
from lepton.logs import JSONFormatter, logging_config, parse_pairs
from tests.processes import ROOT


def record(name, message, *args, level=logging.INFO, **extra):
    entry = logging.LogRecord(name, level, __file__, 1, message, args, None)
    entry.__dict__.update(extra)
    return entry


def formatted(entry):
    line = JSONFormatter().format(entry)
    assert "\n" not in line
    return json.loads(line)


def test_it_reads_key_value_pairs_out_of_a_message():
    assert parse_pairs("event=subtask_retry job=12 subtask=3 attempt=2 delay=0.25 error='boom: x=1'") == {
        "event": "subtask_retry", "job_id": 12, "subtask_id": 3, "attempt": 2, "delay": 0.25, "error": "boom: x=1",
    }


def test_it_leaves_words_without_a_value_alone():
    assert parse_pairs("worker w1@host shut down") == {}


def test_a_pipeline_line_carries_job_subtask_attempt_and_worker(monkeypatch):
    monkeypatch.setattr(logs, "worker_hostname", "work@host-a")
    entry = formatted(record("jobs.execution", "event=subtask_failed job=%s subtask=%s error=%r", 7, 2, "bad"))
    assert entry["job_id"] == 7 and entry["subtask_id"] == 2
    assert entry["attempt"] is None
    assert entry["worker"] == "work@host-a"
    assert entry["event"] == "subtask_failed" and entry["error"] == "bad"
    assert entry["level"] == "INFO" and entry["logger"] == "jobs.execution"
    assert entry["message"] == "event=subtask_failed job=7 subtask=2 error='bad'"


def test_a_line_outside_the_pipeline_has_only_its_own_fields():
    entry = formatted(record("django.request", "Not Found: /x"))
    assert set(entry) == {"time", "level", "logger", "message"}


def test_extra_fields_and_exceptions_are_kept():
    try:
        raise ValueError("boom")
    except ValueError:
        entry = record("jobs.finalize", "event=combine_failed job=%s", 3, level=logging.ERROR, queue="cpu")
        entry.exc_info = sys.exc_info()
    entry = formatted(entry)
    assert entry["queue"] == "cpu"
    assert "ValueError: boom" in entry["exception"]


def test_key_value_stays_the_default():
    config = logging_config("keyvalue", "INFO")
    assert config["formatters"]["lepton"] == {"format": logs.KEYVALUE_FORMAT}


def test_an_unknown_format_is_refused_with_the_variable_name():
    with pytest.raises(ImproperlyConfigured, match="LEPTON_LOG_FORMAT='xml'"):
        logging_config("xml", "INFO")


def test_a_process_with_json_logs_writes_one_json_object_per_line():
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('jobs.reconcile').warning('event=reconciled action=%s count=%d', 'requeue', 3)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lepton.settings", "LEPTON_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["event"], entry["action"], entry["count"], entry["level"]) == ("reconciled", "requeue", 3, "WARNING")
    assert {"job_id", "subtask_id", "attempt", "worker"} <= set(entry)
