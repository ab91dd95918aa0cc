"""`manage.py submit --wait`: a neutral progress bar on a terminal, plain lines in a pipe.

Real processes: the command runs in a subprocess (on a pseudo-terminal, or piped) against
the session's workers, as a user would run it.
"""

import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model

from tests.processes import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

#: Django's ERROR style (bold red) starts with this escape sequence.
RED = "\x1b[31"
SUBMIT = [sys.executable, "manage.py", "submit", "diagnostic", "--param", "subtasks=4", "--param", "sleep_ms=300",
          "--user", "cli", "--wait"]


@pytest.fixture
def cli_user():
    return get_user_model().objects.create_user("cli")


def run_on_terminal(command, env, timeout=120):
    """(exit code, everything written to the terminal) for command run on a pseudo-terminal."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            output += chunk
        process.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return process.returncode, output.decode(errors="replace")


def test_it_draws_a_neutral_progress_bar_on_a_terminal(platform, cli_user):
    code, output = run_on_terminal(SUBMIT, platform.env)

    assert code == 0, output
    assert "job " in output and " submitted" in output
    assert "\r[" in output and "4/4 done=4" in output
    assert RED not in output, repr(output)
    assert '"index_sum": 6' in output


def test_it_writes_plain_progress_lines_when_piped(platform, cli_user):
    # Bytes, not text: text mode would turn the `\r` of a bar frame into a newline.
    done = subprocess.run(SUBMIT, cwd=ROOT, env=platform.env, capture_output=True, timeout=120)
    stderr = done.stderr.decode()

    assert done.returncode == 0, stderr
    lines = stderr.split("\n")
    assert "\r" not in stderr and "\x1b" not in stderr, repr(stderr)
    assert lines[0].startswith("job ") and lines[0].endswith(" submitted")
    assert lines[-2].endswith("succeeded: 4/4 done=4 failed=0 running=0"), repr(stderr)
    assert '"index_sum": 6' in done.stdout.decode()
