"""Scan photos in object storage (Django's default storage: local files in embedded mode, S3/R2 through
django-storages when `AWS_STORAGE_BUCKET_NAME` is set).

Keys: `scans/<YYYY-MM-DD>/<job id>/photo-<position>.<ext>`, the day the photo was received (UTC). The
worker, maybe on another machine, loads them by the keys the job's params hold. `photos_purge` deletes
every day folder older than `SCAN_PHOTO_RETENTION_DAYS` (celery-beat, daily), listing only the day
folders, never each object's age.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

logger = logging.getLogger(__name__)

PREFIX = "scans"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}


@dataclass(frozen=True)
class StoredPhoto:
    """One photo of a job: its position in the job, the index the client gave it, where it is stored."""

    position: int
    index: int
    key: str
    mime_type: str
    size: int

    def to_params(self) -> dict[str, object]:
        return {
            "position": self.position,
            "index": self.index,
            "key": self.key,
            "mimeType": self.mime_type,
            "bytes": self.size,
        }

    @classmethod
    def from_params(cls, value: dict, *, position: int) -> StoredPhoto:
        return cls(
            position=int(value.get("position", position)),
            index=int(value.get("index", position)),
            key=str(value.get("key") or ""),
            mime_type=str(value.get("mimeType") or ""),
            size=int(value.get("bytes") or 0),
        )


def photo_key(*, job_id: str, position: int, mime_type: str, day: date) -> str:
    ext = EXTENSIONS.get(mime_type, "img")
    return f"{PREFIX}/{day.isoformat()}/{job_id}/photo-{position}.{ext}"


def photos_store(
    *, job_id: str, photos: Sequence[tuple[int, bytes, str]], now: datetime | None = None
) -> list[StoredPhoto]:
    """Store each `(client index, bytes, true mime type)` under the job's prefix, in order."""
    day = (now or timezone.now()).date()
    stored = []
    for position, (index, data, mime_type) in enumerate(photos):
        key = photo_key(job_id=job_id, position=position, mime_type=mime_type, day=day)
        saved = default_storage.save(key, ContentFile(data))
        stored.append(StoredPhoto(position=position, index=index, key=saved, mime_type=mime_type, size=len(data)))
    return stored


def photo_load(key: str) -> bytes:
    """The stored bytes; FileNotFoundError when the photo is gone (purged, never stored)."""
    if not key or not default_storage.exists(key):
        raise FileNotFoundError(key)
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def photos_delete(keys: Sequence[str]) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except Exception:
            logger.warning("could not delete the scan photo %s", key, exc_info=True)


def _tree_delete(folder: str) -> int:
    """Delete every file under `folder`; returns how many. Empty local folders are removed too."""
    dirs, files = default_storage.listdir(folder)
    deleted = 0
    for name in files:
        default_storage.delete(f"{folder}/{name}")
        deleted += 1
    for name in dirs:
        deleted += _tree_delete(f"{folder}/{name}")
    try:
        default_storage.delete(folder)  # FileSystemStorage removes an empty directory; S3 has none
    except OSError:
        pass
    return deleted


def photos_purge(*, older_than_days: int, today: date | None = None) -> int:
    """Delete the photos of every day before `today - older_than_days`; returns the files deleted."""
    today = today or timezone.now().date()
    cutoff = today - timedelta(days=older_than_days)
    try:
        days, _ = default_storage.listdir(PREFIX)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in sorted(days):
        try:
            day = date.fromisoformat(name)
        except ValueError:
            continue  # not ours
        if day < cutoff:
            deleted += _tree_delete(f"{PREFIX}/{name}")
    if deleted:
        logger.info("scan photos: deleted %s files older than %s days", deleted, older_than_days)
    return deleted
