# The README's two commands (`make run`, `make test`) and a few more.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Rebuilt whenever requirements.txt changes.
INSTALLED := $(VENV)/.installed
# Debian's libfaketime, for the skewed clock of `make cluster`.
LIBFAKETIME := /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

.PHONY: run test bench bench-fairness chaos soak cluster

$(INSTALLED): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(LIBFAKETIME):
	apt-get update -qq && apt-get install -y -qq faketime

## The whole platform on this machine: embedded Redis, SQLite, web, workers, beat, Flower.
run: $(INSTALLED)
	$(PY) -m lepton.run

## The whole test suite (starts its own Redis and workers unless told otherwise);
## PYTEST_ARGS narrows it, e.g. `make test PYTEST_ARGS=tests/integration`.
test: $(INSTALLED)
	$(PY) -m pytest $(PYTEST_ARGS)

## Lepton against raw Celery and the Django + Celery + django-celery-results peer, the
## fairness checks and the growth tables (job size, fleet, backlog): a table of medians and
## targets, also written to var/bench/. Starts and stops its own everything.
## DB=postgres runs it all on a throwaway database on the machine's PostgreSQL;
## BENCH_ARGS passes options and scenarios, e.g. `make bench BENCH_ARGS="--quick growth"`.
bench: $(INSTALLED)
	$(PY) -m tests.bench --database $(or $(DB),sqlite) $(BENCH_ARGS)

## Only the fairness checks (F1-F4).
bench-fairness: $(INSTALLED)
	$(PY) -m tests.bench fairness

## The chaos suite in full: 20 repetitions of each fault (kills, broker flush and restart),
## default leases for the whole-worker kill; the table also goes to $LEPTON_DATA_DIR/chaos/results.json
## (var/chaos/ by default).
chaos: $(INSTALLED)
	$(PY) -m pytest tests/chaos -p no:cacheprovider --chaos-reps 20 -s

## The soak: random jobs of every type under random faults (kills, SIGTERM, Redis flush
## and restart, a skewed clock, a second control worker) for SOAK_MINUTES, then every job
## is checked; SOAK_SEED repeats a run. The table also goes to var/soak/.
SOAK_MINUTES ?= 10
SOAK_SEED ?=
soak: $(INSTALLED) $(LIBFAKETIME)
	$(PY) -m tests.soak --minutes $(SOAK_MINUTES) $(if $(SOAK_SEED),--seed $(SOAK_SEED))

## The multi-host rehearsal: three worker hosts (network namespaces) reach Redis and
## PostgreSQL only over their own veth; one host's link is cut mid-job (inside one of its
## transactions) and brought back, another runs with a skewed clock. A table of spread,
## failover and rejoin times, lost and double-counted subtasks, also written to
## $LEPTON_DATA_DIR/cluster/ (var/cluster/). Needs root and PostgreSQL: a throwaway
## database on 127.0.0.1:5432 unless LEPTON_DATABASE_URL names one. CLUSTER_ARGS passes
## options, e.g. `make cluster CLUSTER_ARGS="--hold-cut 60"`.
cluster: $(INSTALLED) $(LIBFAKETIME)
	$(PY) -m tests.cluster $(CLUSTER_ARGS)
