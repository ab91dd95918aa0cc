"""`manage.py check --deploy` is clean under production settings, and loud without them."""

import os
import secrets
import subprocess
import sys

from tests.processes import ROOT

PRODUCTION = {
    "LEPTON_HTTPS": "true",
    "LEPTON_DEBUG": "false",
    "LEPTON_SECRET_KEY": secrets.token_urlsafe(60),
    "LEPTON_ALLOWED_HOSTS": "lepton.example.com",
}


def check_deploy(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )


def test_production_settings_pass_the_deployment_checks():
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_https_the_checks_warn_about_insecure_cookies():
    result = check_deploy(**{**PRODUCTION, "LEPTON_HTTPS": "false"})
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr


def test_a_bad_boolean_setting_stops_the_process_with_its_name():
    result = check_deploy(LEPTON_DEBUG="yes")
    assert result.returncode != 0
    assert "LEPTON_DEBUG='yes'" in result.stderr
