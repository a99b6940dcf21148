"""The registry picks an importer from the header alone; unknown layouts get None."""

from __future__ import annotations

import pytest

from enrichment.importers.registry import IMPORTERS, detect
from tests.samples import UPSTREAM_FIXTURES


def _header(name: str) -> list[str]:
    line = (UPSTREAM_FIXTURES / "csv" / name).read_bytes().split(b"\n", 1)[0].decode().strip()
    return line.split("\t" if name.endswith(".tsv") else ",")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("goodreads_export_2026_23col.csv", "goodreads"),
        ("goodreads_export_legacy_31col.csv", "goodreads-legacy"),
        ("storygraph_export_lectorflow.csv", "storygraph"),
        ("storygraph_export_bookwyrm.csv", "storygraph"),
        ("librarything_export.tsv", "librarything"),
        ("calibre_catalog.csv", "calibre"),
        ("openlibrary_reading_log_legacy.csv", "openlibrary-legacy"),
        ("openreads_export.csv", "openreads"),
        ("bookwyrm_export.csv", "bookwyrm"),
        ("generic_books.csv", "generic"),
    ],
)
def test_detect_each_sample(name, expected):
    assert detect(_header(name)).name == expected


def test_librarything_csv_is_the_same_importer_as_its_tsv(parse):
    tsv = (UPSTREAM_FIXTURES / "csv" / "librarything_export.tsv").read_bytes()
    lines = tsv.decode("utf-8", "replace").splitlines()
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    for line in lines:
        writer.writerow(line.split("\t"))
    stream, books, problems = parse(out.getvalue().encode(), "librarything.csv")
    assert stream.format == "librarything" and stream.reader.delimiter == ","
    assert [b.isbn13 for b in books] == ["9782070291342", "9782020104722", "9782266062329"] and not problems


def test_current_openlibrary_15_column_reading_log(parse):
    header = (
        "Work ID,Title,Authors,First Publish Year,Edition ID,Edition Count,Bookshelf,My Ratings,"
        "Ratings Average,Ratings Count,Has Ebook,Subjects,Subject People,Subject Places,Subject Times"
    )
    row = (
        "OL45804W,Fantastic Mr Fox,Roald Dahl | Quentin Blake,1970,OL7353617M,52,Stopped Reading,4,3.9,200,true,"
        "Foxes | Farmers,,,"
    )
    stream, books, _ = parse((header + "\n" + row + "\n").encode())
    assert stream.format == "openlibrary"
    fox = books[0]
    assert fox.authors == ("Roald Dahl", "Quentin Blake") and fox.reading_status == "dnf"
    assert fox.rating == 4  # "My Ratings", not the 3.9 average
    assert fox.publication_year == 1970
    assert ("openlibrary_edition", "OL7353617M") in fox.source_ids


@pytest.mark.parametrize(
    "header",
    [
        "Titre;Auteur;ISBN;Éditeur;Année",
        "Título,Autor,ISBN,Editorial,Año",
        "Titel;Autor;ISBN;Verlag;Jahr",
        "Название,Автор,ISBN,Издательство,Год",
        "タイトル,著者,ISBN,出版社,出版年",
    ],
)
def test_generic_header_synonyms_in_several_languages(header, parse):
    sep = ";" if ";" in header else ","
    row = sep.join(["Le Petit Prince", "Antoine de Saint-Exupéry", "9782070612758", "Gallimard", "1943"])
    stream, books, _ = parse((header + "\n" + row + "\n").encode())
    assert stream.format == "generic"
    book = books[0]
    assert (book.title, book.author, book.isbn13, book.publisher, book.publication_year) == (
        "Le Petit Prince",
        "Antoine de Saint-Exupéry",
        "9782070612758",
        "Gallimard",
        1943,
    )


def test_unknown_layout_and_data_first_row_are_not_detected():
    assert detect(["Name", "Creator", "Code"]) is None
    assert detect(["Dune", "Frank Herbert", "9780441172719"]) is None


def test_registry_is_data():
    assert len({importer.name for importer in IMPORTERS}) == len(IMPORTERS)
