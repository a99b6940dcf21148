"""Edition scoring and ranking: pure, no network, no database."""

from __future__ import annotations

import pytest

from enrichment.editions import (
    DEFAULT_FORMAT_ORDER,
    cover_size,
    edition_score,
    editions_rank,
    format_order,
)
from search.dto import EditionDTO, SearchHit, WorkDTO

YEAR = 2025
OL = "https://covers.openlibrary.org/b/id/123"
GOOGLE = "https://books.google.com/books/content?id=X&printsec=frontcover&img=1"


def edition(isbn: str | None = "9780441172719", fmt: str = "Paperback", *, stated: bool = True, **values) -> EditionDTO:
    fields = {
        "title": "Dune",
        "publisher": "Ace",
        "publication_date": "2019",
        "page_count": 600,
        "cover_image_url": f"{OL}-L.jpg",
        "language": "en",
        "edition_description": "A desert planet.",
    }
    fields.update(values)
    provenance = {"format": "isbndb"} if stated else {}
    return EditionDTO(isbn=isbn, isbns=(isbn,) if isbn else (), format=fmt, provenance=provenance, **fields)


def formats(ranked) -> list[str]:
    return [s.edition.format for s in ranked]


ISBNS = {
    "Hardcover": "9780593099322",
    "Paperback": "9780441013593",
    "Mass Market": "9780441172719",
    "E-book": "9780593201732",
    "Audiobook": "9781427201430",
}


def all_formats(**values) -> list[EditionDTO]:
    return [edition(ISBNS[f], f, **values) for f in reversed(DEFAULT_FORMAT_ORDER)]


def test_editions_rank_default_format_order():
    ranked = editions_rank(all_formats(), current_year=YEAR)
    assert formats(ranked) == ["Hardcover", "Paperback", "Mass Market", "E-book", "Audiobook"]


@pytest.mark.parametrize("preferred", DEFAULT_FORMAT_ORDER)
def test_editions_rank_preferred_format_first_then_default_order(preferred):
    ranked = editions_rank(all_formats(), format_preference=preferred, current_year=YEAR)
    assert formats(ranked) == list(format_order(preferred))
    assert formats(ranked)[0] == preferred and ranked[0].score.format_preferred


def test_format_priority_beats_quality():
    poor_hardcover = edition(
        ISBNS["Hardcover"], "Hardcover", cover_image_url=None, publisher=None, publication_date="1970"
    )
    rich_paperback = edition(ISBNS["Paperback"], "Paperback")
    ranked = editions_rank([rich_paperback, poor_hardcover], current_year=YEAR)
    assert formats(ranked) == ["Hardcover", "Paperback"]
    assert ranked[0].score.quality < ranked[1].score.quality


def test_unstated_paperback_is_not_the_preferred_format():
    guessed = edition(ISBNS["E-book"], "Paperback", stated=False)  # unknown binding -> Paperback default
    stated = edition(ISBNS["Paperback"], "Paperback", cover_image_url=None)
    hardcover = edition(ISBNS["Hardcover"], "Hardcover")
    ranked = editions_rank([guessed, stated, hardcover], format_preference="Paperback", current_year=YEAR)
    assert [s.edition.isbn for s in ranked] == [ISBNS["Paperback"], ISBNS["Hardcover"], ISBNS["E-book"]]
    assert not ranked[2].score.format_preferred and not ranked[2].score.format_stated
    # Without a preference it still sorts after a stated paperback of lower quality.
    ranked = editions_rank([guessed, stated], current_year=YEAR)
    assert [s.edition.isbn for s in ranked] == [ISBNS["Paperback"], ISBNS["E-book"]]


def test_language_preference_first_then_unknown_then_other():
    spanish = edition("9788497596824", "Paperback", language="es")
    english = edition(ISBNS["Hardcover"], "Hardcover", language="en")
    unknown = edition(ISBNS["Mass Market"], "Mass Market", language=None)
    ranked = editions_rank([english, unknown, spanish], language="es", current_year=YEAR)
    assert [s.edition.language for s in ranked] == ["es", None, "en"]
    assert [s.score.language_rank for s in ranked] == [0, 1, 2]
    # Language wins over format: a Spanish paperback before an English hardcover.
    ranked = editions_rank([english, spanish], language="ES", format_preference="Hardcover", current_year=YEAR)
    assert ranked[0].edition.language == "es"


@pytest.mark.parametrize(
    ("url", "size", "pixels"),
    [
        (None, "none", 0),
        (f"{OL}-S.jpg", "small", 68),
        (f"{OL}-M.jpg", "medium", 270),
        (f"{OL}-L.jpg", "large", 600),
        ("http://127.0.0.1:9/covers/b/isbn/9780441172719-L.jpg", "large", 600),
        (f"{GOOGLE}&zoom=5", "small", 80),
        (f"{GOOGLE}&zoom=1", "small", 128),
        (f"{GOOGLE}&zoom=3", "large", 575),
        (f"{GOOGLE}&zoom=6", "large", 1280),
        (f"{GOOGLE}&fife=w800-h1200", "large", 800),
        ("https://images.isbndb.com/covers/27/19/9780441172719.jpg", "medium", 300),
        ("https://example.org/cover.jpg", "medium", 250),
    ],
)
def test_cover_size_from_url_conventions(url, size, pixels):
    found = cover_size(url)
    assert (found.size, found.pixels) == (size, pixels)


def test_bigger_cover_scores_higher_within_a_format():
    sizes = ["S", "M", "L"]
    editions = [
        edition(f"97804411727{i}9"[:13], "Paperback", cover_image_url=f"{OL}-{s}.jpg") for i, s in enumerate(sizes)
    ]
    scores = [edition_score(e, current_year=YEAR) for e in editions]
    assert scores[0].cover < scores[1].cover < scores[2].cover
    assert scores[0].quality < scores[1].quality < scores[2].quality
    no_cover = edition_score(edition(cover_image_url=None), current_year=YEAR)
    assert no_cover.cover == 0 and no_cover.cover_size == "none"


def test_completeness_lists_missing_fields_and_counts_the_work_description():
    bare = EditionDTO(isbn="9780441172719", isbns=("9780441172719",))
    score = edition_score(bare, current_year=YEAR)
    assert score.completeness == 0
    assert score.missing == (
        "title", "publisher", "publicationDate", "pageCount", "coverImageURL", "language", "description",
    )  # fmt: skip
    full = edition_score(edition(), current_year=YEAR)
    assert full.completeness == 1 and full.missing == ()
    no_description = edition(edition_description=None)
    assert "description" in edition_score(no_description, current_year=YEAR).missing
    lent = edition_score(no_description, work=WorkDTO(title="Dune", description="Arrakis."), current_year=YEAR)
    assert "description" not in lent.missing


@pytest.mark.parametrize(
    ("date", "recency"), [("2025-01-01", 1.0), ("2000", 0.5), ("1975", 0.0), ("1808", 0.0), (None, 0.0)]
)
def test_recency_from_publication_year(date, recency):
    score = edition_score(edition(publication_date=date), current_year=YEAR)
    assert score.recency == recency


def test_newer_printing_wins_between_equal_editions():
    old = edition("9780441013593", "Paperback", publication_date="1990")
    new = edition("9780593099322", "Paperback", publication_date="2021")
    assert editions_rank([old, new], current_year=YEAR)[0].edition.isbn == "9780593099322"


def test_dedupe_by_isbn13_keeps_the_best_copy():
    small = edition("9780441172719", "Mass Market", cover_image_url=f"{OL}-S.jpg")
    large = edition("9780441172719", "Mass Market", cover_image_url=f"{OL}-L.jpg")
    isbn10_only = EditionDTO(isbns=("0441172717",), format="Mass Market", title="Dune")  # same book, ISBN-10
    other = edition("9780441013593", "Paperback")
    ranked = editions_rank([small, isbn10_only, other, large], current_year=YEAR)
    assert [s.isbn13 for s in ranked] == ["9780441013593", "9780441172719"]
    assert ranked[1].edition.cover_image_url.endswith("-L.jpg")


def test_editions_without_isbn_come_after_and_dedupe_by_edition_id():
    a = EditionDTO(
        format="Hardcover", title="Dune", open_library_edition_id="OL1M", provenance={"format": "openlibrary"}
    )
    a_again = EditionDTO(
        format="Hardcover",
        title="Dune",
        open_library_edition_id="OL1M",
        publisher="Ace",
        provenance={"format": "openlibrary"},
    )
    paperback = edition("9780441013593", "Paperback")
    ranked = editions_rank([a, a_again, paperback], current_year=YEAR)
    assert len(ranked) == 2
    # Format comes before "has an ISBN-13": this Hardcover outranks the Paperback.
    assert ranked[0].edition.open_library_edition_id == "OL1M" and ranked[0].edition.publisher == "Ace"
    no_isbn_paperback = EditionDTO(format="Paperback", title="Dune", provenance={"format": "isbndb"})
    ranked = editions_rank(
        [no_isbn_paperback, edition("9780441013593", "Paperback", cover_image_url=None)], current_year=YEAR
    )
    assert ranked[0].isbn13 == "9780441013593" and ranked[1].isbn13 is None


def test_editions_rank_takes_search_hits_and_keeps_their_work():
    work = WorkDTO(title="Dune", description="Arrakis.")
    hit = SearchHit(work=work, edition=edition(edition_description=None))
    ranked = editions_rank([hit], current_year=YEAR)
    assert ranked[0].work is work and ranked[0].score.completeness == 1
