"""Models of the harvest app.

Cover harvest (harvest.covers): `HarvestRun` keeps one run's real figures, `Cover` one ISBN's stored
cover (its resized variants live in object storage) or the fact that no source had one.
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
