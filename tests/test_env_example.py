"""The README's configuration table, the code and .env.example list the same variables.

When one of these fails after a new setting: add its row to the README's table, then
regenerate with `python manage.py lepton_env --example > .env.example`.
"""

import re
import subprocess
import sys

from django.core.management import call_command

from lepton import envdoc
from tests.processes import ROOT


def test_the_readme_documents_every_variable_the_code_reads_and_no_other():
    undocumented, unread = envdoc.drift()
    assert undocumented == [], "add a row to the README's configuration table"
    assert unread == [], "the README documents variables nothing reads"


def test_env_example_is_the_generated_one():
    assert envdoc.EXAMPLE.read_text() == envdoc.render_example(), (
        "regenerate: python manage.py lepton_env --example > .env.example"
    )


def test_env_example_names_every_variable_once_with_its_default():
    lines = envdoc.EXAMPLE.read_text().splitlines()
    assignments = [line.lstrip("#").split("=", 1) for line in lines if line.lstrip("#").startswith("LEPTON_")]
    names = [name for name, _ in assignments]
    assert sorted(names) == sorted(set(names)) == sorted(envdoc.read_by_code())
    assert dict(assignments)["LEPTON_LEASE_SECONDS"] == "12"


def test_only_what_docker_compose_requires_is_uncommented():
    lines = envdoc.EXAMPLE.read_text().splitlines()
    set_values = {line.split("=", 1)[0] for line in lines if line.startswith("LEPTON_")}
    compose = (ROOT / "docker-compose.yml").read_text()
    # `${NAME:?message}`: compose refuses to start without it.
    required = set(re.findall(r"\$\{(LEPTON_[A-Z_]+):\?", compose))
    assert required >= {"LEPTON_SECRET_KEY", "LEPTON_POSTGRES_PASSWORD"}
    assert set_values == required


def test_the_command_prints_the_example(capsys):
    call_command("lepton_env", "--example")
    assert capsys.readouterr().out == envdoc.render_example()


def test_the_check_fails_naming_an_undocumented_variable(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "\n".join(line for line in envdoc.README.read_text().splitlines() if "`LEPTON_LEASE_SECONDS`" not in line)
    )
    undocumented, _ = envdoc.drift(readme)
    assert undocumented == ["LEPTON_LEASE_SECONDS"]


def test_the_check_command_exits_non_zero_on_drift_and_zero_without():
    done = subprocess.run(
        [sys.executable, "manage.py", "lepton_env", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_a_row_of_several_names_gives_each_its_own_default():
    rows = envdoc.documented()
    assert (rows["LEPTON_RETRY_BASE_SECONDS"].default, rows["LEPTON_RETRY_MAX_SECONDS"].default) == ("`0.5`", "`30`")
    assert rows["LEPTON_FLOWER_PORT"].default == "`5555`"
