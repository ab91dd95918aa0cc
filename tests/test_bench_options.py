"""The bench's pure parts: its options and its text tables (the bench itself is `make bench`)."""

from tests.bench.__main__ import environment, parse_args
from tests.bench.report import grid


def test_it_runs_on_sqlite_unless_told_otherwise():
    assert parse_args([]).database == "sqlite"
    assert parse_args(["--database", "postgres", "throughput"]).database == "postgres"


def test_it_gives_lepton_and_the_peer_their_own_sqlite_files(tmp_path):
    env = environment(tmp_path, None)
    assert env["LEPTON_DATABASE_URL"] != env["PEER_DATABASE_URL"]
    assert all(env[key].startswith("sqlite:///") for key in ("LEPTON_DATABASE_URL", "PEER_DATABASE_URL"))


def test_it_shares_a_postgres_database_between_lepton_and_the_peer(tmp_path):
    url = "postgres://postgres@127.0.0.1:5432/lepton_bench_1"
    env = environment(tmp_path, url)
    assert env["LEPTON_DATABASE_URL"] == env["PEER_DATABASE_URL"] == url


def test_it_aligns_table_columns():
    lines = grid(["size", "rate"], [["10", "1.5"], ["100,000", "12"]]).splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[2].endswith("1.5") and lines[3].startswith("100,000")
