"""Job services: creation, authentication, state, token refresh, cancel, results, cleanup and the
stalled-job watchdog (CONTRACT 5)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from booktrack.core.exceptions import Conflict, InvalidRequest, MissingParameter, NotFound, Unauthorized
from booktrack.core.metrics import record_job
from jobs.archive import archived_results, jobs_archive_before_delete, jobs_archiver_registered
from jobs.events import JobProgress, JobSummary, JsonValue, event_append, progress_latest
from jobs.models import ACTIVE_STATUSES, Job, JobItem, JobStatus
from jobs.pipelines import CanceledJob, pipeline_get, pipelines_registered
from jobs.reporter import JobProgressReporter
from jobs.tokens import REFRESH_WINDOW_SECONDS, TOKEN_TTL_SECONDS, token_generate, token_hash, token_matches

logger = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(days=7)
FINISHED_KEPT_FOR = timedelta(hours=24)
CLEANUP_ARCHIVE_BATCH = 5000


def job_id_parse(value: object) -> uuid.UUID:
    if value in (None, ""):
        raise MissingParameter("jobId is required.")
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidRequest("jobId must be a UUID.") from exc


def job_id_as_sent(*, sent: object, job_id: uuid.UUID) -> str:
    """The id to answer with: the client's spelling when it names this job (any case), else canonical.

    Storage, channel groups and logs use the canonical lower-case form; answers to a request echo the
    id as that request wrote it (CONTRACT 5: a client matches the answer against the id it holds).
    """
    if isinstance(sent, str) and sent:
        try:
            if uuid.UUID(sent) == job_id:
                return sent
        except ValueError:
            pass
    return str(job_id)


def job_create(
    *,
    pipeline: str,
    job_id: uuid.UUID | str | None = None,
    total: int = 0,
    params: dict[str, JsonValue] | None = None,
) -> tuple[Job, str]:
    """Create a queued job and its token. Returns (job, raw token): the raw token is never stored.

    A client-supplied jobId that already exists is a 409 CONFLICT (never a takeover of that job).
    """
    pipeline_get(pipeline)  # LookupError on a pipeline no app registered: a programming error
    raw = token_generate()
    now = timezone.now()
    job = Job(
        id=job_id_parse(job_id) if job_id is not None else uuid.uuid4(),
        pipeline=pipeline,
        total_count=max(0, int(total)),
        token_hash=token_hash(raw),
        token_expires_at=now + timedelta(seconds=TOKEN_TTL_SECONDS),
        params=params or {},
    )
    try:
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict(f"Job {job.id} already exists.") from exc
    record_job(pipeline, status="queued")
    return job, raw


def job_enqueue(*, job: Job) -> None:
    """Queue the job's task, the one its pipeline registered (jobs.pipelines), once the transaction commits."""
    task = pipeline_get(job.pipeline).task
    if task is None:
        raise ValueError(f"pipeline {job.pipeline} registered no task to run job {job.id}")
    task.delay_on_commit(str(job.id))


def job_get(*, job_id: object) -> Job:
    try:
        return Job.objects.get(pk=job_id_parse(job_id))
    except Job.DoesNotExist as exc:
        raise NotFound(f"Job {job_id} not found.") from exc


def job_authenticate(*, job_id: object, token: str | None, allow_expired: bool = False) -> Job:
    """The job, if `token` is its current token (constant-time compare); 404 unknown, 401 otherwise."""
    job = job_get(job_id=job_id)
    _token_check(job=job, token=token, allow_expired=allow_expired)
    return job


def _token_check(*, job: Job, token: str | None, allow_expired: bool) -> None:
    if not token:
        raise Unauthorized("A job token is required (Authorization: Bearer <token>).")
    if not token_matches(raw=token, stored_hash=job.token_hash):
        raise Unauthorized("Invalid token for this job.")
    if not allow_expired and job.token_expires_at <= timezone.now():
        raise Unauthorized("The job token has expired.")


def _epoch_ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def job_state_wire(*, job: Job, sent_id: object = None) -> dict[str, JsonValue]:
    """The raw job-state body; `sent_id` is the id as the request wrote it (echoed, see job_id_as_sent)."""
    job_id = job_id_as_sent(sent=sent_id, job_id=job.id)
    body: dict[str, JsonValue] = {
        "jobId": job_id,
        "pipeline": job.pipeline,
        "status": job.status,
        "progress": round(job.progress, 4),
        "processedCount": job.processed_count,
        "totalCount": job.total_count,
        "startTime": _epoch_ms(job.started_at or job.created_at),
        "lastUpdate": _epoch_ms(job.last_update),
    }
    if job.ended_at:
        body["endTime"] = _epoch_ms(job.ended_at)
    if job.error_message:
        body["error"] = job.error_message
    if job.results is not None:
        body["resultsUrl"] = pipeline_get(job.pipeline).results_url(job_id)
    return body


@dataclass(frozen=True)
class RefreshedToken:
    job_id: str
    token: str
    expires_in: int

    def to_wire(self) -> dict[str, JsonValue]:
        return {"jobId": self.job_id, "token": self.token, "expiresIn": self.expires_in}


def token_refresh(*, job_id: object, old_token: object) -> RefreshedToken:
    """A new token replacing the old one, only within the last 30 minutes of the old one's validity."""
    if old_token is None or old_token == "":
        raise MissingParameter("oldToken is required.")
    if not isinstance(old_token, str):
        raise InvalidRequest("oldToken must be a string.")
    parsed = job_id_parse(job_id)
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=parsed).first()
        if job is None:
            raise NotFound(f"Job {parsed} not found.")
        if not token_matches(raw=old_token, stored_hash=job.token_hash):
            raise Unauthorized("Invalid token for this job.")
        now = timezone.now()
        remaining = (job.token_expires_at - now).total_seconds()
        if remaining <= 0:
            raise Unauthorized("The job token has expired; start a new job.")
        if remaining > REFRESH_WINDOW_SECONDS:
            raise Unauthorized(
                f"The token can only be refreshed in the last {REFRESH_WINDOW_SECONDS // 60} minutes of its "
                f"validity ({int(remaining // 60)} minutes left)."
            )
        raw = token_generate()
        job.token_hash = token_hash(raw)
        job.token_expires_at = now + timedelta(seconds=TOKEN_TTL_SECONDS)
        job.save(update_fields=["token_hash", "token_expires_at"])
    return RefreshedToken(job_id=job_id_as_sent(sent=job_id, job_id=job.id), token=raw, expires_in=TOKEN_TTL_SECONDS)


def _last_progress(job: Job) -> tuple[int, float, int]:
    """processedCount, progress, totalCount as the client last saw them (the log beats the throttled row)."""
    event = progress_latest(job_id=job.id)
    if event is None or event.type != "job_progress":
        return job.processed_count, job.progress, job.total_count
    payload = event.payload
    return (
        max(job.processed_count, int(payload.get("processedCount", 0))),
        max(job.progress, float(payload.get("progress", 0.0))),
        int(payload.get("totalCount", job.total_count)),
    )


def _canceled_results(*, job: Job, now: datetime) -> JsonValue:
    """The results a canceled job answers with until (unless) its worker stores the partial ones.

    A job canceled while queued never runs its task, so nothing else would ever store results and the
    results route would answer 404. The shape is the pipeline's: its registered `canceled_results`
    builds them from the job's params and finished items (jobs.pipelines).
    """
    finished = {item.index: item for item in JobItem.objects.filter(job_id=job.id)}
    successes = sum(1 for item in finished.values() if item.success)
    summary = JobSummary(
        total_processed=len(finished),
        success_count=successes,
        failure_count=len(finished) - successes,
        duration=int((now - (job.started_at or job.created_at)).total_seconds() * 1000),
        resource_id=str(job.id),
    )
    canceled = CanceledJob(
        job_id=str(job.id),
        params=job.params or {},
        finished={index: item.result for index, item in finished.items()},
        summary=summary,
        canceled_at=now,
    )
    return pipeline_get(job.pipeline).canceled_results(canceled)


def job_cancel(*, job_id: object, token: str | None) -> Job:
    """Cancel a queued or running job: status `canceled`, a closing event, nothing processed after it."""
    job = job_authenticate(job_id=job_id, token=token)
    if job.status not in ACTIVE_STATUSES:
        raise Conflict(f"Job {job.id} already finished ({job.status}).")
    processed, progress, total = _last_progress(job)
    now = timezone.now()
    event = event_append(
        job_id=job.id,
        payload=JobProgress(
            progress=round(progress, 4),
            status="canceled",
            processed_count=processed,
            total_count=total,
            current_item="",
            canceled=True,
        ),
        state={
            "status": JobStatus.CANCELED,
            "processed_count": processed,
            "progress": progress,
            "status_message": "Canceled",
            "current_item": "",
            "ended_at": now,
            "last_update": now,
            # An active job has no results yet; a worker that sees the cancel replaces these with the
            # partial results it holds (`ProgressReporter.canceled`). Written with the status, under
            # the job lock, so they can never overwrite the worker's.
            "results": _canceled_results(job=job, now=now),
            "results_expire_at": now + FINISHED_KEPT_FOR,
        },
    )
    if event is None:  # finished between our read and the lock
        raise Conflict(f"Job {job.id} already finished.")
    record_job(job.pipeline, status="canceled")
    job.refresh_from_db()
    return job


def job_results(*, job_id: object, pipeline: str, token: str | None, require_token: bool) -> JsonValue:
    """A finished job's results, for 24 hours after it ended; 404 after that or before they exist.

    Without a token the results are served unless `require_token` (CONTRACT 5: the results routes carry
    no auth, and the apps fetch them without one; the job id is 122 random bits handed only to the
    job's owner). A token that is sent is always checked, so a wrong one is 401; its 2-hour expiry is
    not: results outlive the live token by design.
    """
    job = job_get(job_id=job_id)
    if token or require_token:
        _token_check(job=job, token=token, allow_expired=True)
    if job.pipeline != pipeline:
        raise NotFound(f"No results for job {job.id}.")
    if job.results_expire_at is not None and job.results_expire_at <= timezone.now():
        raise NotFound(f"The results of job {job.id} have expired.")
    # A finished job past its live window may have had its results archived (jobs.archive).
    results = job.results if job.results is not None or not job.is_terminal else archived_results(job.id)
    if results is None:
        raise NotFound(f"No results for job {job.id}.")
    return results


def jobs_cleanup_expired(*, now: datetime | None = None) -> int:
    """Delete jobs (events, items and results with them) 24 h after they ended; abandoned ones after 7 days."""
    now = now or timezone.now()
    finished = Job.objects.filter(ended_at__lt=now - FINISHED_KEPT_FOR)
    if jobs_archiver_registered():
        # The archiver (jobs.archive) first archives what the daily archival has not reached yet;
        # a job it could not archive is kept for the next run. A batch an hour keeps this bounded.
        offered = list(finished.order_by("ended_at").values_list("pk", flat=True)[:CLEANUP_ARCHIVE_BATCH])
        keep = jobs_archive_before_delete(offered)
        finished = Job.objects.filter(pk__in=[pk for pk in offered if pk not in keep])
    abandoned = Job.objects.filter(ended_at__isnull=True, created_at__lt=now - ABANDONED_AFTER)
    deleted = 0
    for query in (finished, abandoned):
        _, per_model = query.delete()
        deleted += per_model.get("jobs.Job", 0)
    return deleted


MAX_REQUEUES = 3


@dataclass(frozen=True)
class StalledJobs:
    requeued: list[str]
    failed: list[str]


def jobs_requeue_stalled(*, stalled_for: timedelta, now: datetime | None = None) -> StalledJobs:
    """Jobs no worker is running: queued or running with no state write for `stalled_for`.

    Each is sent to its task again (tasks are idempotent and resumable: finished items are kept), up
    to MAX_REQUEUES times; then it fails with a retryable error event, so the client sees an end
    instead of a job that never moves. `stalled_for` must exceed the broker's own redelivery delay
    (CELERY_VISIBILITY_TIMEOUT), so a task the broker is about to hand out again is not sent twice.
    """
    now = now or timezone.now()
    cutoff = now - stalled_for
    with_task = [spec.name for spec in pipelines_registered() if spec.task is not None]
    stale = Job.objects.filter(status__in=ACTIVE_STATUSES, last_update__lte=cutoff, pipeline__in=with_task)
    requeued: list[str] = []
    to_fail: list[Job] = []
    for job_id in stale.values_list("id", flat=True)[:500]:
        with transaction.atomic():
            job = stale.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if job is None:
                continue  # finished, moved on, or another watchdog has it
            if job.requeue_count >= MAX_REQUEUES:
                to_fail.append(job)
                continue
            Job.objects.filter(pk=job.pk).update(requeue_count=job.requeue_count + 1, last_update=now)
            job_enqueue(job=job)
            requeued.append(str(job.id))
    for job in to_fail:
        JobProgressReporter(job_id=job.id).fail(
            code="INTERNAL_ERROR",
            message=f"No worker finished this job; it was sent again {job.requeue_count} times.",
            retryable=True,
        )
    if requeued or to_fail:
        logger.warning("stalled jobs: requeued %s, failed %s", requeued, [str(j.id) for j in to_fail])
    return StalledJobs(requeued=requeued, failed=[str(j.id) for j in to_fail])
