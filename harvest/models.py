"""Operations data of the harvest app.

Cache warming (harvest.warming): `WarmingRun` is one upload (its id is the `jobId` the upload route
answers), `WarmingDeadLetter` a warm-up task that failed after its last retry, kept until an
operator requeues it. Archival (harvest.archival): `ArchivedObject` indexes every object moved to
object storage, so it can be found and read back.
"""

from __future__ import annotations

import uuid

from django.db import models


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
