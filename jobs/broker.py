"""Noticing that the broker lost its data, and restoring what Lepton needs from it.

A Redis that restarts without persistence, or is flushed, silently drops every queued
message and kombu's queue bindings (after which publishes to a queue fall into kombu's
dead-letter list). The database still knows what is queued (invariant 1); this module
tells the reconciler when to send it all again. A sentinel key marks "the broker
remembers us": when it is missing, the broker was reset at about that moment.

RabbitMQ keeps durable queues and persistent messages across a restart, so a restart
loses nothing there. A RabbitMQ that lost its data (a new node, a wiped disk,
`rabbitmqctl reset`, the vhost re-created) lost the durable sentinel queue too: finding
it missing is the same signal.
"""

import base64
import json
import time

from amqp.exceptions import ChannelError
from celery import current_app

from jobs.models import RecoveryEvent

SENTINEL_KEY = "lepton:broker-sentinel"
RESET_AT_KEY = "lepton:broker-reset-at"
#: The task name whose messages carry subtask pairs (jobs.dispatch.RUN_SUBTASKS).
RUN_SUBTASKS = "jobs.tasks.run_subtasks"


def check_for_reset():
    """(epoch seconds of the latest broker reset seen, or None; whether this call found it).

    On finding a reset it restores the queue bindings at once, so messages sent from now
    on are routed again; the caller re-sends what was queued before this moment.
    """
    app = current_app
    with app.connection_for_write() as connection:
        client = getattr(connection.default_channel, "client", None)
        if client is None or not hasattr(client, "set"):
            return _check_amqp_for_reset(app, connection)
        found = bool(client.set(SENTINEL_KEY, "1", nx=True))
        if found:
            channel = connection.default_channel
            for queue in app.amqp.queues.values():
                queue(channel).declare()
            client.set(RESET_AT_KEY, repr(time.time()))
        reset_at = client.get(RESET_AT_KEY)
    return (float(reset_at) if reset_at else None), found


def _check_amqp_for_reset(app, connection):
    """The AMQP form: a durable sentinel queue; the reset time is the latest recorded one."""
    channel = connection.channel()
    try:
        channel.queue_declare(SENTINEL_KEY, passive=True)
    except ChannelError:
        # The broker closes a channel whose passive declare fails: declare on a new one.
        channel = connection.channel()
        channel.queue_declare(SENTINEL_KEY, durable=True, auto_delete=False)
        for queue in app.amqp.queues.values():
            queue(channel).declare()
        return time.time(), True
    finally:
        channel.close()
    last = (
        RecoveryEvent.objects.filter(kind=RecoveryEvent.Kind.BROKER_RESET)
        .order_by("-created_at").values_list("created_at", flat=True).first()
    )
    return (last.timestamp() if last else None), False


def pairs_in_broker(queues, delivered_within):
    """The (subtask id, attempt) pairs that messages in the broker still carry: waiting in
    these queues (every priority level) or delivered within the last `delivered_within`
    seconds and not yet acknowledged. None when the transport cannot be inspected (not
    Redis); the caller then falls back on ages.

    The reconciler asks this before sending a queued subtask again, so a backlog that
    merely waits behind other traffic is not sent twice (issue 8, case 9). A delivery
    older than that whose subtask is still queued (unclaimed) went to a worker that died
    before claiming it: Redis keeps it unacknowledged until the visibility timeout (an
    hour by default), so it does not count, and the subtask is sent again; should the
    first delivery still be claimed, its attempt fences the duplicate.
    """
    app = current_app
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        client = getattr(channel, "client", None)
        if client is None or not hasattr(channel, "_q_for_pri"):
            return None
        raws = []
        for queue in queues:
            for priority in channel.priority_steps:
                raws.extend(client.lrange(channel._q_for_pri(queue, priority), 0, -1))
        # kombu scores each delivery with the delivering worker's time().
        recent = client.zrangebyscore(channel.unacked_index_key, time.time() - delivered_within, "+inf")
        unacked = [json.loads(raw)[0] for raw in client.hmget(channel.unacked_key, recent) if raw] if recent else []
    pairs = set()
    for message in [json.loads(raw) for raw in raws] + unacked:
        pairs.update(_pairs_of(message))
    return pairs


def _pairs_of(message):
    """The pairs a run_subtasks message carries (none for any other message)."""
    try:
        if message["headers"].get("task") != RUN_SUBTASKS:
            return []
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return [tuple(pair) for pair in args[0]]
    except (KeyError, IndexError, TypeError, ValueError):
        return []
