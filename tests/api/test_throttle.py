"""The API's rate limit (jobs.api.throttling): a window's count in a burst, then one per
interval, with the wait said; one number per user in the cache."""

import pytest
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from jobs.api.throttling import UserRateThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def request_of(owner):
    def make(user=owner):
        raw = APIRequestFactory().get("/api/jobs/")
        force_authenticate(raw, user=user)
        return Request(raw, authenticators=[])

    return make


def throttle(clock, rate):
    made = UserRateThrottle()
    made.rate = rate
    made.num_requests, made.duration = made.parse_rate(rate)
    made.timer = clock
    return made


def test_a_window_of_requests_passes_at_once_then_one_per_interval(clock, request_of):
    request, view = request_of(), APIView()
    allowed = [throttle(clock, "6/minute").allow_request(request, view) for _ in range(7)]
    assert allowed == [True] * 6 + [False]

    refused = throttle(clock, "6/minute")
    assert not refused.allow_request(request, view)
    assert refused.wait() == pytest.approx(10.0)

    clock.now += 9.9
    assert not throttle(clock, "6/minute").allow_request(request, view)
    clock.now += 0.2
    assert [throttle(clock, "6/minute").allow_request(request, view) for _ in range(2)] == [True, False]

    clock.now += 60
    assert [throttle(clock, "6/minute").allow_request(request, view) for _ in range(7)] == [True] * 6 + [False]


def test_users_are_counted_apart_and_each_is_one_number_in_the_cache(clock, request_of, stranger):
    view = APIView()
    for _ in range(6):
        assert throttle(clock, "6/minute").allow_request(request_of(), view)
    assert throttle(clock, "6/minute").allow_request(request_of(stranger), view)
    key = throttle(clock, "6/minute").get_cache_key(request_of(), view)
    assert isinstance(cache.get(key), float)


def test_an_unlimited_rate_stores_nothing(clock, request_of):
    unlimited = UserRateThrottle()
    unlimited.rate = None
    assert unlimited.allow_request(request_of(), APIView())
    assert cache.get(throttle(clock, "6/minute").get_cache_key(request_of(), APIView())) is None
