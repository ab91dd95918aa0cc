"""The worker side of restarting a stuck consumer (monitoring.stuck.restart): one remote
control command that cancels and re-adds a worker's queues in a single step.

Two commands, cancel_consumer then add_consumer, do not do: the worker schedules each on
its event loop, whose ready callbacks are a set (kombu's Hub), so when both arrive in one
read the add can run first, find the queue still consumed and do nothing, and the cancel
then leaves the worker consuming nothing at all. RabbitMQ delivered them together often
enough to fail tests/integration/test_stuck_consumer.py under load. Imported by workers
through CELERY_IMPORTS.
"""

from celery.worker.control import control_command, ok

RESTART_CONSUMERS = "lepton_restart_consumers"


@control_command(name=RESTART_CONSUMERS, args=[("queues", list)], signature="<queue> [<queue> ...]")
def restart_consumers(state, queues, **kwargs):
    consumer = state.consumer

    def restart():
        for queue in queues:
            consumer.cancel_task_queue(queue)
            consumer.add_task_queue(queue)

    consumer.call_soon(restart)
    return ok(f"restarting the consumers of {', '.join(queues)}")
