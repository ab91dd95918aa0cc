"""The docker-compose deployment: it renders, has the expected services, refuses to run
without its secrets, and runs the same commands as `make run`.

Only `docker-compose config` is used: it validates offline, no Docker engine needed.
Skipped when the `docker-compose` binary is not on PATH.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = {"redis", "postgres", "migrate", "web", "worker", "control", "beat", "flower", "proxy"}
REQUIRED = {
    "LEPTON_SECRET_KEY": "dummy-secret-key",
    "LEPTON_POSTGRES_PASSWORD": "dummy-password",
    "LEPTON_FLOWER_PASSWORD": "dummy-flower-password",
}

requires_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not on PATH (Debian: apt-get install docker-compose)",
)


def compose_env(**overrides):
    """The test's environment without any LEPTON_*/COMPOSE_* of the caller's, plus overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEPTON_", "COMPOSE_"))}
    env.update(overrides)
    return env


@pytest.fixture
def compose(tmp_path):
    """Runs `docker-compose ARGS` on the project's compose file with a given environment."""
    # An empty --env-file: a developer's .env must not supply (or hide) the variables
    # under test. (Compose v1 refuses /dev/null: "is not a file".)
    env_file = tmp_path / "empty.env"
    env_file.touch()

    def run(*args, env):
        return subprocess.run(
            ["docker-compose", "--env-file", str(env_file), "--project-directory", str(ROOT),
             "-f", str(COMPOSE_FILE), *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )

    return run


def rendered_config(compose, env):
    """The rendered compose file as a dict, without PyYAML in the venv."""
    as_json = compose("config", "--format", "json", env=env)  # Compose v2
    # (Compose v1 answers an unknown option with its usage, and exit status 0.)
    if as_json.returncode == 0 and as_json.stdout.lstrip().startswith("{"):
        return json.loads(as_json.stdout)
    as_yaml = compose("config", env=env)
    assert as_yaml.returncode == 0, as_yaml.stderr
    # Compose v1 is a Python program that depends on PyYAML: let its interpreter convert.
    with open(shutil.which("docker-compose"), "rb") as script:
        first_line = script.readline().decode(errors="replace")
    if not first_line.startswith("#!"):
        pytest.skip("cannot convert docker-compose's YAML to JSON here (PyYAML is not in requirements)")
    converted = subprocess.run(
        [*first_line[2:].split(), "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
        input=as_yaml.stdout, capture_output=True, text=True, timeout=60,
    )
    if converted.returncode != 0:
        pytest.skip(f"cannot convert docker-compose's YAML to JSON here: {converted.stderr.strip()}")
    return json.loads(converted.stdout)


@requires_compose
def test_compose_file_is_valid(compose):
    result = compose("config", "-q", env=compose_env(**REQUIRED))
    assert result.returncode == 0, result.stderr


@requires_compose
def test_compose_services(compose):
    result = compose("config", "--services", env=compose_env(**REQUIRED))
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == SERVICES


@requires_compose
@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_refuses_without_required_variable(missing, compose):
    env = compose_env(**{k: v for k, v in REQUIRED.items() if k != missing})
    result = compose("config", "-q", env=env)
    assert result.returncode != 0
    assert missing in result.stdout + result.stderr


@requires_compose
def test_compose_publishes_only_the_proxy_on_loopback_by_default(compose):
    config = rendered_config(compose, compose_env(**REQUIRED))
    published = {}
    for name, service in config["services"].items():
        for port in service.get("ports", []):
            if isinstance(port, dict):  # Compose v2's long form
                published[name] = f"{port.get('host_ip', '')}:{port['published']}"
            else:  # "127.0.0.1:8000:8000/tcp"
                published[name] = port.split("/")[0].rsplit(":", 1)[0]
    assert published == {"proxy": "127.0.0.1:8000"}


def configure_make_run(monkeypatch, settings, **values):
    """What `make run` would read from LEPTON_* variables (via the environment or settings)."""
    for name, value in values.items():
        monkeypatch.setenv(name, str(value))
        setattr(settings, name, value)


@requires_compose
def test_compose_runs_the_same_commands_as_make_run(compose, monkeypatch, settings):
    """Only binds differ (0.0.0.0 in a container), and the interpreter is `python`;
    Flower, served by the proxy at /flower/, also gets that URL prefix."""
    from lepton.run import process_commands

    sizes = {"LEPTON_WEB_WORKERS": 3, "LEPTON_WORKER_CONCURRENCY": 5}
    config = rendered_config(compose, compose_env(**REQUIRED, **{k: str(v) for k, v in sizes.items()}))
    configure_make_run(
        monkeypatch, settings, LEPTON_BIND="0.0.0.0", LEPTON_PORT=8000, LEPTON_FLOWER_PORT=5555, **sizes,
    )
    # The image sets LEPTON_DATA_DIR=/app/var.
    local_schedule = settings.CELERY_BEAT_SCHEDULE_FILENAME
    image_schedule = "/app/var/" + Path(local_schedule).relative_to(settings.DATA_DIR).as_posix()
    commands = process_commands()
    assert set(commands) <= set(config["services"])
    commands["flower"] = [
        "--address=0.0.0.0" if arg == "--address=127.0.0.1" else arg for arg in commands["flower"]
    ] + ["--url_prefix=flower"]
    for name, command in commands.items():
        expected = ["python", *[image_schedule if arg == local_schedule else arg for arg in command[1:]]]
        assert config["services"][name]["command"] == expected, name


def test_image_default_command_is_the_web_server(monkeypatch, settings):
    from lepton.run import process_commands

    configure_make_run(monkeypatch, settings, LEPTON_BIND="0.0.0.0", LEPTON_PORT=8000, LEPTON_WEB_WORKERS=2)
    cmd = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD ")) == ["python", *process_commands()["web"][1:]]
