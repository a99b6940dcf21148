"""Leases, heartbeat and fencing (jobs.leases): a lapsed lease sends the job again, a stale run stops at
its next write, a job whose publish failed after commit is picked up, a database outage is retried."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from rest_framework.test import APIClient

from booktrack.core.schedules import SCHEDULES, install_schedules
from enrichment.batch import BookRequest, EnrichedBook, batch_enrichment_execute
from enrichment.tasks import run_batch_enrichment
from jobs.leases import (
    MAX_LEASE_LAPSES,
    LeaseHeartbeat,
    StaleRun,
    job_run,
    lease_acquire,
    leases_check,
)
from jobs.models import Job, JobEvent, JobItem, JobStatus
from jobs.pipelines import pipeline_get
from jobs.reporter import ItemOutcome, JobProgressReporter
from jobs.services import job_create


@pytest.fixture
def sent(monkeypatch):
    """Job ids handed to the broker through the batch pipeline's task."""
    messages: list[str] = []
    task = pipeline_get("batch_enrichment").task
    monkeypatch.setattr(task, "delay", lambda job_id, **kw: messages.append(job_id))
    return messages


def _lapse(job: Job, seconds: float = 1) -> None:
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=seconds))


def test_a_run_takes_the_lease_with_a_new_fencing_number_and_a_duplicate_delivery_does_not(make_job, settings):
    settings.JOB_LEASE_SECONDS = 30
    job, _ = make_job()
    run = lease_acquire(job_id=job.id, owner="worker-a")
    assert run is not None and run.run_number == 1
    job.refresh_from_db()
    assert job.lease_owner == "worker-a"
    assert 25 < (job.lease_expires_at - timezone.now()).total_seconds() <= 30
    # The broker hands the same job out again (RabbitMQ after a lost connection, Redis after its
    # visibility timeout) while the first run is alive: it is not run twice.
    assert lease_acquire(job_id=job.id, owner="worker-b") is None
    # Once that lease lapses (worker dead), the next delivery takes over with a newer number.
    _lapse(job)
    second = lease_acquire(job_id=job.id, owner="worker-b")
    assert second is not None and second.run_number == 2


def test_lease_check_resends_a_job_whose_lease_lapsed_and_only_then(make_job, sent, django_capture_on_commit_callbacks):
    job, _ = make_job()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    run = lease_acquire(job_id=job.id, owner="worker-a")
    with django_capture_on_commit_callbacks(execute=True):
        assert leases_check().resumed == []  # the lease is live: the worker is renewing it
    assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        outcome = leases_check(now=timezone.now() + timedelta(seconds=31))  # no renewal for 31 s
    assert outcome.resumed == [str(job.id)] and sent == [str(job.id)]
    job.refresh_from_db()
    assert job.run_number == run.run_number + 1 and job.lease_owner == "" and job.requeue_count == 1
    # Sent once: a second check (another worker's timer) does not send it again.
    with django_capture_on_commit_callbacks(execute=True):
        assert leases_check(now=timezone.now() + timedelta(seconds=31)).resumed == []
    assert sent == [str(job.id)]


def test_a_stale_run_stops_at_its_next_write_and_writes_nothing(make_job, sent):
    job, _ = make_job(total=4)
    stale_run = lease_acquire(job_id=job.id, owner="worker-a")
    stale = JobProgressReporter(job_id=job.id, run=stale_run)
    stale.started(total=4)
    stale.item_succeeded(index=0, result={"title": "0"})
    stale.progress(processed=1, status="1 of 4")
    # worker-a freezes (GC pause, partition); its lease lapses and another worker takes the job.
    _lapse(job)
    leases_check()
    fresh_run = lease_acquire(job_id=job.id, owner="worker-b")
    assert fresh_run is not None and fresh_run.run_number > stale_run.run_number
    fresh = JobProgressReporter(job_id=job.id, run=fresh_run)
    fresh.started(total=4)
    fresh.item_succeeded(index=1, result={"title": "1 by b"})
    events_before = JobEvent.objects.filter(job=job).count()
    # worker-a wakes up: each of its writes is refused, and it learns so at once.
    with pytest.raises(StaleRun):
        stale.item_succeeded(index=2, result={"title": "2 by a"})
    with pytest.raises(StaleRun):
        stale.progress(processed=2, status="2 of 4")
    with pytest.raises(StaleRun):
        stale.is_canceled()  # checked before each new item: the stale run starts nothing new
    with pytest.raises(StaleRun):
        stale.fail(code="INTERNAL_ERROR", message="boom")
    assert JobEvent.objects.filter(job=job).count() == events_before
    assert sorted(JobItem.objects.filter(job=job).values_list("index", flat=True)) == [0, 1]
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    fresh.items_finished(outcomes=[ItemOutcome(index=2, success=True, result={}), ItemOutcome(3, True, {})])
    assert JobItem.objects.filter(job=job).count() == 4


@pytest.mark.django_db(transaction=True)
def test_heartbeat_renews_the_lease_and_flags_a_run_that_lost_it(settings):
    settings.JOB_LEASE_SECONDS = 30
    job, _ = job_create(pipeline="batch_enrichment", total=1)
    run = lease_acquire(job_id=job.id, owner="worker-a")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    beat = LeaseHeartbeat(run, every=0.05)
    beat.start()
    try:
        deadline = time.monotonic() + 5
        while Job.objects.get(pk=job.pk).lease_expires_at < timezone.now() + timedelta(seconds=25):
            assert time.monotonic() < deadline, "the heartbeat never renewed the lease"
            time.sleep(0.02)
        assert not run.lost.is_set()
        Job.objects.filter(pk=job.pk).update(run_number=run.run_number + 1)  # a lease check took the job
        beat.join(timeout=5)
        assert not beat.is_alive() and run.lost.is_set()
    finally:
        beat.stop()
    with pytest.raises(StaleRun):
        JobProgressReporter(job_id=job.id, run=run).is_canceled()


def test_a_job_whose_runs_keep_dying_fails_with_a_retryable_error(make_job, sent):
    job, _ = make_job()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    for _ in range(MAX_LEASE_LAPSES):
        assert lease_acquire(job_id=job.id, owner="crashing") is not None
        _lapse(job)
        assert leases_check().resumed == [str(job.id)]
    assert lease_acquire(job_id=job.id, owner="crashing") is not None
    _lapse(job)
    outcome = leases_check()
    assert outcome.failed == [str(job.id)] and outcome.resumed == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    error = JobEvent.objects.filter(job=job).order_by("-seq").first()
    assert error.type == "error" and error.payload["retryable"] is True


@pytest.mark.django_db(transaction=True)
def test_publish_failure_after_commit_answers_202_and_the_lease_check_sends_the_job(settings):
    """The orphan: the job row committed, the publish failed. Before: 500, and a retry with the same
    jobId got 409, so the job never ran. Now: 202 (the job is saved) and the lease check sends it."""
    settings.JOB_ORPHAN_GRACE_SECONDS = 10
    job_id = str(uuid.uuid4())
    body = {"jobId": job_id, "books": [{"title": "Dune", "author": "Frank Herbert"}]}
    with mock.patch.object(run_batch_enrichment, "delay", side_effect=BrokerError("broker unreachable")):
        response = APIClient().post("/v1/enrichment/batch", body, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.QUEUED
    assert (job.lease_expires_at - timezone.now()).total_seconds() <= 10  # due soon, not at the 5-min deadline
    with mock.patch.object(run_batch_enrichment, "delay") as delay:
        assert leases_check().dispatched == []  # within the grace: the broker may be back any moment
        assert leases_check(now=timezone.now() + timedelta(seconds=11)).dispatched == [job_id]
        delay.assert_called_once_with(job_id)


def test_a_queued_job_the_broker_lost_is_sent_again_after_its_dispatch_deadline(make_job, sent, settings):
    settings.JOB_DISPATCH_SECONDS = 300
    job, _ = make_job()
    assert leases_check(now=timezone.now() + timedelta(seconds=290)).dispatched == []
    assert leases_check(now=timezone.now() + timedelta(seconds=301)).dispatched == [str(job.id)]
    assert Job.objects.get(pk=job.pk).requeue_count == 0  # no run died: not counted against the job


@pytest.mark.django_db(transaction=True)  # the task closes unusable connections (PostgreSQL)
def test_job_run_skips_a_job_another_live_run_holds(make_job):
    job, _ = make_job()
    lease_acquire(job_id=job.id, owner="worker-a")
    executed = []
    assert job_run(job_id=job.id, execute=executed.append) is None
    assert executed == []


def _lookup_db_outage_after(ok: int):
    seen = []

    def lookup(book: BookRequest, deadline: float) -> EnrichedBook | None:
        seen.append(book.title)
        if len(seen) > ok:
            raise OperationalError("server closed the connection unexpectedly")
        return EnrichedBook(work={"title": book.title}, edition={"isbns": []}, authors=[])

    return lookup


@pytest.mark.django_db(transaction=True)  # the task closes unusable connections (PostgreSQL)
def test_a_database_outage_is_not_a_failed_book_nor_a_failed_job(make_job):
    """Before: the lookup's OperationalError was recorded as a failed book and the batch went on; a
    write's OperationalError failed the whole job for good. Now the task retries and resumes."""
    books = [{"title": f"Book {i}"} for i in range(4)]
    job, _ = make_job(total=4, params={"books": books})
    with pytest.raises(OperationalError):
        batch_enrichment_execute(job_id=str(job.id), lookup=_lookup_db_outage_after(2))
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # not failed
    items = JobItem.objects.filter(job=job)
    assert all(item.success for item in items) and items.count() <= 2  # no book marked failed by the outage
    batch_enrichment_execute(job_id=str(job.id), lookup=_lookup_db_outage_after(10))  # the retry
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETE and [b["success"] for b in job.results["books"]] == [True] * 4


@pytest.mark.django_db(transaction=True)  # the task closes unusable connections (PostgreSQL)
def test_the_task_retries_with_back_off_on_a_database_outage(make_job):
    job, _ = make_job()
    with (
        mock.patch("enrichment.tasks.batch_enrichment_execute", side_effect=OperationalError("terminating")),
        mock.patch.object(run_batch_enrichment, "retry", side_effect=Retry()) as retry,
    ):
        with pytest.raises(Retry):
            run_batch_enrichment.run(str(job.id))
    assert retry.call_args.kwargs["countdown"] == 2
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.lease_owner == ""  # released for the retry
    assert retry.call_args.kwargs["kwargs"] == {"job_id": str(job.id), "takeover": job.run_number}


def test_a_retry_takes_over_the_lease_its_interrupted_run_could_not_release(make_job):
    """The database went away mid-run: the lease could not be released, so a retry would wait for it
    to lapse. The retry names the run it replaces and takes the job at once; anyone else still waits."""
    job, _ = make_job()
    interrupted = lease_acquire(job_id=job.id, owner="worker-a")
    assert lease_acquire(job_id=job.id, owner="other") is None
    retry = lease_acquire(job_id=job.id, owner="worker-a", takeover=interrupted.run_number)
    assert retry is not None and retry.run_number == interrupted.run_number + 1
    assert lease_acquire(job_id=job.id, owner="late", takeover=interrupted.run_number) is None  # only once


def test_beat_runs_the_lease_check_on_an_interval(db):
    from django_celery_beat.models import PeriodicTask

    (entry,) = [s for s in SCHEDULES if s.task == "jobs.check_job_leases"]
    assert entry.every_seconds is not None and entry.every_seconds <= 20
    install_schedules()
    task = PeriodicTask.objects.get(task="jobs.check_job_leases")
    assert task.interval is not None and task.interval.every == entry.every_seconds and task.crontab is None
    install_schedules()  # idempotent
    assert PeriodicTask.objects.filter(task="jobs.check_job_leases").count() == 1


def test_the_lease_check_timer_runs_in_a_worker(monkeypatch):
    from jobs import leases

    calls = []
    monkeypatch.setattr(leases, "_timer_started", False)
    stop = leases.lease_check_timer_start(every=0.02, check=lambda: calls.append(1))
    try:
        assert stop is not None
        assert leases.lease_check_timer_start(every=0.02, check=lambda: None) is None  # once per process
        deadline = time.monotonic() + 2
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(calls) >= 2
    finally:
        stop.set()
