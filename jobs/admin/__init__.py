"""Django admin: operators read the platform's rows and act through permission-checked,
audited actions (cancel, retry, release); nobody edits a job row by hand.

One module per admin: `jobs` (jobs and their subtasks), `workers`, `audit` (the log of
every operator action); `records` holds what they share.
"""

from jobs import admin_users  # noqa: F401  (the user admin with "Send invitation")
from jobs.admin import audit, jobs, workers  # noqa: F401  (each registers its admin)
from jobs.admin.records import RecordAdmin, json_preview

__all__ = ["RecordAdmin", "json_preview"]
