"""The stalled-job watchdog: jobs no worker is running are sent again, then failed (jobs.services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from booktrack.core import embedded_worker
from booktrack.core.schedules import SCHEDULES
from jobs.models import Job, JobEvent, JobStatus
from jobs.pipelines import pipeline_get
from jobs.services import MAX_REQUEUES, jobs_requeue_stalled
from jobs.tasks import requeue_stalled_jobs

STALL = timedelta(minutes=40)


@pytest.fixture
def sent(monkeypatch):
    """Task names and args handed to the broker (through the task its pipeline registered)."""
    messages: list[tuple[str, list]] = []
    task = pipeline_get("batch_enrichment").task
    monkeypatch.setattr(task, "delay", lambda *args, **kw: messages.append((task.name, list(args))))
    return messages


def stale(job: Job, *, status: str = JobStatus.RUNNING, requeues: int = 0) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status, last_update=timezone.now() - STALL - timedelta(minutes=1), requeue_count=requeues
    )


def test_stalled_jobs_are_sent_to_their_task_again(make_job, sent, django_capture_on_commit_callbacks):
    running, _ = make_job()
    queued, _ = make_job()
    moving, _ = make_job()
    stale(running)
    stale(queued, status=JobStatus.QUEUED)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = jobs_requeue_stalled(stalled_for=STALL)
    assert sorted(outcome.requeued) == sorted([str(running.id), str(queued.id)]) and outcome.failed == []
    assert sorted(sent) == sorted([("enrichment.run_batch_enrichment", [str(j.id)]) for j in (running, queued)])
    assert Job.objects.get(pk=running.pk).requeue_count == 1
    # Sent again just now: not stalled any more, so the next round leaves it alone.
    assert jobs_requeue_stalled(stalled_for=STALL).requeued == []
    assert Job.objects.get(pk=moving.pk).requeue_count == 0


def test_after_max_requeues_the_job_fails_with_an_event(make_job, sent):
    job, _ = make_job()
    stale(job, requeues=MAX_REQUEUES)
    outcome = jobs_requeue_stalled(stalled_for=STALL)
    assert outcome.failed == [str(job.id)] and sent == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.ended_at is not None
    event = JobEvent.objects.filter(job_id=job.id).order_by("-seq").first()
    assert event.type == "error" and event.payload["retryable"] is True, (event.type, event.payload)


def test_finished_jobs_are_never_touched(make_job, sent):
    job, _ = make_job()
    stale(job, status=JobStatus.COMPLETE)
    assert jobs_requeue_stalled(stalled_for=STALL).requeued == [] and sent == []


def test_task_uses_the_setting_and_beat_runs_it(make_job, sent, settings):
    settings.JOB_STALL_SECONDS = 10**6
    job, _ = make_job()
    stale(job)
    assert requeue_stalled_jobs() == {"requeued": [], "failed": []}  # not stalled for a million seconds
    assert requeue_stalled_jobs(stalled_seconds=0)["requeued"] == [str(job.id)]
    assert any(s.task == "jobs.requeue_stalled_jobs" for s in SCHEDULES)


def test_embedded_start_requeues_every_unfinished_job(monkeypatch):
    from booktrack.celery import app

    sent_at_start: list[tuple[str, dict]] = []
    monkeypatch.setattr(app, "send_task", lambda name, kwargs=None, **kw: sent_at_start.append((name, kwargs)))
    embedded_worker.embedded_startup_tasks()
    (requeue,) = [kwargs for name, kwargs in sent_at_start if name == "jobs.requeue_stalled_jobs"]
    assert requeue["stalled_seconds"] == 0 and requeue["as_of"]


def test_embedded_start_leaves_jobs_created_after_it_alone(make_job, sent):
    before, _ = make_job()
    Job.objects.filter(pk=before.pk).update(last_update=timezone.now() - timedelta(seconds=5))
    started = timezone.now()
    after, _ = make_job()  # already in the new broker
    assert requeue_stalled_jobs(stalled_seconds=0, as_of=started.isoformat())["requeued"] == [str(before.id)]
    assert Job.objects.get(pk=after.pk).requeue_count == 0
