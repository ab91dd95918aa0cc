"""Redis or RabbitMQ under Celery: the few places where the two brokers differ.

Lepton numbers message priorities the Redis transport's way: 0 is served first
(jobs.routing). Redis keeps one list per priority step (CELERY_BROKER_TRANSPORT_OPTIONS);
RabbitMQ has real priority queues, declared with `x-max-priority`, and serves the
*highest* number first. So on AMQP every message's priority is mirrored on its way out,
and the engine keeps one ordering.
"""

from urllib.parse import urlsplit

from celery import current_app
from celery.signals import before_task_publish

AMQP_SCHEMES = {"amqp", "amqps", "pyamqp"}
#: x-max-priority of every queue on RabbitMQ: Lepton's levels are 0-9.
AMQP_MAX_PRIORITY = 9


def is_amqp(url):
    return urlsplit(url or "").scheme in AMQP_SCHEMES


@before_task_publish.connect
def mirror_priority_for_amqp(properties=None, **kwargs):
    """Redis order (0 first) to RabbitMQ order (highest first), in place."""
    if properties and properties.get("priority") is not None and is_amqp(current_app.conf.broker_url):
        properties["priority"] = AMQP_MAX_PRIORITY - properties["priority"]
