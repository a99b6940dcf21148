"""`/ws/progress` (CONTRACT 6): authenticated, replaying, gap-free job progress over WebSocket.

Order on connect: authenticate -> join the job's group -> accept -> (`reconnected`) -> replay the
log after `lastSeq` -> live events. Joining before reading the log means every event is either in
the replayed log or arrives live afterwards; live events at or below the last seq sent are dropped,
and a live event that skips ahead (another writer's broadcast overtook one) first pulls the missing
ones from the log. So the stream has no gaps and no duplicates.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from redis.exceptions import RedisError

from booktrack.core.exceptions import DomainError
from jobs.events import (
    JobProgress,
    closing_event,
    envelope,
    events_after,
    group_name,
    is_closing_event,
    progress_latest,
)
from jobs.models import ACTIVE_STATUSES, Job, JobStatus
from jobs.services import job_authenticate, job_id_as_sent

logger = logging.getLogger(__name__)

SUBPROTOCOL_PREFIX = "bookstrack-auth."
DENIAL_EXTENSION = "websocket.http.response"
CLOSE_POLICY_VIOLATION = 1008
CLOSE_PROTOCOL_ERROR = 1002
# RFC 6455 "Service Restart": the channel layer lost Redis; the client reconnects with lastSeq and
# the replay from the log fills the gap.
CLOSE_SERVICE_RESTART = 1012
# What a channel layer raises when its Redis is gone or restarting (redis-py's errors are OSError-free).
CHANNEL_LAYER_ERRORS: tuple[type[BaseException], ...] = (OSError, RedisError)
# A finished job whose closing event is somehow missing from the log still closes with its code.
CLOSE_CODES = {JobStatus.COMPLETE: 1000, JobStatus.FAILED: 1011, JobStatus.CANCELED: 1001}


def _query(scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {key: values[0] for key, values in parse_qs(raw).items() if values}


def _token_from(scope, query: dict[str, str]) -> tuple[str | None, str | None]:
    """(token, subprotocol to echo). The subprotocol form keeps the token out of URLs and access logs."""
    for protocol in scope.get("subprotocols") or []:
        if protocol.startswith(SUBPROTOCOL_PREFIX):
            return protocol[len(SUBPROTOCOL_PREFIX) :], protocol
    return query.get("token") or None, None


def _job_snapshot(job_id) -> Job | None:
    return Job.objects.filter(pk=job_id).first()


def _progress_view(job_id, up_to_seq: int) -> tuple[Job | None, dict | None]:
    """The job row (for its status) and the latest logged progress the client has seen (seq <= up_to_seq).

    Progress fields come from the log, never from the throttled row, which lags behind it.
    """
    job = _job_snapshot(job_id)
    if job is None:
        return None, None
    event = progress_latest(job_id=job_id, up_to_seq=up_to_seq)
    if event is None:
        fields = {"progress": 0.0, "processedCount": 0, "totalCount": job.total_count, "status": job.status}
        return job, {**fields, "currentItem": "", "at": job.last_update}
    payload = event.payload
    total = int(payload.get("totalCount", job.total_count))
    return job, {
        "progress": float(payload.get("progress", 0.0)),
        "processedCount": int(payload.get("processedCount", 0)),
        "totalCount": total,
        "status": str(payload.get("status") or job.status) if event.type == "job_progress" else job.status,
        "currentItem": str(payload.get("currentItem", "")),
        "at": event.created_at,
    }


class JobProgressConsumer(AsyncWebsocketConsumer):
    job: Job | None = None
    # The job id as the client's query wrote it (any case): every frame of this socket echoes it.
    sent_id: str = ""
    last_sent_seq: int = 0
    # The highest progress / processedCount this connection has sent: no frame goes below them.
    sent_progress: float = 0.0
    sent_processed: int = 0
    closing: bool = False
    accepted: bool = False
    keepalive_task: asyncio.Task | None = None

    async def __call__(self, scope, receive, send) -> None:
        """A channel layer that loses Redis (restart, failover) ends this socket with 1012, not a crash.

        Channels runs the consumer's channel receive loop next to the socket's; an error in it would end
        the ASGI app with an exception (an abnormal 1006 close, or a 500 on a handshake). The client
        reconnects with `lastSeq` and replays from the log; the layer's pools reconnect on their own.
        """
        try:
            await super().__call__(scope, receive, send)
        except CHANNEL_LAYER_ERRORS as error:
            logger.warning("progress socket ended: the channel layer lost Redis (%s)", error)
            if self.keepalive_task is not None:
                self.keepalive_task.cancel()
            if self.accepted:
                await send({"type": "websocket.close", "code": CLOSE_SERVICE_RESTART})
            else:
                await self._refuse_unavailable(send)

    # -- connect -----------------------------------------------------------------------------

    async def connect(self) -> None:
        query = _query(self.scope)
        job_id = query.get("jobId")
        if not job_id:
            await self._refuse(400, "MISSING_PARAMETER", "jobId is required.")
            return
        token, echo = _token_from(self.scope, query)
        try:
            self.job = await database_sync_to_async(job_authenticate)(job_id=job_id, token=token)
        except DomainError as error:
            await self._refuse(error.status, error.code, error.message)
            return
        try:
            self.last_sent_seq = max(0, int(query.get("lastSeq") or 0))
        except ValueError:
            self.last_sent_seq = 0
        self.sent_id = job_id_as_sent(sent=job_id, job_id=self.job.id)
        self.group = group_name(self.job.id)
        await self.channel_layer.group_add(self.group, self.channel_name)  # subscribe FIRST
        await self.accept(subprotocol=echo)
        self.accepted = True
        if query.get("reconnect", "").lower() in ("1", "true", "yes"):
            await self._send_reconnected()
        await self._catch_up()
        if not self.closing:
            await self._close_if_finished()
        if not self.closing:
            self.keepalive_task = asyncio.create_task(self._keepalive_loop())

    async def _refuse_unavailable(self, send) -> None:
        self.base_send = send
        await self._refuse(503, "PROVIDER_UNAVAILABLE", "Live progress is briefly unavailable; retry in a few seconds.")

    async def _refuse(self, status: int, code: str, message: str) -> None:
        if DENIAL_EXTENSION in (self.scope.get("extensions") or {}):
            body = json.dumps({"success": False, "error": {"code": code, "message": message}}).encode()
            await self.base_send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await self.base_send({"type": "websocket.http.response.body", "body": body})
        else:
            await self.close(code=CLOSE_POLICY_VIOLATION)  # before accept: nothing was ever sent

    async def disconnect(self, code) -> None:
        if self.keepalive_task is not None:
            self.keepalive_task.cancel()
        if self.job is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # -- sending -----------------------------------------------------------------------------

    def _ephemeral(self, type_: str, payload: dict) -> str:
        return json.dumps(
            envelope(
                job_id=self.sent_id, pipeline=self.job.pipeline, type=type_, seq=self.last_sent_seq, payload=payload
            )
        )

    async def _send_logged(self, message: dict) -> None:
        if self.closing or message["seq"] <= self.last_sent_seq:
            return
        await self._send_logged_now(message)

    async def _send_logged_now(self, message: dict) -> None:
        # Logged events carry the canonical id; this client gets its own spelling.
        await self.send(text_data=json.dumps({**message, "jobId": self.sent_id}))
        self.last_sent_seq = max(self.last_sent_seq, message["seq"])
        if message["type"] == "job_progress":
            self._note_progress(message["payload"])
        code = is_closing_event(message)
        if code is not None:
            self.closing = True
            if self.keepalive_task is not None and self.keepalive_task is not asyncio.current_task():
                self.keepalive_task.cancel()
            await self.close(code=code)

    async def _catch_up(self, before_seq: int | None = None) -> None:
        events = await database_sync_to_async(events_after)(
            job_id=self.job.id, after_seq=self.last_sent_seq, before_seq=before_seq
        )
        for message in events:
            await self._send_logged(message)

    def _note_progress(self, fields: dict) -> None:
        self.sent_progress = max(self.sent_progress, float(fields.get("progress", 0.0)))
        self.sent_processed = max(self.sent_processed, int(fields.get("processedCount", 0)))

    def _clamped(self, fields: dict) -> dict:
        """Progress fields never below what this connection has already sent (CONTRACT 6)."""
        clamped = {
            **fields,
            "progress": round(max(self.sent_progress, fields["progress"]), 4),
            "processedCount": max(self.sent_processed, fields["processedCount"]),
        }
        self._note_progress(clamped)
        return clamped

    async def _send_reconnected(self) -> None:
        # The progress as of the client's resume point (lastSeq): the replay that follows moves it
        # forward, so the client never sees it go back. `status` is the job's current status.
        job, fields = await database_sync_to_async(_progress_view)(self.job.id, self.last_sent_seq)
        if job is None:
            return
        fields = self._clamped(fields)
        payload = {
            "progress": fields["progress"],
            "status": job.status,
            "processedCount": fields["processedCount"],
            "totalCount": fields["totalCount"],
            "lastUpdate": int(fields["at"].timestamp() * 1000),
            "message": (
                f"Reconnected to job {self.sent_id} ({job.status}); replaying events after seq {self.last_sent_seq}."
            ),
        }
        await self.send(text_data=self._ephemeral("reconnected", payload))

    async def _close_if_finished(self, job: Job | None = None) -> None:
        """A finished job's socket always ends with its closing event and the close (CONTRACT 6).

        Events the client has not seen are sent from the log; a client that had seen them all
        (connected with lastSeq = the final seq) gets the closing event again, then the close.
        """
        if job is None:
            job = await database_sync_to_async(_job_snapshot)(self.job.id)
        if job is None or job.status in ACTIVE_STATUSES or self.closing:
            return
        await self._catch_up()
        if self.closing:
            return
        message = await database_sync_to_async(closing_event)(job_id=self.job.id)
        self.closing = True
        if self.keepalive_task is not None and self.keepalive_task is not asyncio.current_task():
            self.keepalive_task.cancel()
        if message is not None:
            await self._send_logged_now(message)
            code = is_closing_event(message)
        else:
            code = CLOSE_CODES.get(job.status, 1000)
        await self.close(code=code)

    # -- channel layer -----------------------------------------------------------------------

    async def job_event(self, message: dict) -> None:
        event = message["event"]
        if self.closing or event["seq"] <= self.last_sent_seq:
            return
        if event["seq"] > self.last_sent_seq + 1:
            await self._catch_up(before_seq=event["seq"])
        await self._send_logged(event)

    async def job_keepalive(self, message: dict) -> None:
        if not self.closing:
            await self._send_keepalive()

    async def _send_keepalive(self) -> None:
        job, fields = await database_sync_to_async(_progress_view)(self.job.id, self.last_sent_seq)
        if job is None or self.closing:
            return
        if job.status not in ACTIVE_STATUSES:
            await self._close_if_finished(job)  # the closing event was missed live: send it and close
            return
        fields = self._clamped(fields)
        payload = JobProgress(
            progress=fields["progress"],
            status=fields["status"],
            processed_count=fields["processedCount"],
            total_count=fields["totalCount"],
            current_item=fields["currentItem"],
            keep_alive=True,
        )
        await self.send(text_data=self._ephemeral("job_progress", payload.to_wire()))

    async def _keepalive_loop(self) -> None:
        interval = float(getattr(settings, "JOB_KEEPALIVE_SECONDS", 25))
        try:
            while not self.closing:
                await asyncio.sleep(interval)
                await self._send_keepalive()
        except asyncio.CancelledError:
            pass
        except Exception:  # a dead socket ends the loop; nothing else to do
            logger.debug("keep-alive loop ended for %s", self.job.id if self.job else None, exc_info=True)

    # -- client frames -----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None) -> None:
        try:
            frame = json.loads(text_data if text_data is not None else bytes_data)
            kind = frame.get("type") if isinstance(frame, dict) else None
        except (ValueError, TypeError):
            kind = None
        if kind == "ready":
            await self.send(text_data=self._ephemeral("ready_ack", {}))
        elif kind == "ping":
            await self.send(text_data=self._ephemeral("pong", {}))
        elif kind == "pong":
            return
        else:
            self.closing = True
            await self.close(code=CLOSE_PROTOCOL_ERROR)
