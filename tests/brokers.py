"""The broker a test session runs on, Redis or RabbitMQ, behind one small interface.

LEPTON_TEST_BROKER_URL names it (LEPTON_TEST_REDIS_URL still works for Redis); unset,
each user starts an embedded Redis. On RabbitMQ every session (and every chaos
scenario) gets a vhost of its own, created with `rabbitmqctl` and deleted afterwards,
so runs never see each other's queues or messages; on a shared Redis the database is
flushed before and after instead.

Tests read what waits in a queue through `messages()` and `depth()`, and empty it with
`purge()`, without knowing how the broker stores it. The chaos suite's broker faults on
RabbitMQ (`reset`, `drop_connections`, `drop_connections_of`) are its analogues of what it
does to a Redis (FLUSHALL, a restart, a redelivery).
"""

import base64
import json
import os
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
import redis
from amqp.exceptions import ChannelError
from kombu import Connection

from lepton.brokers import AMQP_MAX_PRIORITY, is_amqp

TEST_BROKER_URL = os.environ.get("LEPTON_TEST_BROKER_URL") or os.environ.get("LEPTON_TEST_REDIS_URL") or ""
ON_AMQP = is_amqp(TEST_BROKER_URL)

#: For tests of what only Redis does: FLUSHALL (RabbitMQ's analogue, a vhost that lost
#: its data, has tests of its own).
requires_redis = pytest.mark.skipif(
    ON_AMQP, reason="Redis-only fault: RabbitMQ has no FLUSHALL (a vhost that lost its data is its own test)"
)

#: For tests of the reconciler's look into the broker (jobs.broker.pairs_in_broker).
inspects_redis = pytest.mark.skipif(
    ON_AMQP,
    reason="the reconciler looks inside Redis only: RabbitMQ cannot list a queue's messages without "
    "taking them, nor a consumer's unacknowledged ones (LEPTON_REDISPATCH_SECONDS covers it there)",
)

#: For tests of what only RabbitMQ does.
requires_amqp = pytest.mark.skipif(not ON_AMQP, reason="RabbitMQ only: set LEPTON_TEST_BROKER_URL=amqp://...")

#: Redis keeps one list per priority step: `queue` for 0, `queue:3`, `queue:6`, `queue:9`.
REDIS_PRIORITY_STEPS = (0, 3, 6, 9)


@dataclass(frozen=True)
class Sent:
    """A message waiting in a queue: its task, first argument and priority (Redis order)."""

    task: str
    first_arg: object
    priority: int


class RedisBroker:
    kind = "redis"

    def __init__(self, url, client=None):
        self.url = url
        self.client = client or redis.Redis.from_url(url)

    def _keys(self, queue):
        return [queue if step == 0 else f"{queue}:{step}" for step in REDIS_PRIORITY_STEPS]

    def messages(self, queue):
        found = []
        for step, key in zip(REDIS_PRIORITY_STEPS, self._keys(queue)):
            # kombu pushes on the left and pops on the right: oldest last.
            for raw in reversed(self.client.lrange(key, 0, -1)):
                message = json.loads(raw)
                body = json.loads(base64.b64decode(message["body"]))
                found.append(Sent(message["headers"]["task"], body[0][0], step))
        return found

    def depth(self, queue):
        return sum(self.client.llen(key) for key in self._keys(queue))

    def purge(self, *queues):
        keys = [key for queue in queues for key in self._keys(queue)]
        if keys:
            self.client.delete(*keys)

    def flush(self):
        self.client.flushdb()

    def close(self):
        self.client.close()


class AmqpBroker:
    """A vhost of its own on the RabbitMQ that `base_url` points at."""

    kind = "amqp"

    def __init__(self, base_url, vhost):
        parts = urlsplit(base_url)
        self.vhost = vhost
        self.user = parts.username or "guest"
        self.url = urlunsplit(parts._replace(path=f"/{vhost}"))
        self._create()

    def _create(self):
        _rabbitmqctl("add_vhost", self.vhost)
        _rabbitmqctl("set_permissions", "-p", self.vhost, self.user, ".*", ".*", ".*")
        self.connection = Connection(self.url)

    def _channel(self):
        return self.connection.channel()

    def messages(self, queue):
        """Read without taking: every message is got unacknowledged, then the channel is
        closed, which puts them all back."""
        channel = self._channel()
        found = []
        try:
            while (message := channel.basic_get(queue, no_ack=False)) is not None:
                body = json.loads(message.body)
                priority = AMQP_MAX_PRIORITY - (message.properties.get("priority") or 0)
                found.append(Sent(message.headers["task"], body[0][0], priority))
        except ChannelError:
            return []  # no such queue yet: nothing was sent to it
        finally:
            _close(channel)
        return found

    def depth(self, queue):
        channel = self._channel()
        try:
            return channel.queue_declare(queue, passive=True).message_count
        except ChannelError:
            return 0
        finally:
            _close(channel)

    def purge(self, *queues):
        for queue in queues:
            channel = self._channel()
            try:
                channel.queue_purge(queue)
            except ChannelError:
                pass
            finally:
                _close(channel)

    def delete_queue(self, queue):
        channel = self._channel()
        try:
            channel.queue_delete(queue)
        finally:
            _close(channel)

    def has_queue(self, queue):
        channel = self._channel()
        try:
            channel.queue_declare(queue, passive=True)
            return True
        except ChannelError:
            return False
        finally:
            _close(channel)

    def reset(self):
        """What FLUSHALL is to a Redis: the vhost deleted and created again, as on a node
        that lost its data. Every queue, binding and message in it is gone; the broker
        closes the connections into it, and clients reconnect to the empty vhost."""
        self.close()
        self._create()

    def drop_connections(self, downtime):
        """A broker restart as its clients see it: every connection into the vhost closed
        and new ones refused for `downtime` seconds. Queues and messages stay, as durable
        queues and persistent messages survive a RabbitMQ restart."""
        _rabbitmqctl("set_vhost_limits", "--vhost", self.vhost, '{"max-connections": 0}')
        try:
            _rabbitmqctl("close_all_connections", "--vhost", self.vhost, "chaos: broker restart")
            time.sleep(downtime)
        finally:
            _rabbitmqctl("clear_vhost_limits", "--vhost", self.vhost)

    def drop_connections_of(self, pid):
        """Close the connections process `pid` holds into the vhost, as when its host is cut
        off: RabbitMQ hands the messages it held unacknowledged to other consumers.
        Returns how many it closed."""
        ports = {conn.laddr.port for conn in psutil.Process(pid).net_connections(kind="tcp") if conn.raddr}
        listed = _rabbitmqctl("list_connections", "--no-table-headers", "pid", "vhost", "peer_port")
        theirs = [
            name for name, vhost, port in (line.split("\t") for line in listed.splitlines())
            if vhost == self.vhost and int(port) in ports
        ]
        for name in theirs:
            _rabbitmqctl("close_connection", name, "chaos: connection cut")
        return len(theirs)

    def close(self):
        self.connection.release()
        _rabbitmqctl("delete_vhost", self.vhost)


def _close(channel):
    try:
        channel.close()
    except Exception:
        pass  # the broker already closed it (a failed passive declare does)


def _rabbitmqctl(*args):
    command = ["rabbitmqctl", "-q", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout
