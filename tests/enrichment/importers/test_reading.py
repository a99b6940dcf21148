"""Reading any file people really have: encodings, delimiters, quoted newlines, CRLF, blank lines."""

from __future__ import annotations

import codecs

import pytest

from enrichment.importers.reading import CsvReader, repair_cell

HEADER = "Title,Author,ISBN\n"
ROWS = "Cien años de soledad,Gabriel García Márquez,9780060883287\nL'Étranger,Albert Camus,9782070360024\n"


def _cells(data: bytes, filename=None):
    reader = CsvReader(data, filename=filename)
    return reader, [r.cells for r in reader]


def test_utf8_with_and_without_bom_read_the_same(parse):
    plain = (HEADER + ROWS).encode()
    _, with_bom = _cells(codecs.BOM_UTF8 + plain)
    _, without = _cells(plain)
    assert with_bom == without
    assert with_bom[0] == ("Title", "Author", "ISBN")  # no BOM glued to the first column name
    _, books, _ = parse(codecs.BOM_UTF8 + plain)
    assert books[0].title == "Cien años de soledad"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_or_nul_pattern(codec, parse):
    text = HEADER + ROWS
    data = text.encode(codec) if codec == "utf-16" else text.encode(codec)
    if codec == "utf-16":
        assert data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    stream, books, problems = parse(data)
    assert [b.author for b in books] == ["Gabriel García Márquez", "Albert Camus"] and not problems
    assert stream.reader.encoding.startswith("utf-16")


def test_utf16_tab_separated_like_excel_unicode_text(parse):
    data = codecs.BOM_UTF16_LE + (HEADER + ROWS).replace(",", "\t").encode("utf-16-le")
    stream, books, _ = parse(data)
    assert stream.reader.delimiter == "\t" and books[1].title == "L'Étranger"


def test_cp1252_file_is_decoded_whole_without_reports(parse):
    stream, books, problems = parse((HEADER + ROWS).encode("cp1252"))
    assert stream.reader.encoding == "cp1252"
    assert [b.title for b in books] == ["Cien años de soledad", "L'Étranger"]
    assert not problems and not any(b.warnings for b in books)


def test_stray_marc8_bytes_keep_the_row_and_report_it(parse):
    data = (HEADER + ROWS).encode() + b"Rayuela,Julio Cort\xe2azar,9788437604572\n"
    stream, books, problems = parse(data)
    assert stream.reader.encoding == "utf-8"
    assert len(books) == 3 and not problems
    rayuela = books[2]
    assert rayuela.row == 3 and rayuela.author == "Julio Cortázar"  # MARC-8 acute before the "a"
    assert rayuela.isbn13 == "9788437604572"
    assert rayuela.warnings and "Author" in rayuela.warnings[0]
    assert not books[0].warnings


def test_stray_byte_that_is_not_marc8_reads_as_cp1252():
    assert repair_cell("Caf\udce9") == "Café"


@pytest.mark.parametrize(("delimiter", "filename"), [(",", "x.csv"), ("\t", "x.tsv"), (";", "x.csv"), ("\t", None)])
def test_delimiter_is_sniffed_from_the_header(delimiter, filename, parse):
    data = (HEADER + ROWS).replace(",", delimiter).encode()
    stream, books, _ = parse(data, filename)
    assert stream.reader.delimiter == delimiter
    assert [b.isbn13 for b in books] == ["9780060883287", "9782070360024"]


def test_semicolon_file_with_commas_inside_quoted_titles(parse):
    data = 'Titre;Auteur;ISBN\n"Guerre, et paix";Tolstoï;9782070368662\n'.encode()
    stream, books, _ = parse(data)
    assert stream.reader.delimiter == ";" and books[0].title == "Guerre, et paix"


def test_quoted_newlines_and_crlf_keep_row_numbers(parse):
    data = b'Title,Author,Notes\r\n"Dune","Frank Herbert","line one\r\nline two"\r\n"Emma","Jane Austen",""\r\n'
    stream, books, _ = parse(data)
    assert [(b.row, b.title, b.author) for b in books] == [(1, "Dune", "Frank Herbert"), (2, "Emma", "Jane Austen")]
    assert stream.row_count == 2


def test_blank_lines_are_skipped_counted_and_not_numbered(parse):
    data = b"\n" + HEADER.encode() + b"Dune,Frank Herbert,\n\n,,\r\n\nEmma,Jane Austen,\n"
    stream, books, problems = parse(data)
    assert [(b.row, b.title) for b in books] == [(1, "Dune"), (2, "Emma")] and not problems
    assert stream.reader.blank_lines == 4


def test_reader_is_lazy():
    reader = iter(CsvReader((HEADER + ROWS * 50_000).encode()))
    assert next(reader).cells == ("Title", "Author", "ISBN")
    assert next(reader).cells[0] == "Cien años de soledad"


def test_cp1252_file_with_a_later_utf8_line_reads_both_right(parse):
    data = (HEADER + ROWS).encode("cp1252") + "Ænima,Ørjan Ås,\n".encode()
    stream, books, _ = parse(data)
    assert stream.reader.encoding == "cp1252"
    assert [b.title for b in books] == ["Cien años de soledad", "L'Étranger", "Ænima"]
    assert books[2].author == "Ørjan Ås"


def test_old_mac_lone_cr_line_endings(parse):
    _, books, _ = parse((HEADER + ROWS).replace("\n", "\r").encode())
    assert [b.row for b in books] == [1, 2] and books[1].author == "Albert Camus"


def test_unclosed_quote_is_an_invalid_file_not_lost_rows():
    from booktrack.core.exceptions import InvalidFile
    from enrichment.importers.service import parse_import

    data = b'Title,Author\n"Dune,Frank Herbert\n' + b"Emma,Jane Austen\n" * 600
    with pytest.raises(InvalidFile) as raised:
        list(parse_import(data))
    assert "line 2" in raised.value.message
