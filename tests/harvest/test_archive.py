"""Archival (issue 12 item 4): finished jobs and cold catalog works move to object storage with an index
row each, are read back on demand (the results route), restored whole, and nothing is lost."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from harvest import archival
from harvest.archival import archive_find, archive_restore, archive_run
from harvest.models import ArchivedObject
from jobs.models import Job, JobEvent, JobItem
from jobs.reporter import JobProgressReporter
from jobs.services import job_create, jobs_cleanup_expired
from search.catalog import catalog_upsert_hits
from search.models import Author, Edition, Work
from tests.factories import job_complete, search_hit

pytestmark = pytest.mark.django_db

WORK = "OL893415W"
RESULTS = {"books": [{"title": "Dune", "success": True, "enriched": {"work": {"title": "Dune"}}}]}


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


def _finished_job(*, hours_ago: float, pipeline: str = "batch_enrichment") -> Job:
    """A job that completed `hours_ago` with one item, its token expired."""
    job, _token = job_create(pipeline=pipeline, total=1)
    JobProgressReporter(job_id=job.id).item_succeeded(index=0, result={"title": "Dune", "success": True})
    job_complete(job, results=RESULTS)
    ended = timezone.now() - timedelta(hours=hours_ago)
    Job.objects.filter(pk=job.pk).update(
        ended_at=ended, token_expires_at=ended, results_expire_at=ended + timedelta(hours=24)
    )
    job.refresh_from_db()
    return job


def test_a_finished_job_moves_to_storage_and_its_results_route_still_answers(storage):
    job = _finished_job(hours_ago=3)
    events = list(JobEvent.objects.filter(job=job).order_by("seq").values_list("type", flat=True))
    assert events and JobItem.objects.filter(job=job).count() == 1

    report = archive_run()

    assert (report.jobs, report.events, report.failed) == (1, len(events), ())
    job.refresh_from_db()
    assert job.results is None
    assert not JobEvent.objects.filter(job=job).exists() and not JobItem.objects.filter(job=job).exists()
    index = ArchivedObject.objects.get(kind="job", key=str(job.id))
    stored = (storage / index.path).read_bytes()
    assert index.size_bytes == len(stored) and index.item_count == len(events)
    assert index.retain_until == job.results_expire_at
    document = json.loads(gzip.decompress(stored))
    assert [e["fields"]["type"] for e in document["events"]] == events
    assert document["job"]["fields"]["results"] == RESULTS

    response = APIClient().get(f"/v1/enrichment/results/{job.id}")
    assert response.status_code == 200
    assert response.json()["data"] == RESULTS


def test_jobs_in_their_live_window_or_with_a_live_token_stay(storage):
    recent = _finished_job(hours_ago=1)
    live_token = _finished_job(hours_ago=5)
    Job.objects.filter(pk=live_token.pk).update(token_expires_at=timezone.now() + timedelta(minutes=20))
    running, _ = job_create(pipeline="batch_enrichment", total=3)
    Job.objects.filter(pk=running.pk).update(created_at=timezone.now() - timedelta(days=2))

    assert archive_run().jobs == 0
    for job in (recent, live_token):
        job.refresh_from_db()
        assert job.results == RESULTS
    assert not ArchivedObject.objects.exists()


def test_archival_is_idempotent_and_a_second_run_moves_nothing(storage):
    _finished_job(hours_ago=3)
    archive_run()

    again = archive_run()

    assert (again.jobs, again.bytes_written) == (0, 0)
    assert ArchivedObject.objects.count() == 1


def test_a_failed_write_deletes_nothing_and_the_next_run_archives_it(storage, monkeypatch):
    job = _finished_job(hours_ago=3)

    def broken(path, raw):
        raise OSError("storage is down")

    monkeypatch.setattr(archival, "_put", broken)
    report = archive_run()
    assert report.jobs == 0 and report.failed == (f"job:{job.pk}",)
    job.refresh_from_db()
    assert job.results == RESULTS and JobEvent.objects.filter(job=job).exists()
    assert not ArchivedObject.objects.exists()

    monkeypatch.undo()
    assert archive_run().jobs == 1


def test_an_object_that_reads_back_different_bytes_is_not_trusted(storage, monkeypatch):
    job = _finished_job(hours_ago=3)
    monkeypatch.setattr(archival, "_read_bytes", lambda path: b"something else")

    report = archive_run()

    assert report.failed == (f"job:{job.pk}",)
    job.refresh_from_db()
    assert job.results == RESULTS


def test_an_interrupted_run_is_finished_by_the_next(storage, monkeypatch):
    """The object was written but the process died before the rows went: the rerun overwrites it."""
    job = _finished_job(hours_ago=3)
    original = archival.ArchivedObject.objects.update_or_create

    def die(**kwargs):
        raise KeyboardInterrupt  # the worker was killed between the write and the delete

    monkeypatch.setattr(archival.ArchivedObject.objects, "update_or_create", die)
    with pytest.raises(KeyboardInterrupt):
        archive_run()
    monkeypatch.setattr(archival.ArchivedObject.objects, "update_or_create", original)
    assert JobEvent.objects.filter(job=job).exists()

    assert archive_run().jobs == 1
    assert APIClient().get(f"/v1/enrichment/results/{job.id}").json()["data"] == RESULTS
    assert len(list((storage / "archive" / "jobs").rglob("*.json.gz"))) == 1


def test_results_past_their_retention_are_not_served_but_stay_archived(storage):
    job = _finished_job(hours_ago=30)
    archive_run()

    assert APIClient().get(f"/v1/enrichment/results/{job.id}").status_code == 404
    jobs_cleanup_expired()
    assert not Job.objects.filter(pk=job.pk).exists()
    assert ArchivedObject.objects.filter(key=str(job.id)).exists()


def test_a_job_deleted_by_the_cleanup_is_restored_whole(storage):
    job = _finished_job(hours_ago=30)
    events = JobEvent.objects.filter(job=job).count()
    archive_run()
    jobs_cleanup_expired()

    written = archive_restore(obj=archive_find(ref=f"job:{job.id}"))

    assert written == 1 + events + 1
    restored = Job.objects.get(pk=job.pk)
    assert restored.results == RESULTS and restored.pipeline == "batch_enrichment"
    assert JobEvent.objects.filter(job=restored).count() == events
    assert JobItem.objects.get(job=restored).result == {"title": "Dune", "success": True}


def test_dry_run_counts_and_moves_nothing(storage):
    job = _finished_job(hours_ago=3)

    report = archive_run(dry_run=True)

    assert report.dry_run and report.jobs == 1 and report.events > 0
    job.refresh_from_db()
    assert job.results == RESULTS and not ArchivedObject.objects.exists()


# --- the catalog -------------------------------------------------------------------------------------------


def _catalog(*, days_ago: int) -> Work:
    catalog_upsert_hits(
        hits=[
            search_hit(
                "Dune",
                isbn="9780441172719",
                provider="google-books",
                authors=("Frank Herbert",),
                open_library_work_id=WORK,
            ),
            search_hit(
                "Dune",
                isbn="9780441013593",
                provider="google-books",
                authors=("Frank Herbert",),
                open_library_work_id=WORK,
            ),
        ]
    )
    then = timezone.now() - timedelta(days=days_ago)
    Work.objects.update(fetched_at=then)
    Edition.objects.update(fetched_at=then)
    return Work.objects.get()


def test_a_cold_catalog_work_moves_to_storage_and_is_restored_by_isbn(storage):
    work = _catalog(days_ago=120)
    records = {e.isbn13: e.record for e in Edition.objects.all()}

    report = archive_run()

    assert (report.catalog_works, report.editions) == (1, 2)
    assert not Work.objects.exists() and not Edition.objects.exists()
    assert Author.objects.filter(name="Frank Herbert").exists()  # shared: kept
    index = ArchivedObject.objects.get(kind="catalog")
    assert index.key == str(work.pk) and index.item_count == 2

    out = StringIO()
    call_command("archive", "--restore", "isbn:9780441013593", stdout=out)

    assert "restored 3 rows" in out.getvalue()
    assert {e.isbn13: e.record for e in Edition.objects.all()} == records
    assert list(Work.objects.get().authors.values_list("name", flat=True)) == ["Frank Herbert"]


def test_a_catalog_work_with_a_fresh_edition_is_not_cold(storage):
    _catalog(days_ago=120)
    Edition.objects.filter(isbn13="9780441013593").update(fetched_at=timezone.now())

    assert archive_run().catalog_works == 0
    assert Edition.objects.count() == 2


def test_the_catalog_cutoff_never_reaches_into_the_fresh_window(storage, settings):
    settings.SEARCH_CATALOG_FRESH_DAYS = 30
    _catalog(days_ago=20)

    assert archive_run(catalog_older_than_days=1).catalog_works == 0


# --- the command and the schedule --------------------------------------------------------------------------


def test_the_command_archives_with_its_own_window_and_shows_an_object(storage):
    job = _finished_job(hours_ago=1)
    out = StringIO()
    call_command("archive", "--older-than-hours", "2", "--dry-run", stdout=out)
    assert out.getvalue().startswith("due: 0 jobs")

    out = StringIO()
    call_command("archive", "--older-than-hours", "0", stdout=out)
    assert out.getvalue().startswith("archived: 1 jobs")

    out = StringIO()
    call_command("archive", "--show", f"job:{job.id}", stdout=out)
    assert json.loads(out.getvalue())["job"]["fields"]["results"] == RESULTS


def test_the_command_says_what_it_cannot_find(storage):
    with pytest.raises(CommandError, match="Nothing archived"):
        call_command("archive", "--show", "job:3f1e0f6e-0000-4000-8000-000000000000")
    with pytest.raises(CommandError, match="Unknown kind"):
        call_command("archive", "--restore", "photo:1")


def test_archival_is_scheduled_daily_at_two_utc():
    from django_celery_beat.models import PeriodicTask

    from booktrack.core.schedules import SCHEDULES, install_schedules

    [entry] = [s for s in SCHEDULES if s.task == "harvest.archive_cold_data"]
    assert (entry.minute, entry.hour, entry.queue) == ("0", "2", "maintenance")
    install_schedules()
    task = PeriodicTask.objects.get(task="harvest.archive_cold_data")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == ("2", "0", "UTC")


def test_an_unreadable_archive_answers_503_not_500(storage):
    job = _finished_job(hours_ago=3)
    archive_run()
    index = ArchivedObject.objects.get(kind="job")
    (storage / index.path).write_bytes(b"damaged")

    response = APIClient().get(f"/v1/enrichment/results/{job.id}")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "PROVIDER_UNAVAILABLE"


def test_the_cleanup_archives_a_job_the_daily_run_has_not_reached(storage, settings):
    settings.ARCHIVE_JOBS_BEFORE_CLEANUP = True
    job = _finished_job(hours_ago=25)  # ended just before a daily run's window, never archived
    events = JobEvent.objects.filter(job=job).count()

    assert jobs_cleanup_expired() == 1

    assert not Job.objects.filter(pk=job.pk).exists()
    index = ArchivedObject.objects.get(kind="job", key=str(job.id))
    assert index.item_count == events
    assert archival.archive_read(index)["job"]["fields"]["results"] == RESULTS


def test_the_cleanup_keeps_a_job_it_could_not_archive(storage, settings, monkeypatch):
    settings.ARCHIVE_JOBS_BEFORE_CLEANUP = True
    job = _finished_job(hours_ago=25)
    monkeypatch.setattr(archival, "_put", lambda path, raw: (_ for _ in ()).throw(OSError("storage is down")))

    assert jobs_cleanup_expired() == 0

    job.refresh_from_db()
    assert job.results == RESULTS and JobEvent.objects.filter(job=job).exists()
    monkeypatch.undo()
    assert jobs_cleanup_expired() == 1


def test_without_archiving_before_cleanup_the_cleanup_deletes_as_before(storage, settings):
    settings.ARCHIVE_JOBS_BEFORE_CLEANUP = False
    _finished_job(hours_ago=25)

    assert jobs_cleanup_expired() == 1
    assert not ArchivedObject.objects.exists()
