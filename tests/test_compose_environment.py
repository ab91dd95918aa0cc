"""docker-compose with the example environment (.env.example): it renders, every Lepton
service but beat, flower and the one-shot migrate has a healthcheck, and no secret is
written into the compose file itself."""

import re
import subprocess

import pytest

from lepton.envdoc import EXAMPLE
from tests.test_compose import COMPOSE_FILE, ROOT, compose, compose_env, rendered_config, requires_compose  # noqa: F401 (fixture)


@requires_compose
def test_the_example_environment_renders():
    result = subprocess.run(
        ["docker-compose", "--env-file", str(EXAMPLE), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE),
         "config", "-q"],
        cwd=ROOT, env=compose_env(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr


@requires_compose
@pytest.mark.parametrize(
    "service, check",
    [("web", "manage.py health"), ("worker", "worker_alive work"), ("control", "worker_alive control")],
)
def test_web_and_workers_have_healthchecks(compose, service, check):
    config = rendered_config(
        compose, compose_env(LEPTON_SECRET_KEY="s", LEPTON_POSTGRES_PASSWORD="p", LEPTON_FLOWER_PASSWORD="f")
    )
    assert check in " ".join(config["services"][service]["healthcheck"]["test"])


def test_secrets_come_only_from_the_environment():
    text = COMPOSE_FILE.read_text()
    for name in ("LEPTON_SECRET_KEY", "POSTGRES_PASSWORD"):
        for line in text.splitlines():
            if re.match(rf"\s*{name}:", line):
                assert "${" in line, f"{name} is written into docker-compose.yml: {line.strip()}"
