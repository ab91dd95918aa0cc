"""lepton/brokers.py: priorities keep one meaning on Redis and on RabbitMQ."""

import pytest

from lepton.brokers import AMQP_MAX_PRIORITY, is_amqp, mirror_priority_for_amqp
from lepton.celery import app


@pytest.mark.parametrize(
    "url, expected",
    [("amqp://guest:guest@host:5672//", True), ("pyamqp://h//", True), ("redis://h:6379/0", False),
     ("redis+socket:///tmp/r.sock", False), ("", False)],
)
def test_it_tells_amqp_urls_from_redis_ones(url, expected):
    assert is_amqp(url) is expected


def published_priority(monkeypatch, url, priority):
    monkeypatch.setattr(app.conf, "broker_url", url)
    properties = {"priority": priority}
    mirror_priority_for_amqp(properties=properties)
    return properties["priority"]


def test_on_amqp_the_highest_number_goes_to_what_redis_serves_first(monkeypatch):
    url = "amqp://guest:guest@127.0.0.1:5672//"
    assert published_priority(monkeypatch, url, 0) == AMQP_MAX_PRIORITY
    assert published_priority(monkeypatch, url, 3) > published_priority(monkeypatch, url, 6)
    assert published_priority(monkeypatch, url, 9) == 0


def test_on_redis_priorities_go_out_as_they_are(monkeypatch):
    assert published_priority(monkeypatch, "redis://127.0.0.1:6379/0", 3) == 3
