"""Any other spreadsheet whose header names the columns in words: a synonym table per field, in
several languages. The same importer applies a column mapping given by index (`bind_indices`),
which is how a Gemini mapping is applied to every row deterministically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from enrichment.importers.base import Importer, Plan, header_key

# Our key -> header spellings (compared case-folded). Order matters: the first present wins.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": (
        "title", "book title", "book", "titre", "título", "titulo", "titel", "titolo", "tytuł",
        "название", "заглавие", "タイトル", "書名", "标题", "書名", "제목", "book name",
    ),
    "author": (
        "author", "authors", "author name", "auteur", "auteurs", "autor", "autores", "autore",
        "verfasser", "autor(en)", "автор", "авторы", "著者", "作者", "저자", "writer", "author_text",
    ),
    "isbn13": ("isbn13", "isbn-13", "isbn 13", "isbn_13", "ean", "ean13"),
    "isbn": ("isbn", "isbn10", "isbn-10", "isbn 10", "isbn_10", "isbn/uid", "isbns"),
    "publisher": (
        "publisher", "éditeur", "editeur", "editorial", "editora", "verlag", "editore", "издательство", "出版社",
    ),
    "year": (
        "year", "publication year", "year published", "publication_year", "published", "date published",
        "first publish year", "année", "annee", "año", "ano", "jahr", "erscheinungsjahr", "anno", "год", "出版年",
    ),
    "pages": (
        "pages", "page count", "number of pages", "num pages", "nombre de pages", "páginas", "paginas", "seiten",
        "pagine", "страниц", "ページ数",
    ),
    "rating": (
        "my rating", "rating", "stars", "note", "ma note", "calificación", "valoración", "bewertung", "valutazione",
        "оценка", "評価",
    ),
    "status": (
        "status", "reading status", "read status", "exclusive shelf", "shelf", "bookshelf", "statut", "estado",
        "lesestatus", "stato", "статус",
    ),
    "date_read": (
        "date read", "finished", "date finished", "read date", "date lu", "fecha de lectura", "gelesen am",
        "дата прочтения",
    ),
    "date_started": ("date started", "started", "start date"),
    "shelves": ("shelves", "bookshelves", "tags", "étagères", "estanterías", "regale", "etiquetas", "теги"),
    "format": ("format", "binding", "formato", "einband"),
}  # fmt: skip


class GenericImporter(Importer):
    name = "generic"
    columns = SYNONYMS
    min_score = 0.5

    def score(self, keys: frozenset[str]) -> float:
        names = self.columns["title"] + self.columns["isbn"] + self.columns["isbn13"]
        return 0.5 if any(name in keys for name in names) else 0.0

    def bind_indices(self, labels: Sequence[str], index: Mapping[str, int], *, name: str = "gemini") -> Plan:
        """A plan from a column mapping by index (labels are the header, or ``column N``)."""
        columns = {key: i for key, i in index.items() if 0 <= i < len(labels)}
        return Plan(self, tuple(labels), columns, format_name=name)


def generic_keys(header: Sequence[str]) -> frozenset[str]:
    return frozenset(header_key(name) for name in header)
