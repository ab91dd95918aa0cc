"""The Celery worker settings both baselines (rawapp, peer) share with Lepton's workers.

json only, late acks, reject on worker lost, prefetch multiplier 1, events off, the
same Redis transport options; the harness checks at start-up that they still match
lepton/settings.py.
"""

import os

#: The bench's embedded Redis, a redis+socket:// URL (the harness sets it for every process).
BROKER_URL = os.environ["LEPTON_BROKER_URL"]

WORKER_SETTINGS = {
    "broker_url": BROKER_URL,
    "broker_connection_retry_on_startup": True,
    "broker_transport_options": {
        "priority_steps": [0, 3, 6, 9],
        "sep": ":",
        "queue_order_strategy": "priority",
        "visibility_timeout": 3600,
    },
    "task_serializer": "json",
    "result_serializer": "json",
    "accept_content": ["json"],
    "event_serializer": "json",
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "worker_send_task_events": False,
    "task_send_sent_event": False,
}

