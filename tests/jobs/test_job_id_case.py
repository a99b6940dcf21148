"""Job ids in any case (RFC 4122: case-insensitive on input; Swift's `UUID().uuidString` is upper-case):
every route and the socket accept them and answer with the id as the request wrote it."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import Job
from jobs.routing import websocket_urlpatterns
from jobs.services import job_create, job_id_as_sent
from tests.factories import bearer, job_complete


@pytest.fixture
def client():
    return APIClient()


# A fixed id with letters in every group, so each spelling below really differs from the canonical one.
JOB_ID = uuid.UUID("6fabcdef-12ab-4abc-8def-0123456789ab")
UPPER = str(JOB_ID).upper()
MIXED = "6FabCDef-12Ab-4aBC-8dEF-0123456789Ab"


def test_job_id_as_sent_echoes_only_a_spelling_of_the_same_job():
    job_id = uuid.uuid4()
    assert job_id_as_sent(sent=str(job_id).upper(), job_id=job_id) == str(job_id).upper()
    assert job_id_as_sent(sent=str(uuid.uuid4()).upper(), job_id=job_id) == str(job_id)
    assert job_id_as_sent(sent=None, job_id=job_id) == str(job_id)
    assert job_id_as_sent(sent="not-a-uuid", job_id=job_id) == str(job_id)


@pytest.mark.parametrize("sent", [UPPER, MIXED])
def test_job_state_answers_any_case_with_the_id_as_sent(client, make_job, sent):
    job, token = make_job(total=1, job_id=JOB_ID)
    job_complete(job, results={"books": []}, total=1)
    response = client.get(f"/api/job-state/{sent}", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["jobId"] == sent and body["resultsUrl"] == f"/v1/enrichment/results/{sent}"
    assert client.get(f"/api/job-state/{str(uuid.uuid4()).upper()}", **bearer(token)).status_code == 404


@pytest.mark.parametrize(
    ("pipeline", "route"), [("ai_scan", "scan"), ("csv_import", "csv"), ("batch_enrichment", "enrichment")]
)
def test_results_routes_answer_any_case(client, make_job, pipeline, route):
    job, token = make_job(pipeline=pipeline, total=1, job_id=JOB_ID)
    job_complete(job, results={"books": []}, total=1)
    for sent in (UPPER, MIXED):
        assert client.get(f"/v1/{route}/results/{sent}").status_code == 200
        assert client.get(f"/v1/{route}/results/{sent}", **bearer(token)).status_code == 200


@pytest.mark.parametrize("route", ["/api/enrichment/cancel", "/api/scan-bookshelf/cancel"])
def test_cancel_routes_answer_any_case_with_the_id_as_sent(client, make_job, route):
    job, token = make_job(job_id=JOB_ID)
    sent = UPPER
    response = client.post(route, {"jobId": sent, "token": token}, format="json")
    assert response.status_code == 200 and response.json() == {"jobId": sent, "status": "canceled"}
    assert Job.objects.get(pk=job.id).status == "canceled"


def test_token_refresh_answers_any_case_with_the_id_as_sent(client, make_job):
    job, token = make_job(job_id=JOB_ID)
    Job.objects.filter(pk=job.id).update(token_expires_at=timezone.now() + timedelta(minutes=10))
    sent = MIXED
    response = client.post("/api/token/refresh", {"jobId": sent, "oldToken": token}, format="json")
    assert response.status_code == 200 and response.json()["jobId"] == sent


@pytest.mark.django_db(transaction=True)
def test_socket_accepts_any_case_and_every_frame_echoes_the_id_as_sent():
    def finished():
        job, token = job_create(pipeline="batch_enrichment", total=1, job_id=JOB_ID)
        job_complete(job, results={"books": []}, total=1)
        return job, token

    async def scenario():
        job, token = await database_sync_to_async(finished)()
        sent = MIXED
        comm = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/progress?jobId={sent}&token={token}&reconnect=true"
        )
        assert (await comm.connect())[0] is True
        frames = [json.loads(await comm.receive_from(timeout=3)) for _ in range(3)]
        assert [f["type"] for f in frames] == ["reconnected", "job_started", "job_complete"]
        assert all(f["jobId"] == sent for f in frames)
        assert (await comm.receive_output(timeout=3))["type"] == "websocket.close"

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))
