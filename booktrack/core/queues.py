"""How much work waits in each Celery queue and whether any worker consumes it (alerts, runbook).

Depth comes from the broker: RabbitMQ answers a passive `queue_declare` with its ready messages;
kombu's Redis transport is asked for the size of the queue's lists (priority lists included, under any
`global_keyprefix`). Consumers: RabbitMQ reports them in the same answer, Redis
cannot (a Redis list has no notion of a consumer), so the workers are also asked which queues they
consume (`celery inspect active_queues`, a broadcast with a short timeout) and the larger of the two
counts is kept. No reply from any worker means no consumer.

Embedded mode (the in-memory broker, a worker thread inside the web process) is not inspected: its
queue lives and dies with the process that consumes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueueFigure:
    name: str
    depth: int  # messages waiting (not yet delivered to a worker)
    consumers: int | None  # workers consuming it; None when unknown (the broker could not be asked)

    def to_wire(self) -> dict[str, int | str | None]:
        return {"queue": self.name, "depth": self.depth, "consumers": self.consumers}


def _consumers_by_queue(app, timeout: float) -> dict[str, int] | None:
    """Queue name -> workers consuming it, from the workers' own replies; None when the broadcast failed."""
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:
        logger.warning("celery inspect active_queues failed", exc_info=True)
        return None
    counts: dict[str, int] = {}
    for queues in replies.values():
        for queue in queues or []:
            name = queue.get("name") if isinstance(queue, dict) else None
            if name:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _declared(conn, name: str) -> tuple[int, int]:
    """(depth, consumers the broker knows of) for one queue; a queue that does not exist is empty."""
    from kombu.exceptions import ChannelError
    from kombu.transport.virtual import Channel as VirtualChannel

    channel = conn.channel()
    try:
        if isinstance(channel, VirtualChannel):
            # kombu's Redis transport: a passive declare checks the list key without the
            # `global_keyprefix` and answers 404 for a prefixed queue that holds work, so ask for the
            # size itself (the queue's lists, priority lists included, prefix applied).
            return int(channel._size(name)), 0
        _, depth, consumers = channel.queue_declare(queue=name, passive=True)
        return int(depth), int(consumers)
    except ChannelError:  # RabbitMQ: the queue was never declared (404 NOT_FOUND): nothing waits in it
        return 0, 0
    finally:
        try:
            channel.close()
        except Exception:  # a channel the broker already closed (AMQP 404)
            logger.debug("queue channel already closed", exc_info=True)


def queue_figures(
    *, app=None, queues: tuple[str, ...] | None = None, inspect_timeout: float = 1.0
) -> list[QueueFigure]:
    """Depth and consumers of every worker queue (settings.WORKER_QUEUES); [] in embedded mode.

    `app` defaults to the project's Celery app (tests pass one bound to another broker or key prefix).
    """
    if app is None:
        from booktrack.celery import app
    if str(app.conf.broker_url or "").startswith("memory://"):
        return []
    consumers = _consumers_by_queue(app, inspect_timeout)
    figures = []
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1)
        for name in queues or settings.WORKER_QUEUES:
            depth, broker_consumers = _declared(conn, name)
            known = None if consumers is None else max(consumers.get(name, 0), broker_consumers)
            figures.append(QueueFigure(name=name, depth=depth, consumers=known))
    return figures
