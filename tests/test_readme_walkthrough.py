"""The README's "Using it" walkthrough, run as written against a fresh `make run`.

The README marks its walkthrough blocks with a fenced-code info string of
`sh walkthrough`. Each command in them runs in order in bash (variables it sets carry
over to the next, like one terminal session), and its output is compared with the
`# ...` lines under it: the JSON shown, where `...` stands for fields left out. A read
(curl without -d) is repeated until it shows what the README shows, as a user would
re-run it while the job finishes. The platform runs on its own ports (8120 web, 5620
Flower) and data folder, so the first job is job 1, as on a fresh install.
"""

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from tests.launcher import Launcher, wait_for
from tests.processes import ROOT

README = ROOT / "README.md"
BLOCK = re.compile(r"^```sh walkthrough\n(.*?)^```", re.MULTILINE | re.DOTALL)
README_ADDRESS, ADDRESS = "127.0.0.1:8000", "127.0.0.1:8120"
#: A key marking "this object has more fields than shown" (the README's `...`).
MORE = "\u2026"
#: Seconds a read is repeated before its output counts as different from the README's.
READ_PATIENCE = 120


@dataclass
class Step:
    command: str
    expected: str = ""

    @property
    def is_read(self):
        return self.command.lstrip().startswith("curl") and " -d " not in self.command


def walkthrough_steps(readme):
    """The walkthrough's commands in order, each with the output shown under it."""
    steps = []
    for block in BLOCK.findall(readme):
        current = None
        for line in block.splitlines():
            if not line.strip():
                current = None
            elif line.startswith("#"):
                current.expected += line[1:].strip() + "\n"
            elif current is not None and current.command.endswith("\\") and not current.expected:
                current.command += "\n" + line
            else:
                current = Step(line)
                steps.append(current)
    return steps


def shown(expected):
    """The JSON the README shows, with each `...` turned into a MORE key."""
    return json.loads(re.sub(r",\s*\.\.\.", f', "{MORE}": null', expected))


def agrees(actual, expected):
    """Whether actual has what expected shows: equal, but an object marked MORE may have more."""
    if isinstance(expected, dict):
        keys = set(expected) - {MORE}
        if not isinstance(actual, dict) or not keys <= set(actual) or (MORE not in expected and set(actual) != keys):
            return False
        return all(agrees(actual[key], expected[key]) for key in keys)
    return actual == expected


def output_agrees(output, expected):
    try:
        return agrees(json.loads(output), shown(expected))
    except ValueError:
        return False


def run_in_session(command, env, session_file):
    """Run command in bash with env; returns (exit code, stdout, stderr, env after it)."""
    script = f"set -a\n{command}\nstatus=$?\nenv -0 > {session_file}\nexit $status\n"
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    after = dict(item.split("=", 1) for item in session_file.read_text().split("\0") if "=" in item)
    return done.returncode, done.stdout, done.stderr, after


def web_answers():
    try:
        urllib.request.urlopen(f"http://{ADDRESS}/api/", timeout=5)
    except urllib.error.HTTPError:
        return True  # 401 without a token: the server is up
    except OSError:
        return False
    return True


def test_the_walkthrough_blocks_are_found():
    steps = walkthrough_steps(README.read_text())

    assert [step.command.split()[0] for step in steps] == [
        "TOKEN=$(.venv/bin/python", "curl", "curl", ".venv/bin/python",
    ]
    assert all(step.expected for step in steps[1:])


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_the_readme_walkthrough_shows_what_a_fresh_install_does(tmp_path):
    steps = walkthrough_steps(README.read_text())
    with Launcher(LEPTON_PORT="8120", LEPTON_FLOWER_PORT="5620", LEPTON_WEB_WORKERS="1") as launcher:
        launcher.wait_until_running()
        wait_for(web_answers, 60, "the web server never answered")
        env = launcher.env
        for step in steps:
            command = step.command.replace(README_ADDRESS, ADDRESS)
            deadline = time.monotonic() + READ_PATIENCE
            while True:
                code, stdout, stderr, after = run_in_session(command, env, tmp_path / "session")
                done = code == 0 and (not step.expected or output_agrees(stdout, step.expected))
                if done or not step.is_read or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert done, f"$ {step.command}\nexit {code}\nstdout: {stdout}\nstderr: {stderr[-2000:]}\nREADME shows: {step.expected}"
            env = after
