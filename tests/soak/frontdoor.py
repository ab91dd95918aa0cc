"""The soak's front door: a child process that submits, cancels and retries jobs.

The soak's own process never opens a Celery connection (in the test suite, the session
broker of tests/integration must be the first one this process connects to), so every
engine call that publishes runs here. One JSON request per stdin line, one JSON answer
per stdout line:

    {"op": "submit", "type": ..., "params": ..., "priority": ..., "user": ...}
        -> {"id": N} | {"rejected": errors} | {"refused": message} | {"error": text}
    {"op": "cancel", "job": N}  -> {"canceled": bool, "at": ISO time the job ended}
    {"op": "retry", "job": N}   -> {"retried": bool}

An error after the job's rows committed (the broker down while publishing) is answered
as {"error": ...}; the job exists and the reconciler sends its messages.
"""

import json
import os
import sys

import django


def main():
    # Django's and Celery's own output must not interleave with the answers.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lepton.settings")
    django.setup()
    from tests.soak.frontdoor_ops import handle

    for line in sys.stdin:
        answers.write(json.dumps(handle(json.loads(line))) + "\n")


if __name__ == "__main__":
    main()
