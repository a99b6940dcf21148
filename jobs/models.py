"""Jobs: state snapshot, ordered event log and per-item results (CONTRACT 5, 6).

The event log (`JobEvent`) is the source of truth a client replays from; the `Job` row is a throttled
snapshot of it (persisted every N updates or T seconds per pipeline, terminal states at once).
`JobItem` holds each finished item's result as soon as it finishes, which is what lets a redelivered
task resume without redoing work.
"""

from __future__ import annotations

import uuid

from django.db import models


class Pipeline(models.TextChoices):
    """The contract's pipeline names (CONTRACT 5); what each one is, its app registers (jobs.pipelines)."""

    AI_SCAN = "ai_scan", "AI bookshelf scan"
    CSV_IMPORT = "csv_import", "CSV import"
    BATCH_ENRICHMENT = "batch_enrichment", "Batch enrichment"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
TERMINAL_STATUSES = (JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELED)


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pipeline = models.CharField(max_length=32, choices=Pipeline.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    processed_count = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    status_message = models.CharField(max_length=500, blank=True, default="")
    current_item = models.CharField(max_length=500, blank=True, default="")
    # Only a SHA-256 of the token is stored; the raw token is shown to the client once.
    token_hash = models.CharField(max_length=64)
    token_expires_at = models.DateTimeField()
    # What the pipeline needs to (re)run the job: its task (jobs.pipelines) takes only the job id.
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_update = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    results = models.JSONField(null=True, blank=True)
    results_expire_at = models.DateTimeField(null=True, blank=True)
    # Times the watchdog sent the job to its task again after no worker ran it (jobs.services).
    requeue_count = models.PositiveSmallIntegerField(default=0)
    # Who started it (booktrack.core.quotas.client_key: a digest of the client address), for the cap
    # on active jobs per client; empty for jobs started by code (commands, tests, benchmarks).
    client_key = models.CharField(max_length=32, blank=True, default="")
    # Lease and fencing (jobs.leases, docs/jobs.md "Leases"). A run of the job holds the lease while it
    # works and renews it (heartbeat); for a queued job `lease_expires_at` is the dispatch deadline (not
    # picked up by then: sent again). `run_number` is the fencing number: each run takes a new one, and
    # every write of a run is conditional on it, so a run whose lease lapsed stops at its next write.
    run_number = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("pipeline", "status")),
            models.Index(fields=("client_key", "status"), name="jobs_job_client_status"),
            models.Index(fields=("status", "lease_expires_at"), name="jobs_job_status_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class JobEvent(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("job", "seq")
        constraints = [models.UniqueConstraint(fields=("job", "seq"), name="jobs_event_unique_seq")]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.seq} {self.type}"


class JobItem(models.Model):
    """One finished item of a job (book, row, photo): persisted the moment it finishes."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField()
    success = models.BooleanField()
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("job", "index")
        constraints = [models.UniqueConstraint(fields=("job", "index"), name="jobs_item_unique_index")]

    def __str__(self) -> str:
        return f"{self.job_id}[{self.index}] {'ok' if self.success else 'failed'}"
