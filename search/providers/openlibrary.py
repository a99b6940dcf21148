"""OpenLibrary: transport + pure normalizers (search docs, editions, works, authors, /api/books)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.conf import settings

from search.dto import AuthorDTO, EditionDTO, ProviderPage, SearchHit, WorkDTO, clean_text
from search.isbn import isbn_to_13, isbn_variants, isbns_collect
from search.normalize import (
    clean_author_name,
    clean_description,
    clean_subjects,
    hit_with_quality,
    https_url,
    normalize_date,
    normalize_format,
    normalize_language,
    positive_int,
    provenance_of,
    year_of,
)
from search.providers.base import Provider
from search.text import is_name_suffix, text_key, uninvert_name

NAME = "openlibrary"
# `search.json` no longer returns `isbn` by default (openlibrary#10412): ask for every field we read.
SEARCH_FIELDS = ",".join(
    [
        "key",
        "title",
        "subtitle",
        "author_name",
        "author_key",
        "first_publish_year",
        "isbn",
        "cover_i",
        "cover_edition_key",
        "edition_key",
        "edition_count",
        "language",
        "publisher",
        "number_of_pages_median",
        "subject",
        "id_goodreads",
        "id_librarything",
        "id_amazon",
        "id_google",
        "publish_date",
        "format",
    ]
)


def _olid(key: Any, prefix: str) -> str | None:
    """`/works/OL45804W` or `OL45804W` -> `OL45804W`."""
    text = clean_text(key)
    if not text:
        return None
    ident = text.rstrip("/").rsplit("/", 1)[-1]
    return ident if ident.startswith("OL") and ident.endswith(prefix) else None


def cover_url(cover_id: Any, size: str = "L") -> str | None:
    """A covers.openlibrary.org URL for a positive cover id (OpenLibrary uses -1 for "removed")."""
    try:
        ident = int(cover_id)
    except (TypeError, ValueError):
        return None
    if ident <= 0:
        return None
    return f"{settings.OPENLIBRARY_COVERS_BASE_URL.rstrip('/')}/b/id/{ident}-{size}.jpg"


def first_cover(covers: Any) -> str | None:
    for cover in covers if isinstance(covers, list) else ():
        url = cover_url(cover)
        if url:
            return url
    return None


def _strings(values: Any) -> tuple[str, ...]:
    out: list[str] = []
    for value in values if isinstance(values, list) else ():
        text = clean_text(value)
        if text and text not in out:
            out.append(text)
    return tuple(out)


def _authors_from_names(names: Iterable[Any], keys: Iterable[Any] = ()) -> tuple[AuthorDTO, ...]:
    keys = list(keys)
    out = []
    for i, raw in enumerate(names):
        name = clean_author_name(raw)
        if name:
            key = _olid(keys[i], "A") if i < len(keys) else None
            out.append(AuthorDTO(name=name, open_library_id=key))
    return tuple(out)


def _hit(
    work_values: dict[str, Any],
    edition_values: dict[str, Any],
    authors: tuple[AuthorDTO, ...],
    *,
    year_from_edition: bool = False,
) -> SearchHit:
    work = WorkDTO(
        **work_values,
        primary_provider=NAME,
        contributors=(NAME,),
        provenance=provenance_of(NAME, work_values),
        year_from_edition=year_from_edition and work_values.get("first_publication_year") is not None,
    )
    edition = EditionDTO(
        **edition_values,
        primary_provider=NAME,
        contributors=(NAME,),
        provenance=provenance_of(NAME, edition_values),
    )
    return hit_with_quality(work, edition, authors)


def normalize_search_doc(doc: Any, *, want_isbn: str | None = None) -> SearchHit | None:
    """One `search.json` doc (a work with edition facets) -> a hit."""
    if not isinstance(doc, Mapping):
        return None
    title = clean_text(doc.get("title"))
    if not title:
        return None
    raw_isbns = doc.get("isbn") if isinstance(doc.get("isbn"), list) else []
    if want_isbn and want_isbn in {isbn_to_13(i) for i in raw_isbns[:200]}:
        raw_isbns = [want_isbn]
    # A search doc is a work: its `isbn` list spans every edition. Keep one edition's ISBNs only,
    # so that merging never glues different editions together.
    _, isbn13 = isbns_collect(raw_isbns[:20])
    isbns = isbn_variants(isbn13) if isbn13 else ()
    work_id = _olid(doc.get("key"), "W")
    languages = [lang for lang in (normalize_language(x) for x in doc.get("language") or ()) if lang]
    cover = cover_url(doc.get("cover_i"))
    edition_key = clean_text(doc.get("cover_edition_key")) or next(iter(_strings(doc.get("edition_key"))), None)
    work_values = {
        "title": title,
        "subject_tags": clean_subjects(doc.get("subject"), limit=10),
        "first_publication_year": positive_int(doc.get("first_publish_year")),
        "cover_image_url": cover,
        "open_library_work_id": work_id,
        "open_library_id": work_id,
        "goodreads_work_ids": (),
        "amazon_asins": _strings(doc.get("id_amazon"))[:10],
        "librarything_ids": _strings(doc.get("id_librarything"))[:10],
        "google_books_volume_ids": _strings(doc.get("id_google"))[:10],
    }
    edition_values = {
        "isbns": isbns,
        "isbn": isbn13,
        "title": title,
        "edition_title": clean_text(doc.get("subtitle")),
        "publisher": next(iter(_strings(doc.get("publisher"))), None),
        "page_count": positive_int(doc.get("number_of_pages_median")),
        "cover_image_url": cover,
        "language": languages[0] if len(set(languages)) == 1 else None,
        "open_library_edition_id": _olid(edition_key, "M"),
        "goodreads_id": next(iter(_strings(doc.get("id_goodreads"))), None),
    }
    authors = _authors_from_names(doc.get("author_name") or (), doc.get("author_key") or ())
    return _hit(work_values, edition_values, authors)


def normalize_search(raw: Any, *, want_isbn: str | None = None) -> ProviderPage:
    """`search.json` (2020 and 2024+ formats) -> a page of hits."""
    if not isinstance(raw, Mapping):
        return ProviderPage(provider=NAME)
    docs = raw.get("docs") if isinstance(raw.get("docs"), list) else []
    hits = tuple(h for h in (normalize_search_doc(d, want_isbn=want_isbn) for d in docs) if h)
    total = raw.get("numFound", raw.get("num_found"))
    total = total if isinstance(total, int) and total >= len(hits) else len(hits)
    return ProviderPage(provider=NAME, hits=hits, total=total)


def normalize_edition(raw: Any, *, work: Mapping[str, Any] | None = None) -> SearchHit | None:
    """An edition record (`/isbn/{isbn}.json`, `/books/OL..M.json`, editions.json entries) -> a hit."""
    if not isinstance(raw, Mapping):
        return None
    title = clean_text(raw.get("title")) or clean_text(raw.get("work_title"))
    if not title:
        return None
    isbns, isbn13 = isbns_collect([*(raw.get("isbn_13") or []), *(raw.get("isbn_10") or [])])
    identifiers = raw.get("identifiers") if isinstance(raw.get("identifiers"), Mapping) else {}
    languages = [lang for lang in (normalize_language(x) for x in raw.get("languages") or ()) if lang]
    works = raw.get("works") if isinstance(raw.get("works"), list) else []
    work_id = _olid(works[0].get("key"), "W") if works and isinstance(works[0], Mapping) else None
    cover = first_cover(raw.get("covers"))
    published = normalize_date(raw.get("publish_date"))
    description = clean_description(raw.get("description"))
    work_title = clean_text(raw.get("work_title")) or title
    work_values: dict[str, Any] = {
        "title": work_title,
        "subject_tags": clean_subjects(raw.get("subjects"), limit=10),
        "description": description,
        "cover_image_url": cover,
        "first_publication_year": year_of(published),
        "open_library_work_id": work_id,
        "open_library_id": work_id,
        "goodreads_work_ids": (),
        "librarything_ids": _strings(identifiers.get("librarything")),
    }
    year_from_edition = True  # the edition's publish_date, unless the work record has a first year
    if work is not None:
        work_hit = normalize_work(work)
        if work_hit is not None:
            year_from_edition = not work_hit.first_publication_year
            work_values.update(
                {
                    k: v
                    for k, v in {
                        "title": work_hit.title,
                        "subject_tags": work_hit.subject_tags or work_values["subject_tags"],
                        "description": work_hit.description or description,
                        "first_publication_year": work_hit.first_publication_year
                        or work_values["first_publication_year"],
                        "open_library_work_id": work_hit.open_library_work_id or work_id,
                    }.items()
                    if v
                }
            )
    edition_values = {
        "isbns": isbns,
        "isbn": isbn13,
        "title": title,
        "edition_title": clean_text(raw.get("subtitle")) or clean_text(raw.get("edition_name")),
        "edition_description": clean_description(raw.get("notes")),
        "publisher": next(iter(_strings(raw.get("publishers"))), None),
        "publication_date": published,
        "page_count": positive_int(raw.get("number_of_pages")) or positive_int(raw.get("pagination")),
        "cover_image_url": cover,
        "language": languages[0] if languages else None,
        "format": normalize_format(raw.get("physical_format")),
        "open_library_edition_id": _olid(raw.get("key"), "M"),
        "open_library_id": _olid(raw.get("key"), "M"),
        "goodreads_id": next(iter(_strings(identifiers.get("goodreads"))), None),
        "librarything_ids": _strings(identifiers.get("librarything")),
        "amazon_asins": _strings(identifiers.get("amazon")),
        "google_books_volume_ids": _strings(identifiers.get("google")),
    }
    if edition_values["format"] is None:
        del edition_values["format"]  # unknown binding: the DTO default (Paperback), no provenance
    names = [a.get("name") for a in raw.get("authors") or [] if isinstance(a, Mapping) and a.get("name")]
    keys = [a.get("key") for a in raw.get("authors") or [] if isinstance(a, Mapping)]
    authors = (
        _authors_from_names(names, keys)
        if names
        else tuple(AuthorDTO(name=n) for n in (clean_author_name(x) for x in [raw.get("by_statement")]) if n)
    )
    return _hit(work_values, edition_values, authors, year_from_edition=year_from_edition)


def normalize_work(raw: Any) -> WorkDTO | None:
    """A `/works/{id}.json` record -> a WorkDTO (description string or {type,value}; covers with -1)."""
    if not isinstance(raw, Mapping):
        return None
    title = clean_text(raw.get("title"))
    if not title:
        return None
    work_id = _olid(raw.get("key"), "W")
    values = {
        "title": title,
        "subject_tags": clean_subjects(raw.get("subjects"), limit=15),
        "description": clean_description(raw.get("description")),
        "cover_image_url": first_cover(raw.get("covers")),
        "first_publication_year": year_of(raw.get("first_publish_date")),
        "open_library_work_id": work_id,
        "open_library_id": work_id,
    }
    return WorkDTO(**values, primary_provider=NAME, contributors=(NAME,), provenance=provenance_of(NAME, values))


def normalize_editions_list(raw: Any, *, work: Mapping[str, Any] | None = None) -> ProviderPage:
    """`/works/{id}/editions.json` -> one hit per edition."""
    if not isinstance(raw, Mapping):
        return ProviderPage(provider=NAME)
    entries = raw.get("entries") if isinstance(raw.get("entries"), list) else []
    hits = tuple(h for h in (normalize_edition(e, work=work) for e in entries) if h)
    total = raw.get("size")
    return ProviderPage(provider=NAME, hits=hits, total=total if isinstance(total, int) else len(hits))


def normalize_api_books_details(bibkey: Any, record: Mapping[str, Any]) -> SearchHit | None:
    """One `jscmd=details` record: `{bib_key, info_url, preview, thumbnail_url, details: <edition>}`.

    `details` is the edition record (`/books/OL..M.json`), with its authors expanded to
    `{key, name}`: it carries what `jscmd=data` leaves out, the edition's `languages` and its `works`
    key (from which the work-level facts are completed in the background: search.complete_work).
    """
    details = record.get("details")
    if not isinstance(details, Mapping):
        return None
    hit = normalize_edition(details)
    if hit is None:
        return None
    # The edition is the one asked for: its ISBNs are the bibkey's (both forms). A record may list other
    # editions' ISBNs too (OL22951843M lists three ISBN-10s), which would glue editions together in the
    # merge, and it may list only the other form (ISBN-10 for an ISBN-13 bibkey).
    isbn13 = isbn_to_13(str(bibkey).split(":", 1)[-1])
    if not isbn13:
        return hit
    values = {"isbns": isbn_variants(isbn13), "isbn": isbn13}
    edition = replace(hit.edition, **values, provenance={**hit.edition.provenance, **provenance_of(NAME, values)})
    return hit_with_quality(hit.work, edition, hit.authors)


def normalize_api_books(raw: Any) -> ProviderPage:
    """`/api/books?bibkeys=ISBN:..&format=json` -> one hit per bibkey found.

    Reads both formats per record: `jscmd=details` (what the provider asks for: the edition record,
    with languages and the work key) and `jscmd=data` (title, `{name}` authors and publishers, cover
    URLs; no language, no work description).
    """
    if not isinstance(raw, Mapping):
        return ProviderPage(provider=NAME)
    hits: list[SearchHit] = []
    for bibkey, record in raw.items():
        if not isinstance(record, Mapping):
            continue
        if "details" in record:
            if (hit := normalize_api_books_details(bibkey, record)) is not None:
                hits.append(hit)
            continue
        title = clean_text(record.get("title"))
        if not title:
            continue
        identifiers = record.get("identifiers") if isinstance(record.get("identifiers"), Mapping) else {}
        bib_isbn = str(bibkey).split(":", 1)[-1]
        isbns, isbn13 = isbns_collect(
            [*(identifiers.get("isbn_13") or []), *(identifiers.get("isbn_10") or []), bib_isbn]
        )
        cover = record.get("cover") if isinstance(record.get("cover"), Mapping) else {}
        cover_link = https_url(cover.get("large") or cover.get("medium") or cover.get("small"))
        published = normalize_date(record.get("publish_date"))
        edition_id = _olid(record.get("key"), "M")
        works = record.get("works") if isinstance(record.get("works"), list) else []
        work_id = _olid(works[0].get("key"), "W") if works and isinstance(works[0], Mapping) else None
        work_values = {
            "title": title,
            "subject_tags": clean_subjects(record.get("subjects"), limit=10),
            "description": clean_description(record.get("description")),
            "cover_image_url": cover_link,
            "first_publication_year": year_of(published),
            "open_library_work_id": work_id,
            "librarything_ids": _strings(identifiers.get("librarything")),
            "google_books_volume_ids": _strings(identifiers.get("google")),
        }
        edition_values = {
            "isbns": isbns,
            "isbn": isbn13,
            "title": title,
            "edition_title": clean_text(record.get("subtitle")),
            "publisher": next(
                (clean_text(p.get("name")) for p in record.get("publishers") or [] if isinstance(p, Mapping)), None
            ),
            "publication_date": published,
            "page_count": positive_int(record.get("number_of_pages")),
            "cover_image_url": cover_link,
            "open_library_edition_id": edition_id,
            "open_library_id": edition_id,
            "goodreads_id": next(iter(_strings(identifiers.get("goodreads"))), None),
            "librarything_ids": _strings(identifiers.get("librarything")),
            "amazon_asins": _strings(identifiers.get("amazon")),
            "google_books_volume_ids": _strings(identifiers.get("google")),
        }
        authors = tuple(
            AuthorDTO(name=name, open_library_id=_olid(a.get("url", "").split("/authors/")[-1].split("/")[0], "A"))
            for a in record.get("authors") or []
            if isinstance(a, Mapping) and (name := clean_author_name(a.get("name")))
        )
        hits.append(_hit(work_values, edition_values, authors, year_from_edition=True))  # edition publish_date
    return ProviderPage(provider=NAME, hits=tuple(hits), total=len(hits))


def normalize_author(raw: Any) -> AuthorDTO | None:
    """`/authors/{id}.json` or a `search/authors.json` doc -> an AuthorDTO."""
    if not isinstance(raw, Mapping):
        return None
    name = clean_author_name(raw.get("name") or raw.get("personal_name"))
    if not name:
        return None
    remote = raw.get("remote_ids") if isinstance(raw.get("remote_ids"), Mapping) else {}
    count = raw.get("work_count")
    return AuthorDTO(
        name=name,
        open_library_id=_olid(raw.get("key"), "A"),
        wikidata_id=clean_text(remote.get("wikidata")),
        goodreads_id=clean_text(remote.get("goodreads")),
        isbndb_id=clean_text(remote.get("isbndb")),
        birth_year=year_of(raw.get("birth_date")),
        death_year=year_of(raw.get("death_date")),
        book_count=count if isinstance(count, int) and count >= 0 else None,
    )


def normalize_author_search(raw: Any) -> tuple[AuthorDTO, ...]:
    docs = raw.get("docs") if isinstance(raw, Mapping) and isinstance(raw.get("docs"), list) else []
    return tuple(a for a in (normalize_author(d) for d in docs) if a)


def normalize_author_works(raw: Any) -> tuple[WorkDTO, ...]:
    """`/authors/{id}/works.json` entries -> works."""
    entries = raw.get("entries") if isinstance(raw, Mapping) and isinstance(raw.get("entries"), list) else []
    return tuple(w for w in (normalize_work(e) for e in entries) if w)


AUTHOR_WORKS_MAX = 1000  # works.json's largest page


def _works_size(raw: Any, default: int) -> int:
    size = raw.get("size") if isinstance(raw, Mapping) else None
    return size if isinstance(size, int) and size >= 0 else default


def sort_author_works(works: Sequence[WorkDTO], sort: str | None) -> list[WorkDTO]:
    """`new` (newest first), `old` (oldest first), `title`; works without a year go last."""
    if sort == "title":
        return sorted(works, key=lambda w: unicodedata.normalize("NFKD", w.title.casefold()))
    if sort in ("new", "old"):
        sign = -1 if sort == "new" else 1
        return sorted(works, key=lambda w: (w.first_publication_year is None, sign * (w.first_publication_year or 0)))
    return list(works)


def normalize_reading_log(raw: Any) -> tuple[SearchHit, ...]:
    """`/people/{user}/books/{shelf}.json` entries -> hits (work title, authors, cover, year)."""
    entries = (
        raw.get("reading_log_entries")
        if isinstance(raw, Mapping) and isinstance(raw.get("reading_log_entries"), list)
        else []
    )
    hits = []
    for entry in entries:
        work = entry.get("work") if isinstance(entry, Mapping) else None
        if not isinstance(work, Mapping):
            continue
        doc = {
            "title": work.get("title"),
            "key": work.get("key"),
            "author_name": work.get("author_names"),
            "author_key": work.get("author_keys"),
            "first_publish_year": work.get("first_publish_year"),
            "cover_i": work.get("cover_id"),
            "cover_edition_key": work.get("cover_edition_key"),
            "edition_key": work.get("edition_key"),
        }
        hit = normalize_search_doc(doc)
        if hit:
            hits.append(hit)
    return tuple(hits)


# A Goodreads-style series note at the end of a title: "Leviathan Wakes (The Expanse, #1)".
_SERIES_NOTE = re.compile(r"\s*[(\[][^()\[\]]*#\s*[\d.]+[^()\[\]]*[)\]]\s*$")
# What may stand inside a Solr phrase here: the quote and the backslash are dropped, not escaped.
_PHRASE_DROP = re.compile(r'["\\]')


def _family_name(author: str | None) -> str:
    """The family name as a search word: "Corey, James S.A." and "James S. A. Corey" -> "corey"."""
    words = [w for w in text_key(uninvert_name(" ".join((author or "").split()))).split() if not is_name_suffix(w)]
    return words[-1] if words else ""


def titles_query(pairs: Sequence[tuple[str, str | None]]) -> str:
    """One `search.json` `q` for many books: `(title:"..." AND author:"...") OR title:"..." OR ...`.

    Titles are phrases without a trailing series note; the author is reduced to the surname-ish word
    (initials and name order vary between sources). Pairs without a usable title are left out.
    """
    clauses = []
    for title, author in pairs:
        phrase = " ".join(_PHRASE_DROP.sub(" ", _SERIES_NOTE.sub("", title or "")).split())[:200]
        if not phrase:
            continue
        clause = f'title:"{phrase}"'
        surname = _family_name(author)
        clauses.append(f'({clause} AND author:"{surname}")' if surname else clause)
    return " OR ".join(clauses)


class OpenLibraryProvider(Provider):
    name = NAME
    v3_name = "open_library"
    base_url_setting = "OPENLIBRARY_BASE_URL"
    priority = 20

    # bibkeys per `/api/books` call: 50 ISBN-13s keep the URL near 1 KB, well under proxy limits.
    batch_size = 50

    def search_isbn(self, *, isbn13: str, deadline: float | None) -> ProviderPage:
        return self.books_by_isbns(isbns=[isbn13], deadline=deadline)

    def search_isbns(self, *, isbns13: Sequence[str], deadline: float | None) -> ProviderPage:
        return self.books_by_isbns(isbns=list(isbns13), deadline=deadline)

    def search_titles(
        self, *, pairs: Sequence[tuple[str, str | None]], limit: int, deadline: float | None
    ) -> ProviderPage:
        """Many books in one `search.json` call (Solr boolean `q`): the CSV import's title + author rows."""
        query = titles_query(pairs)
        if not query:
            return ProviderPage(provider=NAME)
        return self._search({"q": query, "limit": min(max(limit, 1), 100)}, deadline)

    def books_by_isbns(self, *, isbns: list[str], deadline: float | None) -> ProviderPage:
        """Many ISBNs in one call (`/api/books?bibkeys=`). `jscmd=details`: each answer is the
        edition record, so it carries the edition's languages and its work key."""
        raw = self.get_json(
            "api/books",
            params={"bibkeys": ",".join(f"ISBN:{i}" for i in isbns), "jscmd": "details", "format": "json"},
            deadline=deadline,
        )
        return normalize_api_books(raw)

    def work_facts(self, *, work_id: str, deadline: float | None) -> WorkDTO | None:
        """A work's record (`/works/{id}.json`): description, first publication year, subjects.
        None when OpenLibrary does not know the work (404)."""
        return normalize_work(self.get_json(f"works/{work_id}.json", deadline=deadline))

    def _search(self, params: dict[str, Any], deadline: float | None, want_isbn: str | None = None) -> ProviderPage:
        raw = self.get_json("search.json", params={**params, "fields": SEARCH_FIELDS}, deadline=deadline)
        return normalize_search(raw, want_isbn=want_isbn)

    def search_title(self, *, query: str, limit: int, offset: int, deadline: float | None) -> ProviderPage:
        return self._search({"q": query, "limit": min(max(limit, 1), 100), "offset": max(offset, 0)}, deadline)

    def search_advanced(
        self, *, title: str | None, author: str | None, limit: int, deadline: float | None
    ) -> ProviderPage:
        params: dict[str, Any] = {"limit": min(max(limit, 1), 100)}
        if title:
            params["title"] = title
        if author:
            params["author"] = author
        return self._search(params, deadline)

    def edition_by_isbn(self, *, isbn: str, deadline: float | None) -> SearchHit | None:
        return normalize_edition(self.get_json(f"isbn/{isbn}.json", deadline=deadline))

    def work_editions(self, *, work_id: str, limit: int, deadline: float | None) -> ProviderPage:
        raw = self.get_json(f"works/{work_id}/editions.json", params={"limit": limit}, deadline=deadline)
        work = self.get_json(f"works/{work_id}.json", deadline=deadline) if raw else None
        return normalize_editions_list(raw, work=work)

    def author_search(self, *, name: str, deadline: float | None) -> tuple[AuthorDTO, ...]:
        raw = self.get_json("search/authors.json", params={"q": name, "limit": 5}, deadline=deadline)
        return normalize_author_search(raw)

    def author_works_page(
        self, *, author_id: str, limit: int, offset: int, sort: str | None, deadline: float | None
    ) -> ProviderPage:
        """An author's works from `/authors/{id}/works.json` (CONTRACT 4), sorted here.

        The endpoint pages (limit/offset) but cannot sort: for a sort by year or title the author's
        whole list is read in one call (up to AUTHOR_WORKS_MAX) and sorted and sliced here; without a
        sort ("editions"/popularity: the endpoint has no edition counts) the upstream window is asked.
        """
        if sort in ("new", "old", "title"):
            raw = self.get_json(
                f"authors/{author_id}/works.json", params={"limit": AUTHOR_WORKS_MAX, "offset": 0}, deadline=deadline
            )
            works = sort_author_works(normalize_author_works(raw), sort)
            total = _works_size(raw, len(works))
            works = works[offset : offset + limit]
        else:
            raw = self.get_json(
                f"authors/{author_id}/works.json", params={"limit": limit, "offset": offset}, deadline=deadline
            )
            works = normalize_author_works(raw)
            total = _works_size(raw, offset + len(works))
        hits = tuple(SearchHit(work=w, edition=EditionDTO()) for w in works)
        return ProviderPage(provider=NAME, hits=hits, total=total)
