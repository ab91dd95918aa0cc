"""Routing, priority lanes and the dispatch window, observed in a real broker.

Jobs here are routed (LEPTON_ROUTES) to a queue no session worker consumes, so their
messages stay in the broker until the test starts a worker for it.
"""

import time

import pytest

from jobs.models import Job, Priority, Subtask
from jobs.routing import MESSAGE_PRIORITY
from tests.integration.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARKED = "parked"


@pytest.fixture
def parked(settings, broker):
    settings.LEPTON_QUEUES = [*settings.LEPTON_QUEUES, PARKED]
    settings.LEPTON_ROUTES = {"diagnostic": PARKED}
    yield
    broker.purge(PARKED)


@pytest.fixture
def start_parked_worker(platform, settings):
    started = []

    def start():
        queues = ",".join(settings.LEPTON_QUEUES)
        worker = platform.add_worker("parked", queues=[PARKED], concurrency=1, LEPTON_QUEUES=queues)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        platform.services.remove(worker)
        worker.stop()


def submit(api, params, priority="normal"):
    response = api.post("/api/jobs/", {"type": "diagnostic", "params": params, "priority": priority}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def waiting(broker):
    """{priority: messages of that priority waiting on the parked queue}."""
    levels = [message.priority for message in broker.messages(PARKED)]
    return {priority: levels.count(level) for priority, level in MESSAGE_PRIORITY.items()}


def test_a_job_lands_on_its_routed_queue_in_its_priority_list(parked, platform, broker, api):
    normal = submit(api, {"subtasks": 3})
    high = submit(api, {"subtasks": 1}, priority="high")
    low = submit(api, {"subtasks": 2}, priority="low")

    assert (normal["queue"], high["queue"], low["queue"]) == (PARKED, PARKED, PARKED)
    assert waiting(broker) == {Priority.HIGH: 1, Priority.NORMAL: 3, Priority.LOW: 2}
    time.sleep(1.0)  # no session worker consumes the parked queue
    assert not Subtask.objects.exclude(status="queued").exists()


def test_a_worker_takes_high_priority_work_before_normal_work(parked, platform, broker, api, start_parked_worker):
    normals = [submit(api, {"subtasks": 1}) for _ in range(6)]
    high = submit(api, {"subtasks": 1}, priority="high")
    start_parked_worker()

    jobs = {job["id"]: wait_for_job(job["id"]) for job in [*normals, high]}
    first = min(jobs.values(), key=lambda job: job.started_at)
    assert first.pk == high["id"]
    assert {job.subtasks.get().worker for job in jobs.values()} == {"parked@lepton-test"}


def test_a_job_never_has_more_than_its_window_in_the_broker(parked, platform, broker, api, settings, start_parked_worker):
    settings.LEPTON_JOB_WINDOW = 3
    job = submit(api, {"subtasks": 400})
    assert waiting(broker)[Priority.NORMAL] == 3
    assert Subtask.objects.filter(job_id=job["id"], status="pending").count() == 397

    start_parked_worker()
    most_waiting = 0
    while not Job.objects.get(pk=job["id"]).is_final:
        most_waiting = max(most_waiting, broker.depth(PARKED))
        time.sleep(0.005)
    job = Job.objects.get(pk=job["id"])
    assert job.status == "succeeded" and job.done == 400
    assert 1 <= most_waiting <= 3
    assert job.batch > 1, "short subtasks should have shared messages"


def test_load_is_visible_per_queue_in_the_broker_and_in_the_rows(parked, platform, broker, owner, settings):
    from jobs.load import broker_depths, outstanding_by_queue
    from jobs.submit import submit_job

    settings.LEPTON_JOB_WINDOW = 4
    submit_job(owner, "diagnostic", {"subtasks": 10})
    submit_job(owner, "diagnostic", {"subtasks": 2}, priority="high")

    assert broker_depths()[PARKED] == 6, "a window of 4 messages, and 2 high-priority ones"
    assert outstanding_by_queue()[PARKED] == {"jobs": 2, "subtasks": 12}
