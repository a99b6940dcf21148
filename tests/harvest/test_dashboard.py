"""The harvest dashboard (`/admin/harvest/dashboard/`) and the admin of runs and covers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from harvest.covers import covers_harvest, covers_harvest_create
from harvest.models import Cover

pytestmark = pytest.mark.django_db(transaction=True)

DASHBOARD = "/admin/harvest/dashboard/"
ISBNS = ("9780374104092", "9780593201732", "9780000000002")  # ISBNdb cover, Google cover, none anywhere


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_user("staff", password="pw", is_staff=True))
    return client


def figure(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"><span class="value">([^<]+)</span>', html)
    assert match, f"no figure {element_id}"
    return match.group(1).strip()


def test_anonymous_and_non_staff_are_sent_to_the_admin_login(client, db):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(
        "/admin/login/?next=/admin/harvest/dashboard/"
    )
    client.force_login(get_user_model().objects.create_user("reader", password="pw"))
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_dashboard_before_any_harvest(staff_client):
    html = staff_client.get(DASHBOARD).content.decode()
    assert figure(html, "covers-stored") == "0"
    assert "No harvest has run yet." in html and "No cover stored yet." in html


def test_the_dashboard_shows_the_real_figures_of_a_harvest(staff_client, harvest_env, catalog_editions, settings):
    settings.HARVEST_DAILY_BUDGET = 40
    catalog_editions(*ISBNS)
    run = covers_harvest(run_id=str(covers_harvest_create(trigger="command", limit=10).id))
    response = staff_client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    stored_bytes = sum(c.bytes_total for c in Cover.objects.all())
    assert figure(html, "covers-stored") == "2"
    assert f"storage used ({stored_bytes} bytes)" in html
    assert figure(html, "covers-missing") == "1"
    assert figure(html, "budget-used") == f"{run.budget_used} / 40"
    assert f"{40 - run.budget_used} left" in html
    sources = re.findall(r"<tr><td>([a-z-]+)</td><td>(\d+)</td>", html)
    assert sorted(sources) == [("google-books", "1"), ("isbndb", "1")]
    rows = html.count('class="harvest-run"')
    assert rows == 1 and "complete" in html and f"/admin/harvest/harvestrun/{run.run_id}/change/" in html
    for isbn in ISBNS[:2]:
        assert f'src="/covers/{isbn}?size=small"' in html  # the latest covers, served by /covers


def test_the_admin_lists_runs_and_covers(client, harvest_env, catalog_editions):
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
    staff_client = client
    catalog_editions(ISBNS[0])
    run = covers_harvest(run_id=str(covers_harvest_create(trigger="command", limit=10).id))
    runs = staff_client.get("/admin/harvest/harvestrun/").content.decode()
    assert run.run_id in runs and "Harvest dashboard" in runs
    covers = staff_client.get("/admin/harvest/cover/").content.decode()
    assert ISBNS[0] in covers and "isbndb" in covers
    cover = Cover.objects.get()
    assert staff_client.get(f"/admin/harvest/cover/{cover.pk}/change/").status_code == 200
    assert staff_client.get(f"/admin/harvest/harvestrun/{run.run_id}/change/").status_code == 200
    assert "/admin/harvest/harvestrun/add/" not in runs  # runs are started by the route, beat or command


def test_staff_can_start_a_run_from_the_dashboard(staff_client, harvest_env, catalog_editions):
    from harvest.models import HarvestRun

    catalog_editions(ISBNS[0])
    response = staff_client.post(DASHBOARD, follow=True)
    run = HarvestRun.objects.get()
    assert run.trigger == "admin" and run.status == "complete" and run.stored == 1  # Celery eager
    assert f"Harvest run {run.id} queued." in response.content.decode()
    running = HarvestRun.objects.create(trigger="schedule", limit=5)
    refused = staff_client.post(DASHBOARD, follow=True).content.decode()
    assert "A cover harvest is already under way." in refused and str(running.id) in refused
    assert HarvestRun.objects.count() == 2


def test_a_start_without_the_csrf_token_is_refused(db, harvest_env):
    from django.test import Client

    from harvest.models import HarvestRun

    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_user("staff2", password="pw", is_staff=True))
    assert client.post(DASHBOARD).status_code == 403
    assert not HarvestRun.objects.exists()
