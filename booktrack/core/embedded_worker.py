"""Embedded mode: a real Celery worker consuming the in-memory broker inside the web process.

Not eager execution: `delay()` returns at once (the HTTP 202 goes out) and a worker thread picks the
task up, exactly as a separate worker would, so WebSocket progress works with nothing else running.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings

logger = logging.getLogger(__name__)

_started = False
_lock = threading.Lock()


def start_embedded_worker() -> bool:
    """Start the worker thread once per process; returns True if this call started it."""
    global _started
    with _lock:
        if _started:
            return False
        _started = True
    from celery.worker import WorkController

    from booktrack.celery import app

    def run() -> None:
        worker = WorkController(
            app=app,
            pool_cls="threads",
            concurrency=settings.EMBEDDED_WORKER_CONCURRENCY,
            queues=list(settings.WORKER_QUEUES),
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="WARNING",
            hostname="embedded@localhost",
        )
        try:
            worker.start()
        except Exception:
            logger.exception("embedded Celery worker stopped")

    threading.Thread(target=run, name="embedded-celery-worker", daemon=True).start()
    embedded_startup_tasks()
    logger.info("embedded Celery worker started (%s threads)", settings.EMBEDDED_WORKER_CONCURRENCY)
    return True


def embedded_startup_tasks() -> None:
    """What beat would do, once at start: the in-memory broker died with the previous process, so
    every job still queued or running from before this start has no message left; the watchdog sends
    them again now. Old finished jobs and scan photos past their retention are cleaned up too. Sent by
    name, like any task."""
    from django.utils import timezone

    from booktrack.celery import app

    started = timezone.now().isoformat()
    requeue = {"stalled_seconds": 0, "as_of": started}
    startup = (
        ("jobs.requeue_stalled_jobs", requeue),
        ("jobs.cleanup_expired_jobs", {}),
        ("scanning.purge_scan_photos", {}),  # scan photo retention (docs/scanning.md)
    )
    for name, kwargs in startup:
        try:
            app.send_task(name, kwargs=kwargs)
        except Exception:  # never keep the server from starting
            logger.exception("could not queue %s at start", name)
