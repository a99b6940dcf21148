"""Scan photos in object storage and their retention (scanning.storage, scanning.tasks)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from booktrack.core.schedules import SCHEDULES
from scanning.storage import photo_load, photos_purge, photos_store
from scanning.tasks import PURGE_TASK_NAME, purge_scan_photos


def test_photos_are_stored_under_the_day_and_job_and_load_back(storage):
    stored = photos_store(
        job_id="job-a",
        photos=[(3, b"jpeg bytes", "image/jpeg"), (7, b"heic bytes", "image/heic")],
        now=datetime(2026, 12, 2, 10, tzinfo=UTC),
    )
    assert [p.key for p in stored] == ["scans/2026-12-02/job-a/photo-0.jpg", "scans/2026-12-02/job-a/photo-1.heic"]
    assert [(p.position, p.index, p.size) for p in stored] == [(0, 3, 10), (1, 7, 10)]
    assert photo_load(stored[1].key) == b"heic bytes"


def test_purge_deletes_only_days_older_than_the_retention(storage):
    for day in (1, 2, 3):
        photos_store(job_id=f"job-{day}", photos=[(0, b"x", "image/png")], now=datetime(2026, 9, day, tzinfo=UTC))
    (storage / "scans" / "not-a-day").mkdir()
    # 90 days before 2026-12-01 is 2026-09-02: the 1st is older, the 2nd and 3rd are kept.
    assert photos_purge(older_than_days=90, today=date(2026, 12, 1)) == 1
    assert sorted(p.name for p in (storage / "scans").iterdir()) == ["2026-09-02", "2026-09-03", "not-a-day"]
    assert photo_load("scans/2026-09-02/job-2/photo-0.png") == b"x"
    assert photos_purge(older_than_days=90, today=date(2026, 12, 1)) == 0


def test_purge_with_nothing_stored(storage):
    assert photos_purge(older_than_days=90) == 0


def test_purge_task_reads_the_setting_and_is_scheduled(storage, settings):
    photos_store(job_id="old", photos=[(0, b"x", "image/png")], now=datetime(2020, 1, 1, tzinfo=UTC))
    photos_store(job_id="new", photos=[(0, b"y", "image/png")])
    settings.SCAN_PHOTO_RETENTION_DAYS = 90
    assert purge_scan_photos() == 1
    settings.SCAN_PHOTO_RETENTION_DAYS = 0  # today's photos are not older than 0 days
    assert purge_scan_photos() == 0
    (schedule,) = [s for s in SCHEDULES if s.task == PURGE_TASK_NAME]
    assert schedule.queue == "maintenance"


def test_embedded_mode_purges_at_start(monkeypatch):
    from booktrack.celery import app
    from booktrack.core import embedded_worker

    sent: list[str] = []
    monkeypatch.setattr(app, "send_task", lambda name, kwargs=None, **kw: sent.append(name))
    embedded_worker.embedded_startup_tasks()
    assert PURGE_TASK_NAME in sent
