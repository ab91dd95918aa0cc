"""monitoring.alerting.evaluation: the state machine as pure logic."""

from datetime import datetime, timedelta, timezone

from monitoring.alerting.evaluation import FIRING, PENDING, OpenAlert, describe, evaluate, fingerprint

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def open_alert(state, labels=None, started_ago=0, id=1):
    return OpenAlert(id=id, labels=labels or {}, state=state, started_at=NOW - timedelta(seconds=started_ago))


def test_it_opens_a_pending_alert_when_a_sample_breaches():
    changes = evaluate(">", 10, 60, [({"queue": "io"}, 11.0)], [], NOW)
    assert changes.created == [({"queue": "io"}, 11.0, PENDING)]


def test_it_fires_at_once_when_for_is_zero():
    changes = evaluate(">", 10, 0, [({}, 11.0)], [], NOW)
    assert changes.created == [({}, 11.0, FIRING)]


def test_it_keeps_a_pending_alert_pending_until_for_has_passed():
    changes = evaluate(">", 10, 60, [({}, 11.0)], [open_alert(PENDING, started_ago=59)], NOW)
    assert changes.fired == [] and changes.still == [(1, 11.0)]


def test_it_fires_a_pending_alert_once_for_has_passed():
    changes = evaluate(">", 10, 60, [({}, 11.0)], [open_alert(PENDING, started_ago=60)], NOW)
    assert changes.fired == [(1, 11.0)]


def test_it_resolves_when_the_value_no_longer_breaches_and_says_whether_it_had_fired():
    firing = evaluate(">", 10, 0, [({}, 10.0)], [open_alert(FIRING)], NOW)
    pending = evaluate(">", 10, 60, [({}, 10.0)], [open_alert(PENDING)], NOW)
    assert firing.resolved == [(1, True)] and pending.resolved == [(1, False)]


def test_it_resolves_an_alert_whose_label_set_has_no_sample_any_more():
    changes = evaluate(">", 0, 0, [], [open_alert(FIRING, {"worker": "w1"})], NOW)
    assert changes.resolved == [(1, True)]


def test_it_keeps_one_alert_per_label_set():
    samples = [({"queue": "io"}, 5.0), ({"queue": "cpu"}, 5.0), ({"queue": "io"}, 6.0)]
    changes = evaluate(">", 1, 0, samples, [open_alert(FIRING, {"queue": "io"})], NOW)
    assert changes.created == [({"queue": "cpu"}, 5.0, FIRING)]
    assert changes.still == [(1, 5.0)]


def test_fingerprints_do_not_depend_on_label_order():
    assert fingerprint({"a": "1", "b": "2"}) == fingerprint({"b": "2", "a": "1"})


def test_it_fills_the_message_with_labels_value_and_threshold():
    text = describe("queue {queue} waited {value}s (over {threshold}s) {unknown}", {"queue": "io"}, 301.25, 300.0)
    assert text == "queue io waited 301.2s (over 300s) {unknown}"


def test_a_malformed_message_is_shown_as_written():
    assert describe("broken {", {}, 1.0, 0.0) == "broken {"
