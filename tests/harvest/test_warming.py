"""Cache warming (issue 12 item 3): the upload route, the CSV reading, and the proof that a warmed
search costs no upstream call (the local fakes count every request)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from booktrack.celery import app
from harvest.models import WarmingRun
from harvest.tasks import warm_author
from harvest.warming import warming_authors_parse
from search.cache.tiers import cache_reset_local
from tests.harvest.conftest import b64

UPLOAD = "/api/warming/upload"
pytestmark = pytest.mark.django_db(transaction=True)


def _searches(client: APIClient) -> dict[str, dict]:
    """The searches a user would make for Frank Herbert and his best-known book."""
    return {
        "advanced": client.get("/v1/search/advanced", {"author": "Frank Herbert"}).json(),
        "author": client.get("/search/author", {"q": "frank herbert"}).json(),
        "title": client.get("/v1/search/title", {"q": "Dune", "limit": 10, "offset": 10}).json(),
    }


def _another_process() -> None:
    """Forget this process's edge tier: what is left is what any web process would find (KV)."""
    cache_reset_local()


def test_a_warmed_author_is_searched_with_zero_upstream_calls(ops, fake):
    response = ops.post(UPLOAD, {"csv": b64("author\nFrank Herbert\n")}, format="json")

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["authorsQueued"] == 1
    run = WarmingRun.objects.get(pk=data["jobId"])
    assert (run.authors_queued, run.warmed, run.dead_lettered) == (1, 1, 0)
    assert fake.count("openlibrary") > 0 and fake.count("google") > 0  # the warm-up itself asked

    _another_process()
    fake.reset()
    answers = _searches(APIClient())

    assert fake.counts() == {}  # no provider, no Wikidata: every answer came from the shared tier
    advanced = answers["advanced"]
    assert advanced["metadata"]["cached"] is True and advanced["metadata"]["cacheSource"] == "KV"
    assert any(w["title"] == "Dune" for w in advanced["data"]["works"])
    # The author facts that decorate the answer were warmed too (Wikidata Q7934 in the fakes).
    assert {"name": "Frank Herbert", "wikidataID": "Q7934"}.items() <= advanced["data"]["authors"][0].items()
    assert answers["author"]["cached"] is True and answers["author"]["works"]
    assert answers["title"]["metadata"]["cacheSource"] == "KV"


def test_the_same_searches_without_warming_call_the_providers(ops, fake):
    _searches(APIClient())

    assert fake.count("openlibrary") > 0 and fake.count("google") > 0


def test_max_depth_two_warms_the_co_authors(ops, fake):
    response = ops.post(UPLOAD, {"csv": b64("Amal El-Mohtar\n"), "maxDepth": 2}, format="json")

    assert response.status_code == 202
    run = WarmingRun.objects.get(pk=response.json()["data"]["jobId"])
    assert (run.authors_queued, run.coauthors_queued, run.warmed) == (1, 1, 2)
    _another_process()
    fake.reset()
    body = APIClient().get("/v1/search/advanced", {"author": "Max Gladstone"}).json()
    assert fake.counts() == {}
    assert body["metadata"]["cacheSource"] == "KV"


def test_max_depth_one_stops_at_the_named_authors(ops, fake):
    response = ops.post(UPLOAD, {"csv": b64("Amal El-Mohtar\n")}, format="json")

    run = WarmingRun.objects.get(pk=response.json()["data"]["jobId"])
    assert (run.coauthors_queued, run.warmed) == (0, 1)
    _another_process()
    fake.reset()
    APIClient().get("/v1/search/advanced", {"author": "Max Gladstone"})
    assert fake.count("openlibrary") > 0


def test_a_co_author_named_in_the_upload_is_warmed_once(ops, fake):
    response = ops.post(UPLOAD, {"csv": b64("Amal El-Mohtar\nMax Gladstone\n"), "maxDepth": 3}, format="json")

    run = WarmingRun.objects.get(pk=response.json()["data"]["jobId"])
    assert (run.authors_queued, run.coauthors_queued, run.warmed) == (2, 0, 2)


def test_multipart_upload_and_the_run_route(ops, fake):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = "Title,Author,Additional Authors\nDune,Frank Herbert,\nThe Time War,Amal El-Mohtar,Max Gladstone\n"
    file = SimpleUploadedFile("list.csv", csv.encode(), content_type="text/csv")
    response = ops.post(UPLOAD, {"file": file, "maxDepth": "1"}, format="multipart")

    assert response.status_code == 202, response.content
    job_id = response.json()["data"]["jobId"]
    assert response.json()["data"]["authorsQueued"] == 3
    state = ops.get(f"/api/warming/{job_id}").json()["data"]
    assert state["warmed"] == 3 and state["pending"] == 0 and state["maxDepth"] == 1


# --- bad input and access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"csv": "not base64 at all!"}, "INVALID_FILE"),
        ({"csv": b64("   \n\n")}, "INVALID_FILE"),
        ({"csv": 12}, "INVALID_FILE"),
        ({}, "MISSING_PARAMETER"),
        ({"csv": b64("Frank Herbert\n"), "maxDepth": 0}, "INVALID_REQUEST"),
        ({"csv": b64("Frank Herbert\n"), "maxDepth": 4}, "INVALID_REQUEST"),
        ({"csv": b64("Frank Herbert\n"), "maxDepth": "deep"}, "INVALID_REQUEST"),
        ({"csv": b64("Frank Herbert\n"), "maxDepth": True}, "INVALID_REQUEST"),
        ({"csv": b64("Title,ISBN\nDune,9780441172719\n")}, "INVALID_FILE"),
    ],
)
def test_bad_uploads_answer_the_contract_error(ops, body, code):
    response = ops.post(UPLOAD, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not WarmingRun.objects.exists()


def test_too_many_authors_is_refused(ops, settings):
    settings.WARMING_MAX_AUTHORS = 2
    response = ops.post(UPLOAD, {"csv": b64("A One\nB Two\nC Three\n")}, format="json")

    assert response.status_code == 400 and response.json()["error"]["code"] == "BATCH_TOO_LARGE"


def test_ops_routes_need_staff_or_the_ops_token(settings):
    settings.OPS_TOKEN = "right"
    anonymous = APIClient()
    assert anonymous.post(UPLOAD, {"csv": b64("A\n")}, format="json").status_code == 401
    assert anonymous.get("/api/warming/dlq").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert wrong.get("/api/warming/dlq").status_code == 401
    user = APIClient()
    user.force_login(User.objects.create_user("reader", password="x"))
    assert user.get("/api/warming/dlq").json()["error"]["code"] == "FORBIDDEN"
    staff = APIClient()
    staff.force_login(User.objects.create_user("ops", password="x", is_staff=True))
    assert staff.get("/api/warming/dlq").status_code == 200


def test_warm_ups_run_on_the_providers_queue_and_are_acks_late():
    route = app.amqp.router.route(warm_author._get_exec_options(), warm_author.name, (), {}, warm_author)

    assert route["queue"].name == "providers"
    assert warm_author.acks_late is True


# --- reading author names ----------------------------------------------------------------------------------


def test_a_book_export_gives_its_author_columns():
    csv = (
        "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Exclusive Shelf\n"
        '1,Good Omens,Terry Pratchett,"Pratchett, Terry",Neil Gaiman,,,5,read\n'
        '2,Dune,Frank Herbert,"Herbert, Frank",,,,4,read\n'
        "3,Mort,terry pratchett,,,,,3,read\n"
    )
    assert warming_authors_parse(csv.encode()) == ("Terry Pratchett", "Neil Gaiman", "Frank Herbert")


def test_a_plain_list_is_one_name_a_row_with_or_without_a_header():
    assert warming_authors_parse(b"Ursula K. Le Guin\nOctavia E. Butler\n\n") == (
        "Ursula K. Le Guin",
        "Octavia E. Butler",
    )
    assert warming_authors_parse("name\nGabriel García Márquez\nHaruki Murakami\n".encode()) == (
        "Gabriel García Márquez",
        "Haruki Murakami",
    )
    assert warming_authors_parse("\ufeffAuthor;Note\nChinua Achebe;x\n".encode()) == ("Chinua Achebe",)


def test_a_data_url_and_wrapped_base64_are_read(ops, monkeypatch):
    from harvest import warming

    queued: list[str] = []
    monkeypatch.setattr(warming, "_enqueue_on_commit", lambda **kwargs: queued.append(kwargs["author"]))
    wrapped = b64("Frank Herbert\nUrsula K. Le Guin\n")
    body = {"csv": "data:text/csv;base64," + wrapped[:8] + "\n" + wrapped[8:]}

    response = ops.post(UPLOAD, body, format="json")

    assert response.status_code == 202 and queued == ["Frank Herbert", "Ursula K. Le Guin"]
