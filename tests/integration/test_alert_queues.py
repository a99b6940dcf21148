"""A queue with work and no consumer, seen on the real brokers (issue 12 item 7).

Redis: the stack's worker consumes the four queues under its own key prefix; a second prefix that no
worker serves gets one task in `maintenance`. RabbitMQ (when one answers on localhost): queues with
names of their own, one message, then a consumer attached.
"""

from __future__ import annotations

import secrets

import pytest
from celery import Celery
from kombu import Connection, Exchange, Queue

from booktrack.core.queues import QueueFigure, queue_figures
from harvest.alerts import Observations, alerts_evaluate
from tests.harvest.test_alerts import LIMITS

QUEUES = ("default", "providers", "ai", "maintenance")
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _app(broker: str, queues=QUEUES, **transport) -> Celery:
    app = Celery("probe", broker=broker, broker_transport_options=transport)
    app.conf.task_queues = tuple(Queue(q, Exchange(q, type="direct"), routing_key=q) for q in queues)
    return app


def _queue_alerts(figures: list[QueueFigure]) -> list[str]:
    observed = Observations(period="15m", requests=0, errors_5xx=0, p99_latency_ms=None, queues=tuple(figures))
    return [alert.key for alert in alerts_evaluate(observed, LIMITS)]


def test_redis_queues_served_by_the_worker_have_consumers(stack, running_worker):
    app = _app(stack.redis_url, global_keyprefix=stack.env["CELERY_BROKER_KEY_PREFIX"])
    try:
        figures = {f.name: f for f in queue_figures(app=app, queues=QUEUES, inspect_timeout=2.0)}
    finally:
        app.close()
    assert set(figures) == set(QUEUES)
    assert all(figure.consumers and figure.consumers >= 1 for figure in figures.values()), figures
    assert _queue_alerts(list(figures.values())) == []


def test_redis_queue_with_work_and_no_worker_fires(stack):
    app = _app(stack.redis_url, global_keyprefix=f"no-worker-{secrets.token_hex(4)}:")
    try:
        app.send_task("harvest.check_alerts", queue="maintenance", routing_key="maintenance")
        figures = queue_figures(app=app, queues=QUEUES, inspect_timeout=0.5)
    finally:
        app.close()
    by_name = {f.name: f for f in figures}
    assert by_name["maintenance"] == QueueFigure("maintenance", depth=1, consumers=0)
    assert by_name["default"] == QueueFigure("default", depth=0, consumers=0)
    assert _queue_alerts(figures) == ["queue_without_consumer:maintenance"]


def test_rabbitmq_queue_depth_and_consumers():
    try:
        Connection(AMQP_URL, connect_timeout=2).ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.skip(f"no RabbitMQ at {AMQP_URL}: {exc}")
    suffix = secrets.token_hex(4)
    busy, idle = f"it-alerts-busy-{suffix}", f"it-alerts-idle-{suffix}"
    app = _app(AMQP_URL, queues=(busy, idle))
    try:
        with app.connection_for_write() as conn:
            for name in (busy, idle):
                Queue(name, Exchange(name, type="direct"), routing_key=name, auto_delete=False)(conn).declare()
        app.send_task("harvest.check_alerts", queue=busy, routing_key=busy)
        figures = {f.name: f for f in queue_figures(app=app, queues=(busy, idle), inspect_timeout=0.5)}
        assert figures[busy].depth == 1 and figures[busy].consumers == 0
        assert figures[idle].depth == 0
        assert _queue_alerts(list(figures.values())) == [f"queue_without_consumer:{busy}"]
        with Connection(AMQP_URL) as conn, conn.Consumer(Queue(busy), callbacks=[], auto_declare=False):
            # RabbitMQ counts the consumer itself: the alert clears even without a celery worker reply.
            attached = {f.name: f for f in queue_figures(app=app, queues=(busy,), inspect_timeout=0.5)}
            assert attached[busy].consumers == 1
    finally:
        with Connection(AMQP_URL) as conn:
            for name in (busy, idle):
                Queue(name)(conn.channel()).delete()
        app.close()
