"""Alert evaluation as pure logic: samples and open alerts in, state changes out.

A rule's signal yields samples, (labels, value) pairs. For each label set:
- breaching and no open alert: a new alert, `pending` (or `firing` at once when `for` is 0);
- breaching and pending for at least `for` seconds: `firing` (notify);
- not breaching, or no sample any more (the queue or worker is gone): `resolved`, and a
  notification only if it had fired.
"""

import json
import operator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}

PENDING, FIRING, RESOLVED = "pending", "firing", "resolved"


def fingerprint(labels):
    """The canonical form of a label set: the same labels give the same string."""
    return json.dumps(labels, sort_keys=True, separators=(",", ":"))


def breaches(comparison, value, threshold):
    return COMPARE[comparison](value, threshold)


@dataclass(frozen=True)
class OpenAlert:
    """What evaluation needs to know of an open alert row."""

    id: int
    labels: dict
    state: str
    started_at: datetime


@dataclass
class Changes:
    """What to write after evaluating one rule."""

    created: list = field(default_factory=list)  # (labels, value, state)
    fired: list = field(default_factory=list)  # (alert id, value)
    resolved: list = field(default_factory=list)  # (alert id, had fired)
    still: list = field(default_factory=list)  # (alert id, value): open and unchanged


def evaluate(comparison, threshold, for_seconds, samples, open_alerts, now):
    """Changes for one rule. `samples` is [(labels, value)]; `open_alerts` [OpenAlert]."""
    changes = Changes()
    open_by_key = {fingerprint(alert.labels): alert for alert in open_alerts}
    due = timedelta(seconds=for_seconds)
    seen = set()
    for labels, value in samples:
        key = fingerprint(labels)
        if key in seen:
            continue
        seen.add(key)
        alert = open_by_key.get(key)
        if not breaches(comparison, value, threshold):
            if alert is not None:
                changes.resolved.append((alert.id, alert.state == FIRING))
            continue
        if alert is None:
            changes.created.append((labels, value, FIRING if for_seconds == 0 else PENDING))
        elif alert.state == PENDING and now - alert.started_at >= due:
            changes.fired.append((alert.id, value))
        else:
            changes.still.append((alert.id, value))
    for key, alert in open_by_key.items():
        if key not in seen:
            changes.resolved.append((alert.id, alert.state == FIRING))
    return changes


class _Labels(dict):
    """Format mapping that leaves unknown {names} as they are instead of failing."""

    def __missing__(self, key):
        return "{" + key + "}"


def describe(message, labels, value, threshold):
    """The rule's message with {value}, {threshold} and the label values filled in."""
    shown = f"{value:.4g}" if isinstance(value, float) else value
    try:
        return message.format_map(_Labels(labels, value=shown, threshold=f"{threshold:g}"))
    except (ValueError, IndexError, AttributeError):
        return message


def silenced(silences, labels, now):
    """Whether one of the rule's silences covers this label set now."""
    return any(silence.matches(labels, now) for silence in silences)
