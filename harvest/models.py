"""Models of the harvest app.

Cover harvest (harvest.covers): `HarvestRun` keeps one run's real figures, `Cover` one ISBN's stored
cover (its resized variants live in object storage) or the fact that no source had one.

Operations data of the harvest app.

Cache warming (harvest.warming): `WarmingRun` is one upload (its id is the `jobId` the upload route
answers), `WarmingDeadLetter` a warm-up task that failed after its last retry, kept until an
operator requeues it. Archival (harvest.archival): `ArchivedObject` indexes every object moved to
object storage, so it can be found and read back.
"""

from __future__ import annotations

import uuid

from django.db import models

# --- cover harvest ----------------------------------------------------------------------------


class HarvestRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"


class HarvestTrigger(models.TextChoices):
    API = "api", "POST /api/harvest-covers"
    SCHEDULE = "schedule", "celery-beat"
    COMMAND = "command", "manage.py harvest_covers"
    ADMIN = "admin", "the harvest dashboard"


class HarvestStopReason(models.TextChoices):
    NONE = "", "Every candidate tried"
    LIMIT = "limit", "Run limit reached"
    BUDGET = "budget", "Daily budget spent"
    ERROR = "error", "Error"


class HarvestRun(models.Model):
    """One harvest: what it tried, stored, skipped and failed, per source, and what it cost."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=16, choices=HarvestRunStatus.choices, default=HarvestRunStatus.QUEUED, db_index=True
    )
    trigger = models.CharField(max_length=16, choices=HarvestTrigger.choices)
    limit = models.PositiveIntegerField(help_text="most ISBNs this run tries")
    stop_reason = models.CharField(max_length=16, choices=HarvestStopReason.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="last progress written")
    candidates = models.PositiveIntegerField(default=0, help_text="ISBNs in demand without a stored cover")
    tried = models.PositiveIntegerField(default=0, help_text="ISBNs asked of at least one source")
    stored = models.PositiveIntegerField(default=0, help_text="ISBNs whose cover was stored")
    skipped = models.PositiveIntegerField(default=0, help_text="ISBNs in demand already stored (or known missing)")
    failed = models.PositiveIntegerField(default=0, help_text="ISBNs left without a cover because a source failed")
    missing = models.PositiveIntegerField(default=0, help_text="ISBNs no source has a cover for")
    bytes_stored = models.BigIntegerField(default=0, help_text="bytes written to object storage (all sizes)")
    budget_used = models.PositiveIntegerField(default=0, help_text="upstream calls made (retries included)")
    budget_limit = models.PositiveIntegerField(default=0, help_text="the daily budget when the run started")
    sources = models.JSONField(
        default=dict, blank=True, help_text="per source: {tried, stored, notFound, failed, bytes}"
    )
    last_isbn = models.CharField(max_length=13, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"harvest {self.id} ({self.status})"


class CoverStatus(models.TextChoices):
    STORED = "stored", "Stored"
    MISSING = "missing", "No source has one"


class Cover(models.Model):
    """One ISBN's harvested cover: where each size is stored, or that no source had a cover."""

    isbn13 = models.CharField(max_length=13, unique=True)
    status = models.CharField(max_length=16, choices=CoverStatus.choices, db_index=True)
    source = models.CharField(max_length=32, blank=True, default="", db_index=True)
    source_url = models.URLField(max_length=1000, blank=True, default="")
    # size -> {key, bytes, width, height, contentType, etag}
    variants = models.JSONField(default=dict, blank=True)
    bytes_total = models.BigIntegerField(default=0)
    run = models.ForeignKey(HarvestRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="covers")
    checked_at = models.DateTimeField(db_index=True, help_text="when the sources were last asked")

    class Meta:
        ordering = ("-checked_at",)

    def __str__(self) -> str:
        return f"{self.isbn13} ({self.status})"


class WarmingRun(models.Model):
    """One warming upload: the authors it queued and what became of their tasks (counted by the tasks)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    max_depth = models.PositiveSmallIntegerField(default=1)
    authors_queued = models.PositiveIntegerField(default=0, help_text="authors of the upload (depth 1)")
    coauthors_queued = models.PositiveIntegerField(default=0, help_text="co-authors followed (depth 2-3)")
    warmed = models.PositiveIntegerField(default=0)
    dead_lettered = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"warming {self.id} ({self.authors_queued} authors)"


class WarmingDeadLetter(models.Model):
    """A warm-up task that failed after its last retry. Requeueing deletes the row and sends the task again."""

    run = models.ForeignKey(WarmingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="dead_letters")
    author = models.CharField(max_length=300)
    depth = models.PositiveSmallIntegerField(default=1, help_text="1 = named in the upload, 2-3 = co-author")
    max_depth = models.PositiveSmallIntegerField(default=1)
    error = models.TextField()
    attempts = models.PositiveIntegerField(help_text="deliveries tried, over every requeue")
    task_id = models.CharField(max_length=64, unique=True, help_text="the failed Celery task (one row per task)")
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("failed_at", "id")
        verbose_name = "warming dead letter"

    def __str__(self) -> str:
        return f"{self.author}: {self.error[:60]}"


class ArchivedObject(models.Model):
    """One object in the archive (object storage, gzip JSON): what it holds and where."""

    class Kind(models.TextChoices):
        JOB = "job", "Job results and event log"
        CATALOG = "catalog", "Catalog work with its editions"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="the job id, or the catalog work's id")
    path = models.CharField(max_length=500, unique=True, help_text="the object's name in storage")
    sha256 = models.CharField(max_length=64, help_text="of the stored (gzip) bytes")
    size_bytes = models.PositiveIntegerField()
    item_count = models.PositiveIntegerField(default=0, help_text="events, or editions")
    isbns = models.TextField(blank=True, default="", help_text="catalog: its ISBN-13s, as ',isbn,isbn,'")
    retain_until = models.DateTimeField(
        null=True, blank=True, help_text="jobs: until when the results route still answers from the archive"
    )
    archived_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-archived_at",)
        constraints = [models.UniqueConstraint(fields=("kind", "key"), name="harvest_archive_unique_kind_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
