"""The RQ jobs' dotted names, in one place.

Jobs are enqueued by name, as RQ recommends, so that the code that enqueues them
(routes, other jobs) never imports the job functions and what they pull in.
tests/test_job_names.py checks that every name resolves to a job in jobqueue.jobs.
"""

from __future__ import annotations

_JOBS = "jobqueue.jobs"
ENROLL_BATCH = f"{_JOBS}.enroll_batch"
ADVANCE_ENROLLMENTS = f"{_JOBS}.advance_enrollments"
ADVANCE_READY = f"{_JOBS}.advance_ready"
RESUME_ENROLLMENT = f"{_JOBS}.resume_enrollment"
DELIVER_MESSAGES = f"{_JOBS}.deliver_messages"
PROCESS_INBOUND = f"{_JOBS}.process_inbound"
PROCESS_INBOUND_PASS = f"{_JOBS}.process_inbound_pass"
RECONCILE = f"{_JOBS}.reconcile"
PRUNE_EXECUTION_LOGS = f"{_JOBS}.prune_execution_logs"
PUBLISH_WORKFLOW_STATS = f"{_JOBS}.publish_workflow_stats"
CONTACT_IMPORT = f"{_JOBS}.import_contacts"
SEND_OUTBOUND_REQUESTS = f"{_JOBS}.send_outbound_requests"
DELIVER_NOTIFICATION_TEXTS = f"{_JOBS}.deliver_notification_texts"
PLACE_CALLS = f"{_JOBS}.place_calls"
CHECK_CALLS = f"{_JOBS}.check_calls"
SEND_EMAILS = f"{_JOBS}.send_emails"
NOOP = f"{_JOBS}.noop"
