from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from jobs.events import JobSummary
from jobs.reporter import JobProgressReporter
from jobs.routing import websocket_urlpatterns
from jobs.services import job_cancel, job_create

pytestmark = pytest.mark.django_db(transaction=True)

APP = URLRouter(websocket_urlpatterns)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def communicator(path: str, **kwargs) -> WebsocketCommunicator:
    return WebsocketCommunicator(APP, path, **kwargs)


async def receive(comm, timeout=3):
    return json.loads(await comm.receive_from(timeout=timeout))


async def receive_close(comm, timeout=3):
    message = await comm.receive_output(timeout=timeout)
    assert message["type"] == "websocket.close", message
    return message.get("code")


def _summary(job):
    return JobSummary(total_processed=2, success_count=2, failure_count=0, duration=3, resource_id=str(job.id))


def _finished_job(total=2):
    job, token = job_create(pipeline="batch_enrichment", total=total)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=total)
    for i in range(1, total + 1):
        reporter.progress(processed=i, status="enriching", current_item=f"book {i}")
    reporter.complete(summary=_summary(job), results={"books": []})
    return job, token


def test_consumer_refuses_missing_job_id_and_bad_token():
    async def scenario():
        comm = communicator("/ws/progress")
        assert await comm.connect() == (False, 1008)
        job, token = await database_sync_to_async(job_create)(pipeline="ai_scan", total=1)
        comm = communicator(f"/ws/progress?jobId={job.id}&token=wrong")
        assert await comm.connect() == (False, 1008)
        comm = communicator(f"/ws/progress?jobId={job.id}")
        assert await comm.connect() == (False, 1008)
        comm = communicator(f"/ws/progress?jobId={uuid.uuid4()}&token={token}")
        assert await comm.connect() == (False, 1008)

    run(scenario())


def test_consumer_denies_with_http_status_when_server_supports_it():
    async def scenario():
        job, _ = await database_sync_to_async(job_create)(pipeline="ai_scan", total=1)
        for path, status in [("/ws/progress", 400), (f"/ws/progress?jobId={job.id}&token=bad", 401)]:
            comm = communicator(path)
            comm.scope["extensions"] = {"websocket.http.response": {}}
            await comm.send_input({"type": "websocket.connect"})
            start = await comm.receive_output(timeout=3)
            assert start["type"] == "websocket.http.response.start" and start["status"] == status
            body = await comm.receive_output(timeout=3)
            assert json.loads(body["body"])["error"]["code"] in ("MISSING_PARAMETER", "UNAUTHORIZED")

    run(scenario())


def test_consumer_accepts_subprotocol_token_and_echoes_it():
    async def scenario():
        job, token = await database_sync_to_async(job_create)(pipeline="csv_import", total=5)
        protocol = f"bookstrack-auth.{token}"
        comm = communicator(f"/ws/progress?jobId={job.id}", subprotocols=[protocol])
        assert await comm.connect() == (True, protocol)
        await comm.send_to(text_data=json.dumps({"type": "ready"}))
        ack = await receive(comm)
        assert ack["type"] == "ready_ack" and ack["payload"] == {"type": "ready_ack"}
        assert ack["jobId"] == str(job.id) and ack["pipeline"] == "csv_import" and ack["version"] == "1.0.0"
        assert isinstance(ack["timestamp"], int) and isinstance(ack["seq"], int)
        await comm.send_to(text_data=json.dumps({"type": "ping"}))
        assert (await receive(comm))["type"] == "pong"
        await comm.send_to(text_data=json.dumps({"type": "pong"}))
        assert await comm.receive_nothing(timeout=0.2)
        await comm.disconnect()

    run(scenario())


@pytest.mark.parametrize("frame", ["not json", json.dumps({"type": "subscribe"}), json.dumps([1, 2])])
def test_consumer_closes_1002_on_bad_client_frame(frame):
    async def scenario():
        job, token = await database_sync_to_async(job_create)(pipeline="ai_scan", total=1)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}")
        assert (await comm.connect())[0] is True
        await comm.send_to(text_data=frame)
        assert await receive_close(comm) == 1002

    run(scenario())


def test_consumer_replays_finished_job_then_closes_1000():
    async def scenario():
        job, token = await database_sync_to_async(_finished_job)(total=2)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}")
        assert (await comm.connect())[0] is True
        messages = [await receive(comm) for _ in range(4)]
        assert [m["type"] for m in messages] == ["job_started", "job_progress", "job_progress", "job_complete"]
        assert [m["seq"] for m in messages] == [1, 2, 3, 4]
        assert messages[1]["payload"]["currentItem"] == "book 1"
        assert messages[-1]["payload"]["resultsUrl"] == f"/v1/enrichment/results/{job.id}"
        assert await receive_close(comm) == 1000

    run(scenario())


def test_consumer_replays_after_last_seq_with_reconnected_first():
    async def scenario():
        job, token = await database_sync_to_async(_finished_job)(total=3)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}&lastSeq=2&reconnect=true")
        assert (await comm.connect())[0] is True
        first = await receive(comm)
        assert first["type"] == "reconnected"
        assert {"progress", "status", "processedCount", "totalCount", "lastUpdate", "message"} <= first[
            "payload"
        ].keys()
        assert first["payload"]["status"] == "complete"
        rest = [await receive(comm) for _ in range(3)]
        assert [m["seq"] for m in rest] == [3, 4, 5]
        assert rest[-1]["type"] == "job_complete"
        assert await receive_close(comm) == 1000

    run(scenario())


def test_consumer_streams_live_events_to_two_clients_without_gaps():
    async def scenario():
        job, token = await database_sync_to_async(job_create)(pipeline="batch_enrichment", total=3)
        reporter = await database_sync_to_async(JobProgressReporter)(job_id=job.id)
        await database_sync_to_async(reporter.started)(total=3)
        clients = [communicator(f"/ws/progress?jobId={job.id}&token={token}") for _ in range(2)]
        for comm in clients:
            assert (await comm.connect())[0] is True
        for i in range(1, 4):
            await database_sync_to_async(reporter.progress)(processed=i, status="x", current_item=str(i))
        await database_sync_to_async(reporter.complete)(summary=_summary(job), results={"books": []})
        for comm in clients:
            seqs = [(await receive(comm))["seq"] for _ in range(5)]
            assert seqs == [1, 2, 3, 4, 5]
            assert await receive_close(comm) == 1000

    run(scenario())


def test_consumer_fills_a_gap_from_the_log():
    async def scenario():
        job, token = await database_sync_to_async(job_create)(pipeline="batch_enrichment", total=3)
        reporter = await database_sync_to_async(JobProgressReporter)(job_id=job.id)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}")
        assert (await comm.connect())[0] is True
        from unittest import mock

        # seq 1 is logged but its broadcast is lost; seq 2's broadcast must bring it along
        with mock.patch("jobs.events.event_broadcast"):
            await database_sync_to_async(reporter.started)(total=3)
        await database_sync_to_async(reporter.progress)(processed=1, status="x")
        assert [(await receive(comm))["seq"] for _ in range(2)] == [1, 2]
        await comm.disconnect()

    run(scenario())


def test_consumer_closes_1001_on_cancel_and_1011_on_error():
    async def scenario():
        job, token = await database_sync_to_async(job_create)(pipeline="ai_scan", total=3)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}")
        assert (await comm.connect())[0] is True
        await database_sync_to_async(job_cancel)(job_id=job.id, token=token)
        message = await receive(comm)
        assert message["type"] == "job_progress" and message["payload"]["status"] == "canceled"
        assert await receive_close(comm) == 1001

        job, token = await database_sync_to_async(job_create)(pipeline="ai_scan", total=3)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}")
        assert (await comm.connect())[0] is True
        reporter = await database_sync_to_async(JobProgressReporter)(job_id=job.id)
        await database_sync_to_async(reporter.fail)(code="INTERNAL_ERROR", message="boom", retryable=False)
        message = await receive(comm)
        assert message["type"] == "error" and message["payload"]["code"] == "INTERNAL_ERROR"
        assert await receive_close(comm) == 1011

    run(scenario())


def test_consumer_sends_keepalive_while_running(settings):
    settings.JOB_KEEPALIVE_SECONDS = 0.2

    async def scenario():
        job, token = await database_sync_to_async(job_create)(pipeline="ai_scan", total=3)
        reporter = await database_sync_to_async(JobProgressReporter)(job_id=job.id)
        await database_sync_to_async(reporter.started)(total=3)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}")
        assert (await comm.connect())[0] is True
        assert (await receive(comm))["type"] == "job_started"
        keepalive = await receive(comm, timeout=2)
        assert keepalive["type"] == "job_progress" and keepalive["payload"]["keepAlive"] is True
        assert isinstance(keepalive["payload"]["currentItem"], str)
        assert keepalive["seq"] == 1  # ephemeral frames repeat the last logged seq
        await comm.disconnect()

    run(scenario())


def _csv_job_with_unwritten_progress(processed=3, total=10):
    """A running csv_import job whose log is ahead of its row (20-update throttle: the row says 0)."""
    job, token = job_create(pipeline="csv_import", total=total)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=total)
    for i in range(1, processed + 1):
        reporter.progress(processed=i, status=f"Imported {i} rows", current_item=f"row {i}")
    return job, token


def test_consumer_keepalive_and_reconnected_never_go_below_logged_progress(settings):
    settings.JOB_KEEPALIVE_SECONDS = 0.2

    async def scenario():
        job, token = await database_sync_to_async(_csv_job_with_unwritten_progress)(processed=3, total=10)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}&lastSeq=4&reconnect=true")
        assert (await comm.connect())[0] is True
        reconnected = await receive(comm)
        assert reconnected["type"] == "reconnected" and reconnected["seq"] == 4
        assert reconnected["payload"]["progress"] == 0.3 and reconnected["payload"]["processedCount"] == 3
        keepalive = await receive(comm, timeout=2)
        assert keepalive["type"] == "job_progress" and keepalive["payload"]["keepAlive"] is True
        assert keepalive["seq"] == 4
        assert keepalive["payload"]["progress"] == 0.3 and keepalive["payload"]["processedCount"] == 3
        assert keepalive["payload"]["status"] == "Imported 3 rows" and keepalive["payload"]["currentItem"] == "row 3"
        await comm.disconnect()

        # A live client that saw seq 1-4 gets keep-alives at the last progress it was sent, not the row's 0.
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}")
        assert (await comm.connect())[0] is True
        seen = [await receive(comm) for _ in range(4)]
        keepalive = await receive(comm, timeout=2)
        assert keepalive["payload"]["keepAlive"] is True and keepalive["seq"] == seen[-1]["seq"]
        assert keepalive["payload"]["processedCount"] == seen[-1]["payload"]["processedCount"] == 3
        await comm.disconnect()

    run(scenario())


def test_consumer_reconnected_shows_progress_at_the_resume_point_then_replays_forward():
    async def scenario():
        job, token = await database_sync_to_async(_csv_job_with_unwritten_progress)(processed=3, total=10)
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}&lastSeq=2&reconnect=true")
        assert (await comm.connect())[0] is True
        frames = [await receive(comm) for _ in range(3)]
        assert [f["type"] for f in frames] == ["reconnected", "job_progress", "job_progress"]
        progress = [f["payload"]["progress"] for f in frames]
        assert progress == sorted(progress) == [0.1, 0.2, 0.3]
        await comm.disconnect()

    run(scenario())


@pytest.mark.parametrize("ending", ["complete", "cancel", "fail"])
def test_consumer_closes_finished_job_when_client_already_saw_every_event(ending):
    def finished():
        job, token = job_create(pipeline="batch_enrichment", total=2)
        reporter = JobProgressReporter(job_id=job.id)
        reporter.started(total=2)
        reporter.progress(processed=1, status="x")
        if ending == "complete":
            reporter.complete(summary=_summary(job), results={"books": []})
        elif ending == "cancel":
            job_cancel(job_id=job.id, token=token)
        else:
            reporter.fail(code="INTERNAL_ERROR", message="boom")
        return job, token

    expected_type, expected_code = {
        "complete": ("job_complete", 1000),
        "cancel": ("job_progress", 1001),
        "fail": ("error", 1011),
    }[ending]

    async def scenario():
        job, token = await database_sync_to_async(finished)()
        comm = communicator(f"/ws/progress?jobId={job.id}&token={token}&lastSeq=3")
        assert (await comm.connect())[0] is True
        message = await receive(comm)
        assert message["type"] == expected_type and message["seq"] == 3
        assert await receive_close(comm) == expected_code

    run(scenario())
