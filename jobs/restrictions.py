"""Job types only some users may run (LEPTON_RESTRICTED_JOB_TYPES, issue 9.5).

`diagnostic` sleeps for minutes, creates up to 100,000 subtasks and injects faults: an
operator's tool, not a user's. Restricted types need the `jobs.submit_restricted_job`
permission; staff users (and superusers, who hold every permission) have it by default.
submit_job enforces this, so the API, the CLI and the web form all refuse alike.
"""

from django.conf import settings

PERMISSION = "jobs.submit_restricted_job"


def is_restricted(type_name):
    return type_name in settings.LEPTON_RESTRICTED_JOB_TYPES


def may_submit(user, type_name):
    """Whether `user` may submit jobs of the type called `type_name`."""
    return not is_restricted(type_name) or user.is_staff or user.has_perm(PERMISSION)
