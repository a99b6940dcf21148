"""Cover harvest (harvest.covers) against the local fakes: sources in order, real figures, budget,
storage, demand, idempotence, the task, the schedule and the command."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from booktrack.core.exceptions import Conflict
from booktrack.core.schedules import SCHEDULES
from harvest.cover_demand import covers_demand, isbns_in_result, ranked_job_isbns
from harvest.covers import covers_harvest, covers_harvest_create, covers_harvest_start
from harvest.models import Cover, CoverStatus, HarvestRun, HarvestRunStatus
from jobs.models import Job, JobItem

pytestmark = pytest.mark.django_db(transaction=True)

ISBNDB_BOOK = "9780374104092"  # in every fake upstream (goi)
GOOGLE_ONLY = "9780593201732"  # Google Books only (g)
OPENLIBRARY_ISBNDB = "9780261103252"  # OpenLibrary and ISBNdb (oi), no OpenLibrary cover
WITH_OPENLIBRARY_COVER = "9780140328721"  # in every fake, with an OpenLibrary cover
NOWHERE = "9780000000002"  # a valid ISBN no upstream knows


def run_harvest(limit: int = 100):
    run = covers_harvest_create(trigger="command", limit=limit)
    return covers_harvest(run_id=str(run.id))


def upstream_calls(fake) -> int:
    """Every request any fake upstream received."""
    return sum(fake.counts().values())


def stored_image(isbn13: str, size: str) -> Image.Image:
    cover = Cover.objects.get(isbn13=isbn13)
    with default_storage.open(cover.variants[size]["key"], "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def test_isbndb_is_asked_first_and_every_size_is_stored(harvest_env, catalog_editions):
    catalog_editions(ISBNDB_BOOK)
    state = run_harvest()
    assert state.status == "complete" and state.stop_reason is None
    assert (state.tried, state.stored, state.failed, state.missing) == (1, 1, 0, 0)
    assert state.sources["isbndb"] == {"tried": 1, "stored": 1, "notFound": 0, "failed": 0, "bytes": state.bytes_stored}
    assert "google-books" not in state.sources  # found at the first source: nobody else asked
    assert harvest_env.count("GET /isbndb/book/") == 1 and harvest_env.count("GET /isbndb-images/") == 1
    assert harvest_env.count("GET /google") == 0 and harvest_env.count("GET /covers/") == 0
    # The ISBNdb fake serves 500x750: every size is shrunk for real (longest edge 640, 320, 128).
    assert stored_image(ISBNDB_BOOK, "large").size == (427, 640)
    assert stored_image(ISBNDB_BOOK, "medium").size == (213, 320)
    assert stored_image(ISBNDB_BOOK, "small").size == (85, 128)
    cover = Cover.objects.get(isbn13=ISBNDB_BOOK)
    assert cover.source == "isbndb" and cover.source_url.startswith("https://images.isbndb.com/covers/")
    assert cover.bytes_total == state.bytes_stored == sum(v["bytes"] for v in cover.variants.values()) > 0
    # Budget: every upstream request counted, no more, no less.
    assert state.budget_used == upstream_calls(harvest_env) == 2


def test_google_books_when_isbndb_has_no_such_book(harvest_env, catalog_editions):
    catalog_editions(GOOGLE_ONLY)
    state = run_harvest()
    cover = Cover.objects.get(isbn13=GOOGLE_ONLY)
    assert cover.source == "google-books" and state.stored == 1
    assert state.sources["isbndb"] == {"tried": 1, "stored": 0, "notFound": 1, "failed": 0, "bytes": 0}
    assert state.sources["google-books"] == {
        "tried": 1,
        "stored": 1,
        "notFound": 0,
        "failed": 0,
        "bytes": cover.bytes_total,
    }
    assert "openlibrary" not in state.sources
    assert stored_image(GOOGLE_ONLY, "large").size == (128, 192)  # Google's thumbnail: never enlarged
    assert state.budget_used == upstream_calls(harvest_env) == 3


def test_openlibrary_covers_when_the_others_have_no_image(harvest_env, catalog_editions):
    catalog_editions(WITH_OPENLIBRARY_COVER)
    harvest_env.configure("isbndb-images", status=404)
    harvest_env.configure("google-covers", status=404)
    state = run_harvest()
    assert Cover.objects.get(isbn13=WITH_OPENLIBRARY_COVER).source == "openlibrary"
    assert [state.sources[s]["notFound"] for s in ("isbndb", "google-books")] == [1, 1]
    assert state.sources["openlibrary"]["stored"] == 1
    assert stored_image(WITH_OPENLIBRARY_COVER, "large").size == (400, 600)  # OpenLibrary's -L size
    asked = harvest_env.requests("covers")[0]
    assert asked["path"] == f"/covers/b/isbn/{WITH_OPENLIBRARY_COVER}-L.jpg" and asked["query"]["default"] == ["false"]
    assert state.budget_used == upstream_calls(harvest_env) == 5


def test_a_failing_source_is_counted_and_the_next_one_asked(harvest_env, catalog_editions, settings):
    settings.OUTBOUND_HTTP = {**settings.OUTBOUND_HTTP, "MAX_RETRIES": 0}
    catalog_editions(ISBNDB_BOOK)
    harvest_env.configure("isbndb", status=500)
    state = run_harvest()
    assert state.sources["isbndb"]["failed"] == 1
    assert state.sources["google-books"]["stored"] == 1
    assert (state.stored, state.failed) == (1, 0)  # the ISBN got its cover after all


def test_no_cover_anywhere_is_missing_and_not_asked_again_soon(harvest_env, catalog_editions):
    catalog_editions(NOWHERE)
    first = run_harvest()
    assert (first.tried, first.missing, first.stored) == (1, 1, 0)
    assert Cover.objects.get(isbn13=NOWHERE).status == CoverStatus.MISSING
    calls = upstream_calls(harvest_env)
    second = run_harvest()
    assert (second.tried, second.skipped) == (0, 1)
    assert upstream_calls(harvest_env) == calls
    # After HARVEST_MISSING_RETRY_DAYS it is asked again.
    Cover.objects.filter(isbn13=NOWHERE).update(checked_at=timezone.now() - timedelta(days=31))
    assert run_harvest().tried == 1


def test_errors_leave_the_isbn_for_the_next_run(harvest_env, catalog_editions, settings):
    settings.OUTBOUND_HTTP = {**settings.OUTBOUND_HTTP, "MAX_RETRIES": 0}
    catalog_editions(NOWHERE)
    harvest_env.configure("all", status=503)
    state = run_harvest()
    assert (state.failed, state.missing) == (1, 0)
    assert not Cover.objects.filter(isbn13=NOWHERE).exists()
    harvest_env.reset()
    assert run_harvest().missing == 1


def test_stored_covers_are_skipped(harvest_env, catalog_editions):
    catalog_editions(ISBNDB_BOOK, GOOGLE_ONLY)
    run_harvest()
    calls = upstream_calls(harvest_env)
    again = run_harvest()
    assert (again.tried, again.skipped, again.stored) == (0, 2, 0)
    assert again.budget_used == 0 and upstream_calls(harvest_env) == calls


def test_the_daily_budget_stops_the_run_at_exactly_its_calls(harvest_env, catalog_editions, settings):
    settings.HARVEST_DAILY_BUDGET = 3
    catalog_editions(ISBNDB_BOOK, "9780140328721", "9780142410349")
    first = run_harvest()
    assert first.stop_reason == "budget" and first.status == "complete"
    assert first.budget_used == 3 == upstream_calls(harvest_env)
    assert first.stored == 1  # 2 calls: lookup + image; the third ISBN's lookup was the last call
    # The day's budget is spent: the next run makes no call at all.
    second = run_harvest()
    assert second.stop_reason == "budget" and second.budget_used == 0
    assert upstream_calls(harvest_env) == 3


def test_the_limit_caps_the_isbns_tried(harvest_env, catalog_editions):
    catalog_editions(ISBNDB_BOOK, "9780140328721", "9780142410349")
    state = run_harvest(limit=2)
    assert (state.tried, state.stored, state.stop_reason) == (2, 2, "limit")
    assert run_harvest(limit=5).stop_reason is None


def test_a_catalog_cover_url_on_a_source_host_saves_the_lookup(harvest_env, catalog_editions):
    catalog_editions(
        GOOGLE_ONLY, cover_url="https://books.google.com/books/content?id=FakeDuneGB&printsec=frontcover&img=1&zoom=1"
    )
    state = run_harvest()
    assert state.stored == 1 and Cover.objects.get(isbn13=GOOGLE_ONLY).source == "google-books"
    assert harvest_env.count("GET /google/") == 0 and harvest_env.count("GET /google-covers/") == 1


def test_demand_puts_imported_books_first_most_named_first(harvest_env, catalog_editions):
    catalog_editions(ISBNDB_BOOK, GOOGLE_ONLY)
    job = Job.objects.create(pipeline="csv_import", token_hash="x", token_expires_at=timezone.now())
    rows = [{"isbn13": OPENLIBRARY_ISBNDB}, {"isbn": "0261103253"}, {"isbn13": GOOGLE_ONLY}, {"title": "no isbn"}]
    for index, result in enumerate(rows):
        JobItem.objects.create(job=job, index=index, success=True, result=result)
    demand = covers_demand(now=timezone.now(), limit=10)
    # 0261103253 is OPENLIBRARY_ISBNDB's ISBN-10: named twice.
    assert demand.candidates == (OPENLIBRARY_ISBNDB, GOOGLE_ONLY, ISBNDB_BOOK)
    assert covers_demand(now=timezone.now(), limit=1).more is True


def test_isbns_in_job_results_pure():
    assert isbns_in_result({"isbn": "0-261-10325-3", "edition": {"isbn": "9780261103252"}}) == ["9780261103252"]
    assert isbns_in_result({"enriched": {"edition": {"isbn": "9780374104092"}}}) == ["9780374104092"]
    assert isbns_in_result({"isbn13": "123"}) == [] and isbns_in_result(None) == []
    assert ranked_job_isbns([{"isbn13": "9780374104092"}, {"isbn13": "9780261103252"}, {"isbn": "9780261103252"}]) == [
        "9780261103252",
        "9780374104092",
    ]


def test_one_run_at_a_time_and_a_dead_one_is_failed(harvest_env):
    run = covers_harvest_create(trigger="api", limit=10)
    with pytest.raises(Conflict) as caught:
        covers_harvest_create(trigger="api", limit=10)
    assert caught.value.details == {"runId": str(run.id)}
    HarvestRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=1))
    second = covers_harvest_create(trigger="api", limit=10)
    run.refresh_from_db()
    assert run.status == HarvestRunStatus.FAILED and second.status == HarvestRunStatus.QUEUED


def test_a_finished_run_delivered_again_does_nothing(harvest_env, catalog_editions):
    catalog_editions(ISBNDB_BOOK)
    run = covers_harvest_create(trigger="api", limit=10)
    first = covers_harvest(run_id=str(run.id))
    calls = upstream_calls(harvest_env)
    again = covers_harvest(run_id=str(run.id))
    assert again == first and upstream_calls(harvest_env) == calls


def test_start_queues_the_task_which_runs_it(harvest_env, catalog_editions):
    catalog_editions(ISBNDB_BOOK)
    run = covers_harvest_start(trigger="api", limit=5)  # Celery eager (search_state)
    run.refresh_from_db()
    assert run.status == HarvestRunStatus.COMPLETE and run.stored == 1


def test_the_schedule_runs_the_harvest_at_three_utc_on_maintenance():
    entry = next(s for s in SCHEDULES if s.task == "harvest.scheduled_cover_harvest")
    assert (entry.minute, entry.hour, entry.queue) == ("0", "3", "maintenance")
    from booktrack.celery import app

    assert "harvest.scheduled_cover_harvest" in app.tasks and "harvest.run_cover_harvest" in app.tasks
    assert app.amqp.router.route({}, "harvest.run_cover_harvest")["queue"].name == "maintenance"


def test_the_command_runs_a_harvest_with_its_limit(harvest_env, catalog_editions):
    catalog_editions(ISBNDB_BOOK, GOOGLE_ONLY, OPENLIBRARY_ISBNDB)
    out, err = io.StringIO(), io.StringIO()
    call_command("harvest_covers", "--limit", "2", stdout=out, stderr=err)
    run = HarvestRun.objects.get()
    assert (run.trigger, run.tried, run.stored, run.stop_reason) == ("command", 2, 2, "limit")
    assert f"harvest run {run.id}" in out.getvalue() and "stored 2" in out.getvalue()
    assert "2/2" in err.getvalue()  # the progress bar


def test_retries_count_against_the_budget_as_the_calls_they_are(harvest_env, catalog_editions, sleeps):
    catalog_editions(ISBNDB_BOOK)
    harvest_env.configure("isbndb", status=503, times=1)  # the first lookup fails, its retry succeeds
    state = run_harvest()
    assert state.stored == 1 and sleeps  # the client retried
    assert harvest_env.count("GET /isbndb/book/") == 2
    assert state.budget_used == upstream_calls(harvest_env) == 3
