"""search.merge: answers from several providers become one hit per book (authors, first publication year)."""

from __future__ import annotations

from search.dto import ProviderPage
from search.merge import merge_pages
from tests.factories import search_hit


def test_merge_deduplicates_authors_on_folded_key():
    def hit(provider, *names):
        return search_hit("Dune", isbn="9780441172719", provider=provider, authors=names)

    pages = [
        ProviderPage(provider="google-books", hits=(hit("google-books", "Frank Herbert", "Frank Herbert"),)),
        ProviderPage(provider="isbndb", hits=(hit("isbndb", "Frank Herbert"),)),
    ]
    merged = merge_pages(pages, priority={"google-books": 0, "isbndb": 1})
    assert [a.name for a in merged[0].authors] == ["Frank Herbert"]


def _year_hit(provider, year, *, from_edition):
    return search_hit(
        "Dune", isbn="9780441172719", provider=provider, credited=True, year=year, year_from_edition=from_edition
    )


def test_merge_prefers_openlibrary_first_publish_year_over_edition_dates():
    pages = [
        ProviderPage(provider="google-books", hits=(_year_hit("google-books", 2019, from_edition=True),)),
        ProviderPage(provider="isbndb", hits=(_year_hit("isbndb", 1990, from_edition=True),)),
        ProviderPage(provider="openlibrary", hits=(_year_hit("openlibrary", 1965, from_edition=False),)),
    ]
    (hit,) = merge_pages(pages, priority={"google-books": 0, "openlibrary": 1, "isbndb": 2})
    assert hit.work.first_publication_year == 1965
    assert hit.work.provenance["first_publication_year"] == "openlibrary"
    # Preferred even when an edition claims an earlier year.
    pages[2] = ProviderPage(provider="openlibrary", hits=(_year_hit("openlibrary", 2000, from_edition=False),))
    (hit,) = merge_pages(pages, priority={"google-books": 0, "openlibrary": 1, "isbndb": 2})
    assert hit.work.first_publication_year == 2000
    assert "yearFromEdition" not in hit.work.to_wire()


def test_merge_edition_dates_only_take_the_earliest():
    pages = [
        ProviderPage(provider="google-books", hits=(_year_hit("google-books", 2019, from_edition=True),)),
        ProviderPage(provider="isbndb", hits=(_year_hit("isbndb", 1990, from_edition=True),)),
    ]
    (hit,) = merge_pages(pages, priority={"google-books": 0, "isbndb": 1})
    assert hit.work.first_publication_year == 1990 and hit.work.year_from_edition
