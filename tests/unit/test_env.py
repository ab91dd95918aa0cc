"""Settings from the environment: typed, defaulted, and loud about bad values."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from lepton import env
from lepton.env import env_bool, env_float, env_int, env_list, env_mapping


@pytest.fixture(autouse=True)
def forget_the_variables_read_here(monkeypatch):
    """These tests read made-up variables; the record of what the code reads (the README
    check, .env.example) must not keep them for the rest of the session."""
    monkeypatch.setattr(env, "READ", dict(env.READ))


@pytest.mark.parametrize("raw, expected", [("true", True), ("1", True), ("ON", True), ("false", False), ("0", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("LEPTON_X", raw)
    assert env_bool("LEPTON_X", not expected) is expected


@pytest.mark.parametrize("reader, raw", [(env_bool, "yes"), (env_int, "ten"), (env_float, "1,5")])
def test_a_bad_value_names_the_variable(monkeypatch, reader, raw):
    monkeypatch.setenv("LEPTON_X", raw)
    with pytest.raises(ImproperlyConfigured, match=f"LEPTON_X={raw!r}"):
        reader("LEPTON_X", None)


def test_unset_or_empty_means_the_default(monkeypatch):
    monkeypatch.setenv("LEPTON_EMPTY", "")
    assert env_int("LEPTON_EMPTY", 7) == 7
    assert env_list("LEPTON_UNSET_FOR_TEST", ["a"]) == ["a"]


def test_a_number_below_its_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("LEPTON_X", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("LEPTON_X", 5, minimum=1)


def test_env_mapping_reads_pairs_and_refuses_a_pair_without_value(monkeypatch):
    monkeypatch.setenv("LEPTON_X", "primes=cpu, wordcount=io")
    assert env_mapping("LEPTON_X", {}) == {"primes": "cpu", "wordcount": "io"}
    monkeypatch.setenv("LEPTON_X", "primes")
    with pytest.raises(ImproperlyConfigured, match="'primes' is not key=value"):
        env_mapping("LEPTON_X", {})
