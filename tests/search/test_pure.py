"""ISBN rules, DTO wire form, merge and ranking: pure, no database, no network."""

from __future__ import annotations

import random
from functools import partial

import pytest

from booktrack.core.exceptions import InvalidIsbn
from search.cache.ttl import cache_ttl
from search.dto import AuthorDTO, EditionDTO, ProviderPage, SearchHit, SearchResult, WorkDTO, provider_label
from search.isbn import isbn_clean, isbn_normalize, isbn_to_10, isbn_to_13
from search.merge import merge_pages
from search.normalize import clean_description, normalize_date, normalize_format, normalize_language
from search.ranking import rank_hits
from search.text import edit_distance, fold, name_key, similarity, surname_key, title_key, uninvert_name
from tests.factories import search_hit

# One provider's answer: every value it set is credited to it in provenance (Frank Herbert unless told).
provider_hit = partial(search_hit, credited=True, authors=("Frank Herbert",))


def test_isbn_clean_and_convert():
    assert isbn_clean(" 978-0-306 40615-7 ") == "9780306406157"
    assert isbn_to_13("0-306-40615-2") == "9780306406157"
    assert isbn_to_10("9780306406157") == "0306406152"
    assert isbn_to_13("080442957x") == "9780804429573"
    assert isbn_to_10("9791032305690") is None


def test_isbn_normalize_rejects_bad_checksum():
    with pytest.raises(InvalidIsbn):
        isbn_normalize("9780306406158")
    with pytest.raises(InvalidIsbn):
        isbn_normalize("12345")


def test_dto_wire_names_and_optional_omission():
    work = WorkDTO(title="Dune", cover_image_url="https://x/c.jpg", provenance={"title": "openlibrary"})
    wire = work.to_wire()
    assert wire["coverImageURL"] == "https://x/c.jpg"
    for always in (
        "subjectTags",
        "goodreadsWorkIDs",
        "amazonASINs",
        "librarythingIDs",
        "googleBooksVolumeIDs",
        "isbndbQuality",
        "reviewStatus",
    ):
        assert always in wire
    assert "description" not in wire and wire["provenance"] == {"title": "openlibrary"}
    edition = EditionDTO(format="Other").to_wire()
    assert edition["format"] == "Paperback"
    assert AuthorDTO(name="X", gender="weird").to_wire() == {"name": "X", "gender": "Unknown"}


def test_provider_label():
    assert provider_label([]) == "none"
    assert provider_label(["openlibrary"]) == "openlibrary"
    assert provider_label(["google-books", "openlibrary", "google-books"]) == "merged:google-books+openlibrary"


def test_normalizers_dates_languages_formats_html():
    assert normalize_date("1808") == "1808"
    assert normalize_date("2004-05") == "2004-05"
    assert normalize_date("2019-10-03T00:00:00+02:00") == "2019-10-03"
    assert normalize_date(2015) == "2015"
    assert normalize_date("October 1, 1988") == "1988-10-01"
    assert normalize_language("/languages/spa") == "es" and normalize_language("eng") == "en"
    assert normalize_format("Kindle Edition") == "E-book"
    assert normalize_format("Audio CD") == "Audiobook"
    assert normalize_format("Spiral-bound") is None
    assert clean_description("<p>Hello&nbsp;<b>world</b></p>") == "Hello world"
    assert clean_description({"type": "/type/text", "value": "Plain"}) == "Plain"


def test_merge_by_isbn_field_by_field_with_provenance():
    google = provider_hit(
        "Dune",
        provider="google-books",
        isbn="9780441172719",
        cover="https://g/x?zoom=1",
        description="Short.",
        year=1990,
    )
    ol = provider_hit(
        "Dune",
        provider="openlibrary",
        isbn="9780441172719",
        cover="https://covers/b/id/1-L.jpg",
        description="A much longer description of Dune.",
        year=1965,
        pages=604,
    )
    isbndb = provider_hit("Dune", provider="isbndb", isbn="9780441172719", fmt="Mass Market")
    merged = merge_pages(
        [
            ProviderPage("google-books", (google,)),
            ProviderPage("openlibrary", (ol,)),
            ProviderPage("isbndb", (isbndb,)),
        ],
        priority={"google-books": 1, "openlibrary": 2, "isbndb": 3},
    )
    assert len(merged) == 1
    hit = merged[0]
    assert hit.work.cover_image_url.endswith("-L.jpg") and hit.work.provenance["cover_image_url"] == "openlibrary"
    assert hit.work.description.startswith("A much longer")
    assert hit.work.first_publication_year == 1965
    assert hit.edition.page_count == 604 and hit.edition.format == "Mass Market"
    assert hit.edition.provenance["format"] == "isbndb"
    assert set(hit.work.contributors) == {"google-books", "openlibrary"}
    assert set(hit.edition.contributors) == {"google-books", "openlibrary", "isbndb"}


def test_providers_that_only_add_to_union_fields_are_contributors():
    """Subjects and identifiers are unions: every provider that added an item is a contributor."""
    google = SearchHit(
        work=WorkDTO(
            title="Dune",
            subject_tags=("Fiction",),
            primary_provider="google-books",
            provenance={"title": "google-books", "subject_tags": "google-books"},
        ),
        edition=EditionDTO(
            isbns=("9780441172719",),
            isbn="9780441172719",
            primary_provider="google-books",
            provenance={"isbns": "google-books", "isbn": "google-books"},
        ),
    )
    ol = SearchHit(
        work=WorkDTO(
            title="Dune",
            subject_tags=("Desert Ecology",),
            primary_provider="openlibrary",
            provenance={"subject_tags": "openlibrary"},
        ),
        edition=EditionDTO(
            isbns=("9780441172719", "0441172717"),
            primary_provider="openlibrary",
            provenance={"isbns": "openlibrary"},
        ),
    )
    merged = merge_pages(
        [ProviderPage("google-books", (google,)), ProviderPage("openlibrary", (ol,))],
        priority={"google-books": 1, "openlibrary": 2},
    )[0]
    assert merged.work.subject_tags == ("Fiction", "Desert Ecology")
    assert merged.work.contributors == ("google-books", "openlibrary")
    assert merged.edition.isbns == ("9780441172719", "0441172717")
    assert merged.edition.contributors == ("google-books", "openlibrary")
    assert merged.work.primary_provider == "google-books"


def test_merge_by_title_and_author_keeps_accents_in_output():
    a = provider_hit("Cien años de soledad", provider="google-books", authors=("Gabriel García Márquez",))
    b = provider_hit(
        "CIEN ANOS DE SOLEDAD",
        provider="openlibrary",
        authors=("Garcia Marquez, Gabriel",),
        year=1967,
    )
    merged = merge_pages([ProviderPage("google-books", (a,)), ProviderPage("openlibrary", (b,))])
    assert len(merged) == 1
    assert merged[0].work.title == "Cien años de soledad"
    assert merged[0].work.first_publication_year == 1967


def test_merge_never_joins_different_isbns_by_title():
    a = provider_hit("Dune", provider="google-books", isbn="9780441172719")
    b = provider_hit("Dune", provider="openlibrary", isbn="9780593099322")
    assert len(merge_pages([ProviderPage("google-books", (a,)), ProviderPage("openlibrary", (b,))])) == 2


def test_rank_typo_tolerant_title():
    hits = [
        provider_hit(
            "Grateful Dead Lyrics",
            provider="x",
            authors=("A",),
            description="d" * 50,
            cover="https://c",
        ),
        provider_hit("The Great Gatsby", provider="x", authors=("F. Scott Fitzgerald",)),
    ]
    assert rank_hits(hits, query="Grate Gatsby")[0].work.title == "The Great Gatsby"


def test_rank_exact_isbn_first_then_quality():
    poor = provider_hit("Dune", provider="x", isbn="9780441172719")
    rich = provider_hit(
        "Dune",
        provider="x",
        isbn="9780593099322",
        cover="https://c",
        description="long",
    )
    assert rank_hits([rich, poor], query="Dune", isbn="9780441172719")[0] is poor
    assert rank_hits([poor, rich], query="Dune")[0] is rich


def test_title_key_folds_case_and_accents_not_scripts():
    assert title_key("L'Étranger") == title_key("l etranger")
    assert title_key("1Q84 BOOK1") == "1q84 book1"
    assert title_key("ノルウェイの森") == "ノルウェイの森"


def test_title_key_drops_leading_article_and_subtitle():
    assert title_key("The Hobbit: or There and Back Again") == "hobbit"
    assert title_key("Les Misérables") == "miserables"
    assert title_key("The") == "the"  # a one-word title keeps its only word
    assert title_key("It: A Novel") == "it a novel"  # too short a head to be the title


def test_fold_casefolds_and_drops_accents():
    assert fold("Gödel ÉMILE Straße") == "godel emile strasse"
    assert fold(None) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Herbert, Frank", "Frank Herbert"),
        ("King, Martin Luther, Jr.", "Martin Luther King Jr."),
        ("Martin Luther King, Jr.", "Martin Luther King, Jr."),
        ("Smith, John, 1950-", "Smith, John, 1950-"),
        (
            "Museum of Modern Art (New York, N.Y.), Department of Film",
            "Museum of Modern Art (New York, N.Y.), Department of Film",
        ),
        ("Frank Herbert", "Frank Herbert"),
    ],
)
def test_uninvert_name_only_turns_the_catalogue_form(raw, expected):
    assert uninvert_name(raw) == expected


def test_name_key_is_one_key_per_person_whatever_the_form():
    assert name_key("Rowling, J.K.") == name_key("J. K. Rowling") == name_key("JK ROWLING") == "jkrowling"
    # One suffix rule: catalogue, display and comma forms of a suffixed name are one key.
    king = {name_key(n) for n in ("King, Martin Luther, Jr.", "Martin Luther King Jr.", "Martin Luther King, Jr.")}
    assert king == {"martinlutherkingjr"}
    assert name_key("García Márquez, Gabriel") == name_key("Gabriel Garcia Marquez")
    assert name_key("Frank Herbert") != name_key("Brian Herbert")
    assert surname_key("Tolkien, J.R.R.") == surname_key("J. R. R. Tolkien") == "tolkien"


def test_similarity_and_edit_distance():
    assert similarity("fantasy", "fantasy") == 1.0
    assert similarity("pottery", "poetry") == pytest.approx(10 / 13)  # 2 * common subsequence / total
    assert edit_distance("fnatasy", "fantasy") == 1  # an adjacent swap is one edit
    assert edit_distance("pottery", "poetry") == 2


def test_cache_ttl_quality_and_jitter():
    rng = random.Random(1)
    high = SearchResult(
        hits=(
            provider_hit(
                "D",
                provider="x",
                isbn="9780441172719",
                cover="https://c",
                description="d",
            ),
        )
    )
    low = SearchResult(hits=(provider_hit("D", provider="x"),))
    day = 86400
    assert 0.9 * 2 * 365 * day <= cache_ttl(kind="isbn", result=high, rng=rng) <= 1.1 * 2 * 365 * day
    assert 0.9 * 0.5 * 7 * day <= cache_ttl(kind="title", result=low, rng=rng) <= 1.1 * 0.5 * 7 * day
    assert cache_ttl(kind="isbn", result=SearchResult(), rng=rng) <= 330
    assert cache_ttl(kind="isbn", result=SearchResult(hits=high.hits, degraded=("isbndb",)), rng=rng) <= 330


def test_isbndb_cover_is_the_stable_image_never_the_expiring_original():
    from search.providers.isbndb import normalize_book

    signed = "https://images.isbndb.com/covers/original/57/65/9780743273565.jpg?Expires=1&Signature=x"
    record = {
        "title": "The Great Gatsby",
        "isbn13": "9780743273565",
        "image": "Https://images.isbndb.com/covers/65/9780743273565.jpg",
        "image_original": signed,
    }
    hit = normalize_book(record)
    assert hit.edition.cover_image_url == "https://images.isbndb.com/covers/65/9780743273565.jpg"
    assert hit.work.cover_image_url == hit.edition.cover_image_url
    # Only the signed URL (expires 2 hours after the response; answers are cached for days): no cover.
    only_signed = normalize_book({**record, "image": None})
    assert only_signed.edition.cover_image_url is None and only_signed.work.cover_image_url is None
    assert signed not in repr(only_signed)


def test_provenance_keys_are_camel_case_on_the_wire_and_round_trip():
    from search.dto import EditionDTO, SearchHit, WorkDTO, hit_from_record, hit_to_record

    work = WorkDTO(
        title="Dune",
        subject_tags=("Science fiction",),
        cover_image_url="https://covers.example/dune.jpg",
        provenance={"title": "openlibrary", "subject_tags": "openlibrary", "cover_image_url": "google-books"},
    )
    edition = EditionDTO(isbns=("9780441172719",), isbn="9780441172719", provenance={"page_count": "isbndb"})
    wire = work.to_wire()
    assert wire["provenance"] == {"title": "openlibrary", "subjectTags": "openlibrary", "coverImageURL": "google-books"}
    assert set(wire["provenance"]) <= set(wire)
    assert edition.to_wire()["provenance"] == {"pageCount": "isbndb"}
    # The DTO side keeps field names (enrichment reads provenance["subject_tags"]).
    back = hit_from_record(hit_to_record(SearchHit(work=work, edition=edition)))
    assert back.work.provenance == work.provenance and back.edition.provenance == edition.provenance


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Herbert, Frank", "Frank Herbert"),
        ("Tolkien, J. R. R.", "J. R. R. Tolkien"),
        ("King, Martin Luther, Jr.", "Martin Luther King Jr."),
        ("Martin Luther King, Jr.", "Martin Luther King, Jr."),
        ("Frank Herbert", "Frank Herbert"),
        ("Smith, John, 1950-", "Smith, John, 1950-"),
        ("Herbert, Frank ~autofilled~", "Frank Herbert"),
        ("García Márquez, Gabriel", "Gabriel García Márquez"),
    ],
)
def test_clean_author_name_uninverts_catalogue_form(raw, expected):
    from search.normalize import clean_author_name

    assert clean_author_name(raw) == expected


def test_isbndb_authors_uninverted_and_deduplicated():
    from search.providers.isbndb import normalize_book

    hit = normalize_book(
        {"isbn13": "9780441172719", "title": "Dune", "authors": ["Herbert, Frank", "Frank Herbert", "FRANK  HERBERT"]}
    )
    assert hit.author_names == ("Frank Herbert",)


def test_provider_normalizers_mark_edition_years():
    from search.providers.google_books import normalize_volume
    from search.providers.isbndb import normalize_book

    google = normalize_volume(
        {
            "id": "x",
            "volumeInfo": {
                "title": "Dune",
                "publishedDate": "2019-10-01",
                "industryIdentifiers": [{"type": "ISBN_13", "identifier": "9780593099322"}],
            },
        }
    )
    assert google.work.first_publication_year == 2019 and google.work.year_from_edition
    isbndb = normalize_book({"isbn13": "9780441172719", "title": "Dune", "date_published": "1990"})
    assert isbndb.work.year_from_edition


def test_isbn_rules_take_any_value_from_upstreams():
    from search.isbn import isbn_clean, isbn_is_valid, isbn_to_13

    assert isbn_to_13(["9780441172719"]) is None and not isbn_is_valid({"x": 1})
    assert isbn_to_13(9780441172719) == "9780441172719" and isbn_clean(None) == ""
