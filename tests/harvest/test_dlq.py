"""The cache-warming dead-letter queue (issue 12 item 3): real failures after the last retry, listed
by the route and the command, requeued by the route, the admin action and the command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from harvest.models import WarmingDeadLetter, WarmingRun
from harvest.tasks import warm_author
from tests.harvest.conftest import b64

DLQ = "/api/warming/dlq"
REQUEUE = "/api/warming/dlq/requeue"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failing(fake, sleeps):
    """Every upstream answers 500 (the outbound client's waits are recorded, not slept)."""
    fake.configure("all", status=500)
    return fake


def _upload(ops, names: str) -> WarmingRun:
    response = ops.post("/api/warming/upload", {"csv": b64(names)}, format="json")
    assert response.status_code == 202, response.content
    return WarmingRun.objects.get(pk=response.json()["data"]["jobId"])


def test_a_warm_up_that_keeps_failing_becomes_a_dead_letter_after_its_retries(ops, failing):
    run = _upload(ops, "Frank Herbert\n")

    letter = WarmingDeadLetter.objects.get()
    assert letter.author == "Frank Herbert" and letter.run_id == run.id
    assert letter.attempts == warm_author.max_retries + 1
    assert "ProviderUnavailable" in letter.error
    run.refresh_from_db()
    assert (run.warmed, run.dead_lettered) == (0, 1)
    # Every attempt really asked the providers again (until their breakers opened).
    assert failing.count("openlibrary") >= 2

    body = ops.get(DLQ).json()["data"]
    assert body["queue"] == "harvest.warm_author" and body["depth"] == 1
    [item] = body["items"]
    assert item["id"] == letter.id and item["author"] == "Frank Herbert"
    assert item["attempts"] == letter.attempts and item["failedAt"].startswith(str(letter.failed_at.date()))
    assert "ProviderUnavailable" in item["error"]


def test_requeue_by_id_warms_again_once_the_providers_heal(ops, failing):
    from booktrack.core.http import reset_clients

    run = _upload(ops, "Frank Herbert\nUrsula K. Le Guin\n")
    letters = {letter.author: letter for letter in WarmingDeadLetter.objects.all()}
    assert set(letters) == {"Frank Herbert", "Ursula K. Le Guin"}
    failing.reset()
    reset_clients()  # close the circuit breakers the outage opened

    response = ops.post(REQUEUE, {"ids": [letters["Frank Herbert"].id, 999_999]}, format="json")

    assert response.status_code == 200
    assert response.json()["data"] == {"requeued": 1, "ids": [letters["Frank Herbert"].id], "notFound": [999_999]}
    assert list(WarmingDeadLetter.objects.values_list("author", flat=True)) == ["Ursula K. Le Guin"]
    run.refresh_from_db()
    assert (run.warmed, run.dead_lettered) == (1, 1)
    assert ops.get(DLQ).json()["data"]["depth"] == 1


def test_a_requeued_letter_that_fails_again_counts_its_attempts_on(ops, failing):
    _upload(ops, "Frank Herbert\n")
    first = WarmingDeadLetter.objects.get()

    assert ops.post(REQUEUE, {"all": True}, format="json").json()["data"]["requeued"] == 1

    again = WarmingDeadLetter.objects.get()
    assert again.pk != first.pk and again.author == "Frank Herbert"
    assert again.attempts == 2 * (warm_author.max_retries + 1)


def test_requeue_all_empties_the_queue(ops, failing):
    from booktrack.core.http import reset_clients

    _upload(ops, "Frank Herbert\nUrsula K. Le Guin\n")
    failing.reset()
    reset_clients()

    assert ops.post(REQUEUE, {"all": True}, format="json").json()["data"]["requeued"] == 2
    assert ops.get(DLQ).json()["data"] == {"queue": "harvest.warm_author", "depth": 0, "items": []}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "MISSING_PARAMETER"),
        ({"ids": []}, "MISSING_PARAMETER"),
        ({"ids": "1"}, "INVALID_REQUEST"),
        ({"ids": [1, "x"]}, "INVALID_REQUEST"),
        ({"ids": [True]}, "INVALID_REQUEST"),
        ({"all": "yes"}, "INVALID_REQUEST"),
        ({"all": True, "ids": [1]}, "INVALID_REQUEST"),
    ],
)
def test_bad_requeue_bodies_answer_the_contract_error(ops, body, code):
    response = ops.post(REQUEUE, body, format="json")

    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_bad_list_limit_is_refused(ops):
    assert ops.get(DLQ, {"limit": "0"}).json()["error"]["code"] == "INVALID_QUERY"


def test_the_admin_action_requeues_the_selected_letters(failing, ops):
    from booktrack.core.http import reset_clients

    _upload(ops, "Frank Herbert\nUrsula K. Le Guin\n")
    herbert = WarmingDeadLetter.objects.get(author="Frank Herbert")
    failing.reset()
    reset_clients()
    admin = APIClient()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x"))

    response = admin.post(
        "/admin/harvest/warmingdeadletter/",
        {"action": "requeue", "_selected_action": [herbert.pk]},
    )

    assert response.status_code == 302
    assert list(WarmingDeadLetter.objects.values_list("author", flat=True)) == ["Ursula K. Le Guin"]
    page = admin.get("/admin/harvest/warmingdeadletter/")
    assert page.status_code == 200 and b"Ursula K. Le Guin" in page.content


def test_the_command_lists_and_requeues(failing, ops):
    from booktrack.core.http import reset_clients

    _upload(ops, "Frank Herbert\nUrsula K. Le Guin\n")
    herbert = WarmingDeadLetter.objects.get(author="Frank Herbert")
    out = StringIO()
    call_command("warming_dlq", stdout=out)
    listing = out.getvalue()
    assert "2 dead letter(s)" in listing and "Frank Herbert" in listing and "Ursula K. Le Guin" in listing

    failing.reset()
    reset_clients()
    out = StringIO()
    call_command("warming_dlq", "--requeue", "--id", str(herbert.pk), stdout=out)
    assert out.getvalue().strip() == "requeued 1"
    assert WarmingDeadLetter.objects.count() == 1

    call_command("warming_dlq", "--requeue", "--all", stdout=StringIO())
    assert WarmingDeadLetter.objects.count() == 0


def test_the_command_refuses_a_requeue_without_a_choice(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("warming_dlq", "--requeue")
