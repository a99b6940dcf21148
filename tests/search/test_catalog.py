"""The catalog merges answers for a while, then starts over (search.catalog)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from search.catalog import catalog_lookup_isbn, catalog_upsert_hits
from tests.factories import search_hit

pytestmark = pytest.mark.django_db

ISBN = "9780441172719"


# The one book these tests store, as one provider's answer (pass provider=, authors=, description=, ...).
hit = partial(search_hit, "Dune", isbn=ISBN, provider="google-books", credited=True, authors=("Frank Herbert",))


def test_thinner_answer_is_merged_into_the_stored_one():
    catalog_upsert_hits(hits=[hit(description="A long description of Dune.", publisher="Ace", provider="openlibrary")])
    catalog_upsert_hits(hits=[hit(authors=("Frank Herbert", "Brian Herbert"))])
    stored = catalog_lookup_isbn(isbn13=ISBN)
    assert stored.work.description == "A long description of Dune." and stored.edition.publisher == "Ace"
    assert set(stored.edition.contributors) == {"google-books", "openlibrary"}
    assert [a.name for a in stored.authors] == ["Frank Herbert", "Brian Herbert"]  # in order


def test_after_the_fresh_period_the_next_answer_starts_over(settings):
    from search.models import Edition, Work

    catalog_upsert_hits(hits=[hit(description="A wrong description.", provider="openlibrary")])
    long_ago = timezone.now() - timedelta(days=settings.SEARCH_CATALOG_FRESH_DAYS + 1)
    Edition.objects.update(merged_since=long_ago)
    Work.objects.update(merged_since=long_ago)
    catalog_upsert_hits(hits=[hit(publisher="Ace")])
    stored = catalog_lookup_isbn(isbn13=ISBN)
    assert stored.work.description is None and stored.edition.publisher == "Ace"
    assert Edition.objects.get().merged_since > long_ago
