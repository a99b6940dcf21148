"""Shared fixtures of the harvest tests: the cover fakes wired in, object storage in a fresh folder."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from harvest import cover_decoration
from harvest.covers import budget_reset_local


@pytest.fixture
def harvest_env(fake, settings, tmp_path):
    """The local fakes (ISBNdb with a key), storage under tmp_path, default sizes, budgets wide open."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.IMAGE_PROXY_SIZES = {"small": 128, "medium": 320, "large": 640}
    settings.SEARCH_ISBNDB_RPS = 1000  # the search budget must not make the tests wait
    settings.SEARCH_OPENLIBRARY_RPS = 1000
    settings.HARVEST_DAILY_BUDGET = 500
    settings.HARVEST_SOURCES = ["isbndb", "google-books", "openlibrary"]
    settings.COVERS_PUBLIC_BASE_URL = ""
    budget_reset_local()
    cover_decoration.memo_clear()
    yield fake
    budget_reset_local()
    cover_decoration.memo_clear()


@pytest.fixture
def catalog_editions(db):
    """`catalog_editions("9780...", ...)`: catalog editions (the search demand), newest first as given."""
    from search.models import Edition, Work

    def make(*isbns: str, cover_url: str = "") -> list[Edition]:
        now = timezone.now()
        out = []
        for index, isbn in enumerate(isbns):
            work = Work.objects.create(title=f"Book {isbn}", title_key=f"book {isbn}", fetched_at=now)
            out.append(
                Edition.objects.create(
                    work=work, isbn13=isbn, cover_image_url=cover_url, fetched_at=now - timedelta(seconds=index)
                )
            )
        return out

    return make


OPS_TOKEN = "ops-test-token"


@pytest.fixture
def ops(settings) -> APIClient:
    """A client holding the OPS_TOKEN bearer."""
    settings.OPS_TOKEN = OPS_TOKEN
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}")
    return client


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
