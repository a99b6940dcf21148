from __future__ import annotations

import json

import pytest

from enrichment.genres import CANONICAL_GENRES, genres_for_item, normalize_genres
from tests.samples import sample_json as _shared
from tests.samples import sample_lines


def test_canonical_genres_include_the_required_list():
    required = {
        "Science Fiction", "Fantasy", "Mystery", "Thriller", "Romance", "Horror", "Literary Fiction",
        "Historical Fiction", "Biography", "History", "Science", "Philosophy", "Self-Help", "Business",
        "True Crime", "Young Adult", "Children's", "Middle Grade", "Classics", "Contemporary",
        "Graphic Novels", "Poetry", "Dystopian", "Fiction",
    }  # fmt: skip
    assert required <= set(CANONICAL_GENRES)


def test_normalize_genres_google_bisac_paths_from_real_volume():
    categories = _shared("google_books/volume_by_id_2cl7AgAAQBAJ.json")["volumeInfo"]["categories"]
    assert normalize_genres(categories, provider="google-books") == [
        "Dystopian", "Fantasy", "Fiction", "Horror", "Literary Fiction", "Science Fiction", "Thriller",
    ]  # fmt: skip


def test_normalize_genres_google_deep_levels_are_subgenres_not_new_genres():
    categories = _shared("google_books/volume_by_id_49T5twEACAAJ.json")["volumeInfo"]["categories"]
    assert normalize_genres(categories, provider="google-books") == ["Fiction", "Science Fiction"]
    assert normalize_genres(["Fiction / Science Fiction / Action & Adventure"]) == ["Fiction", "Science Fiction"]


def test_normalize_genres_google_search_items():
    items = _shared("google_books/volumes_search_children_of_time.json")["items"]
    for item in items:
        assert normalize_genres(item["volumeInfo"]["categories"], provider="google-books") == ["Fiction"]
    edge = _shared("google_books/volumes_search_edge_cases.json")["items"]
    found = [normalize_genres(i["volumeInfo"].get("categories", []), provider="google-books") for i in edge]
    assert ["Fraud"] in found  # unknown subject passes through
    assert all("German Language" not in genres for genres in found)  # a language tag is noise


def test_normalize_genres_openlibrary_work_drops_noise():
    subjects = _shared("openlibrary/work_OL45804W.json")["subjects"]  # Fantastic Mr Fox
    genres = normalize_genres(subjects, provider="openlibrary")
    assert {"Children's", "Fiction", "Fantasy", "Foxes"} <= set(genres)
    for noise in ("Open Library Staff Picks", "Welsh Authors", "English Authors", "Children's Stories, English"):
        assert noise not in genres
    assert genres == sorted(set(genres), key=str.casefold)


def test_normalize_genres_openlibrary_harry_potter_subjects():
    subjects = _shared("openlibrary/author_OL23919A_works.json")["entries"][1]["subjects"]
    genres = normalize_genres(subjects, provider="openlibrary")
    assert {"Children's", "Fantasy", "Fiction"} <= set(genres)
    assert not any(g.lower().startswith("nyt") or "Fictitious" in g or "Imaginary" in g for g in genres)
    assert not any("Award" in g or "Reading Level" in g or "Bestseller" in g for g in genres)
    assert "England" not in genres and "Spanish Language" not in genres


def test_normalize_genres_openlibrary_lord_of_the_rings_is_not_horror():
    doc = _shared("openlibrary/search_title_lord_of_the_rings.json")["docs"][0]
    assert normalize_genres(doc["subject"], provider="openlibrary") == ["Fantasy", "Fiction"]


def test_normalize_genres_openlibrary_sabriel_editions_audiences():
    entries = _shared("openlibrary/work_OL15832982W_editions.json")["entries"]
    assert normalize_genres(entries[2]["subjects"]) == ["Classics", "Middle Grade"]
    assert "Young Adult" in normalize_genres(entries[4]["subjects"])
    assert normalize_genres(_shared("openlibrary/edition_OL22951843M_sabriel.json")["subjects"]) == ["Fantasy"]


def test_normalize_genres_openlibrary_jscmd_subject_objects():
    book = _shared("openlibrary/api_books_jscmd_data_ISBN_9780316030571.json")["ISBN:9780316030571"]
    names = [s["name"] for s in book["subjects"]]
    assert normalize_genres(names, provider="openlibrary") == ["Fiction", "Science Fiction"]


def test_normalize_genres_isbndb_class_codes_are_noise():
    lines = sample_lines("isbndb/isbndb_dump_book_records.jsonl")
    records = [json.loads(line) for line in lines if line.strip()]
    assert normalize_genres(records[0]["subjects"], provider="isbndb") == []  # ["PQ", "878"]
    assert normalize_genres(records[2]["subjects"], provider="isbndb") == ["Edible Mushrooms", "Mushroom Culture"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sciense Fiction", ["Science Fiction"]),
        ("Fantsy", ["Fantasy"]),
        ("Mystrey", ["Mystery"]),
        ("Horor", ["Horror"]),
        ("Fnatasy", ["Fantasy"]),  # two letters swapped: one edit
        ("Pottery", ["Pottery"]),  # a real word 2 edits from "Poetry" stays itself
        ("Romans", ["Romans"]),
        ("Juvenile fiction", ["Children's"]),
        ("Young adult fiction", ["Young Adult"]),
        ("Juvenile fantasy fiction", ["Children's", "Fantasy"]),
        ("Children's 12-Up - Fiction - Fantasy", ["Fantasy", "Young Adult"]),
        ("Children: Young Adult (Gr. 7-9)", ["Young Adult"]),
        ("Fiction, general", ["Fiction"]),
        ("Biography & Autobiography / Literary", ["Biography"]),
        ("History / Military / World War II", ["History"]),
        ("Detective and mystery stories", ["Mystery"]),
        ("English Fantasy fiction", ["Fantasy"]),
        ("Poetry (poetic works by one author)", ["Poetry"]),
        ("space warfare", ["Science Fiction"]),
        ("life on other planets", ["Life on Other Planets"]),
    ],
)
def test_genres_for_item(raw, expected):
    assert genres_for_item(raw) == expected


@pytest.mark.parametrize(
    "noise",
    [
        "Accessible book", "Protected DAISY", "In library", "Lending library", "Large type books",
        "nyt:series_books=2006-09-16", "New York Times bestseller", "Open Library Staff Picks",
        "Locus Award winner", "Reading Level-Grade 9", "Harry Potter (Fictitious character)",
        "Hogwarts School of Witchcraft and Wizardry (Imaginary place)", "20th Century", "England",
        "United States", "Spanish language", "French language materials", "Translations from English",
        "General", "PQ", "823.914",
    ],
)  # fmt: skip
def test_genres_for_item_noise_yields_nothing(noise):
    assert genres_for_item(noise) == []


def test_normalize_genres_dedupes_sorts_and_ignores_non_strings():
    raw = ["Fantasy", "fantasy", "FANTASY ", None, 42, "Fiction / Fantasy / General"]
    assert normalize_genres(raw) == ["Fantasy", "Fiction"]
    assert normalize_genres([]) == []
