"""The CSV import job (issue 10 item 5): outcomes per row, duplicates, resumability, cancel, content cache."""

from __future__ import annotations

import threading

import pytest

from booktrack.core.exceptions import BatchTooLarge, FileTooLarge, InvalidFile
from enrichment import csv_import
from enrichment.csv_import import (
    CANCELED_ROW,
    MAX_FILE_BYTES,
    content_cache_get,
    csv_import_execute,
    csv_import_run,
    csv_import_start,
    csv_upload_check,
)
from enrichment.csv_import_match import Candidate, best_candidate, first_rows, lookup_key, verdict
from jobs.models import Job, JobItem, JobStatus
from jobs.reporter import FakeProgressReporter, ItemOutcome
from search.dto import AuthorDTO, EditionDTO, SearchHit, WorkDTO
from tests.samples import sample_bytes

HEADER = "Title,Author,ISBN13,My Rating,Exclusive Shelf\n"


def hit(title: str, author: str, isbn13: str | None = None, **edition) -> SearchHit:
    return SearchHit(
        work=WorkDTO(title=title, primary_provider="openlibrary"),
        edition=EditionDTO(isbns=(isbn13,) if isbn13 else (), isbn=isbn13, title=title, **edition),
        authors=(AuthorDTO(name=author),),
    )


class FakeLookup:
    """Books by ISBN and by title; counts calls; optionally fails."""

    def __init__(self, isbns=None, titles=None, fail_isbns=False):
        self.isbns = isbns or {}
        self.titles = titles or {}
        self.fail_isbns = fail_isbns
        self.isbn_calls: list[list[str]] = []
        self.title_calls: list[tuple[str, str | None]] = []
        self.cataloged: list[SearchHit] = []
        self.lock = threading.Lock()

    def by_isbns(self, isbns13):
        self.isbn_calls.append(list(isbns13))
        if self.fail_isbns:
            raise RuntimeError("every provider down")
        return {i: self.isbns.get(i) for i in isbns13}

    def by_title(self, *, title, author):
        self.title_calls.append((title, author))
        return self.titles.get(title, [])

    def to_catalog(self, hits):
        self.cataloged.extend(hits)


DUNE = "9780441013593"
HOBBIT = "9780547928227"


def csv_bytes(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


SAMPLE = csv_bytes(
    f"Dune,Frank Herbert,{DUNE},5,read",  # 1 matched by ISBN
    f"The Hobbit,J.R.R. Tolkien,{HOBBIT},4,read",  # 2 ISBN not found
    "Piranesi,Susanna Clarke,,0,to-read",  # 3 title + author match
    "Piranesi House,Susanna Clarke,,0,to-read",  # 4 close: needs review (a different search)
    "Nothing Like It,Nobody,,0,to-read",  # 5 not found
    f"Dune,Frank Herbert,{DUNE},3,read",  # 6 duplicate of row 1
    ",,,3,read",  # 7 invalid: no title
)


def sample_lookup() -> FakeLookup:
    return FakeLookup(
        isbns={DUNE: hit("Dune", "Frank Herbert", DUNE, publisher="Ace", page_count=896)},
        titles={
            "Piranesi": [hit("Piranesi", "Susanna Clarke", "9781635575637")],
            "Piranesi House": [hit("Piranesi", "Susanna Clarke", "9781635575637")],
            "Nothing Like It": [hit("Something Else Entirely", "Someone")],
        },
    )


def test_run_gives_every_row_exactly_one_outcome_with_evidence():
    reporter = FakeProgressReporter()
    lookup = sample_lookup()
    outcome = csv_import_run(
        job_id="j", data=SAMPLE, filename="x.csv", reporter=reporter, expected_rows=7, lookup=lookup
    )
    results = outcome.results
    rows = sorted([b["row"] for b in results["books"]] + [e["row"] for e in results["errors"]])
    assert rows == [1, 2, 3, 4, 5, 6, 7]
    by_row = {b["row"]: b for b in results["books"]}
    assert by_row[1]["enrichmentStatus"] == "success" and by_row[1]["match"]["method"] == "isbn"
    assert by_row[1]["match"]["evidence"]["isbn13"] == DUNE
    assert by_row[1]["publisher"] == "Ace" and by_row[1]["pageCount"] == 896  # filled from the match
    assert by_row[1]["rating"] == 5 and by_row[1]["readingStatus"] == "read"  # the reader's own values
    assert by_row[1]["work"]["title"] == "Dune" and by_row[1]["edition"]["isbn"] == DUNE
    assert by_row[2]["enrichmentStatus"] == "not_found" and "work" not in by_row[2]
    assert by_row[3]["enrichmentStatus"] == "success" and by_row[3]["match"]["method"] == "title_author"
    assert by_row[3]["match"]["score"] == 1.0
    assert by_row[4]["enrichmentStatus"] == "needs_review"
    assert 0.6 <= by_row[4]["match"]["score"] < 0.85
    assert by_row[5]["enrichmentStatus"] == "not_found" and by_row[5]["match"]["score"] < 0.6
    assert by_row[6]["duplicateOf"] == 1 and by_row[6]["enrichmentStatus"] == "success"
    assert by_row[6]["rating"] == 3  # a duplicate keeps its own row's values
    assert [e["row"] for e in results["errors"]] == [7]
    assert results["successRate"] == "6/7"
    assert results["duplicates"] == 1
    assert results["outcomes"] == {
        "matchedByIsbn": 2,
        "matchedByTitleAuthor": 1,
        "needsReview": 1,
        "notFound": 2,
        "lookupFailed": 0,
        "invalid": 1,
    }
    assert reporter.names()[0] == "started" and reporter.names()[-1] == "complete"
    assert reporter.summary.total_processed == 7 and reporter.summary.success_count == 6


def test_run_asks_isbns_in_bulk_once_and_duplicates_are_looked_up_once():
    lookup = sample_lookup()
    csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=FakeProgressReporter(), lookup=lookup)
    assert lookup.isbn_calls == [[DUNE, HOBBIT]]
    assert [t for t, _ in lookup.title_calls] == ["Piranesi", "Piranesi House", "Nothing Like It"]


def test_run_chunks_isbns_by_enrich_chunk(monkeypatch):
    monkeypatch.setattr(csv_import, "ENRICH_CHUNK", 2)
    lookup = sample_lookup()
    csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=FakeProgressReporter(), lookup=lookup)
    assert lookup.isbn_calls == [[DUNE, HOBBIT]]  # rows 1-2; row 6 (the duplicate) is answered from the memo


def test_run_progress_is_parse_then_enrich_and_never_goes_back():
    reporter = FakeProgressReporter()
    csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=reporter, lookup=sample_lookup())
    assert reporter.fractions_seen[0] == 0.5  # parse done
    assert reporter.fractions_seen[-1] == 1.0
    assert reporter.fractions_seen == sorted(reporter.fractions_seen)


def test_run_matched_books_go_to_the_catalog():
    lookup = sample_lookup()
    csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=FakeProgressReporter(), lookup=lookup)
    assert sorted(h.work.title for h in lookup.cataloged) == ["Dune", "Piranesi"]  # not row 4's (for review)
    assert len(lookup.cataloged) == 2


def test_run_failed_bulk_lookup_marks_its_rows_and_finishes(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(csv_import.time, "sleep", waited.append)
    lookup = sample_lookup()
    lookup.fail_isbns = True
    outcome = csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=FakeProgressReporter(), lookup=lookup)
    assert len(lookup.isbn_calls) == 3 and waited == [2.0, 5.0]  # asked again twice before giving up
    by_row = {b["row"]: b for b in outcome.results["books"]}
    assert by_row[1]["enrichmentStatus"] == "error"
    assert "every provider down" in by_row[1]["match"]["evidence"]["error"]
    assert outcome.results["outcomes"]["lookupFailed"] == 3  # rows 1, 2 and 6
    assert by_row[3]["enrichmentStatus"] == "success"


def test_run_bulk_lookup_that_fails_once_is_asked_again_and_its_rows_match(monkeypatch):
    monkeypatch.setattr(csv_import.time, "sleep", lambda seconds: None)

    class FlakyOnce(FakeLookup):
        def by_isbns(self, isbns13):
            if not self.isbn_calls:
                self.isbn_calls.append(list(isbns13))
                raise RuntimeError("budget busy")
            return super().by_isbns(isbns13)

    lookup = FlakyOnce(isbns=sample_lookup().isbns, titles=sample_lookup().titles)
    outcome = csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=FakeProgressReporter(), lookup=lookup)
    by_row = {b["row"]: b for b in outcome.results["books"]}
    assert by_row[1]["enrichmentStatus"] == "success"
    assert not outcome.results["outcomes"].get("lookupFailed")


def test_run_cancel_keeps_finished_rows_and_accounts_for_every_row(monkeypatch):
    monkeypatch.setattr(csv_import, "ENRICH_CHUNK", 2)
    monkeypatch.setattr(csv_import, "STORE_BATCH", 2)
    reporter = FakeProgressReporter(cancel_after_items=3)  # the invalid row 7 + the first chunk
    outcome = csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=reporter, lookup=sample_lookup())
    assert outcome.canceled
    results = outcome.results
    assert results["canceled"] is True
    assert [b["row"] for b in results["books"]] == [1, 2]
    canceled_rows = [e["row"] for e in results["errors"] if e["error"] == CANCELED_ROW]
    assert canceled_rows == [3, 4, 5, 6]
    assert [e["row"] for e in results["errors"] if e["error"] != CANCELED_ROW] == [7]
    assert reporter.names()[-1] == "canceled"


def test_run_isbn_rows_go_first_and_cancel_is_seen_between_title_lookups(monkeypatch):
    monkeypatch.setattr(csv_import, "STORE_BATCH", 1)
    # Row 7 (invalid), the ISBN rows 1, 2 and 6 (first: one bulk call for them all), then row 3.
    reporter = FakeProgressReporter(cancel_after_items=5)
    lookup = sample_lookup()
    outcome = csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=reporter, lookup=lookup)
    assert [index + 1 for index in reporter.items] == [7, 1, 2, 6, 3]
    assert [t for t, _ in lookup.title_calls] == ["Piranesi"]  # no lookup after the cancel was seen
    assert [b["row"] for b in outcome.results["books"]] == [1, 2, 3, 6]
    assert outcome.canceled


def test_run_resumes_without_redoing_finished_rows():
    first = FakeProgressReporter()
    csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=first, lookup=sample_lookup())
    preloaded = {i: ItemOutcome(i, o.success, o.result) for i, o in first.items.items() if i in (0, 1, 6)}
    second = FakeProgressReporter(preloaded=preloaded)
    lookup = sample_lookup()
    outcome = csv_import_run(job_id="j", data=SAMPLE, filename=None, reporter=second, lookup=lookup)
    assert sorted(second.items) == [2, 3, 4, 5]  # FakeProgressReporter asserts no item twice
    assert lookup.isbn_calls == [[DUNE]]  # only row 6 (the duplicate) still needed Dune
    assert outcome.results["successRate"] == "6/7"


def test_run_unknown_layout_without_gemini_key_is_invalid_file(settings):
    settings.GEMINI_API_KEY = ""
    with pytest.raises(InvalidFile):
        csv_import_run(job_id="j", data=b"foo,bar\n1,2\n", filename=None, reporter=FakeProgressReporter())


# --- the match rules (pure) -------------------------------------------------------------------------


def test_lookup_key_prefers_isbn_and_folds_title_and_author():
    assert lookup_key(isbn13=DUNE, title="Dune", author="x").method == "isbn"
    a = lookup_key(isbn13=None, title="The Hobbit", author="Tolkien, J.R.R.")
    b = lookup_key(isbn13=None, title="Hobbit", author="J. R. R. Tolkien")
    assert a == b
    assert lookup_key(isbn13=None, title="", author="x") is None


def test_first_rows_counts_duplicates_in_file_order():
    k = lookup_key(isbn13=DUNE, title="Dune", author=None)
    other = lookup_key(isbn13=HOBBIT, title="Hobbit", author=None)
    assert first_rows([(1, k), (2, other), (3, None), (4, k), (5, k)]) == {4: 1, 5: 1}


def test_best_candidate_scores_title_and_author():
    candidates = [Candidate("Dune Messiah", ("Frank Herbert",)), Candidate("Dune", ("Frank Herbert",))]
    best = best_candidate(title="Dune", author="Herbert, Frank", candidates=candidates)
    assert best.index == 1 and best.score == 1.0
    wrong_author = best_candidate(
        title="Dune", author="Someone Else", candidates=[Candidate("Dune", ("Frank Herbert",))]
    )
    assert wrong_author.score < 0.85
    assert verdict(0.9) == "success" and verdict(0.7) == "needs_review" and verdict(0.2) == "not_found"


# --- upload checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (None, InvalidFile),
        (b"", InvalidFile),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", InvalidFile),
        (b"PK\x03\x04rest-of-an-xlsx", InvalidFile),
        (b'Title,Author\n"Dune,Frank Herbert\n' + b"Emma,Jane Austen\n" * 600, InvalidFile),
        (b"x" * (MAX_FILE_BYTES + 1), FileTooLarge),
    ],
)
def test_upload_check_refuses_bad_files(data, error):
    with pytest.raises(error):
        csv_upload_check(data=data, filename="upload.csv")


def test_upload_check_row_cap(settings):
    settings.CSV_IMPORT_MAX_ROWS = 5
    with pytest.raises(BatchTooLarge) as raised:
        csv_upload_check(data=SAMPLE, filename=None)
    assert raised.value.details == {"maxRows": 5, "receivedRows": 7}
    settings.CSV_IMPORT_MAX_ROWS = 7
    assert csv_upload_check(data=SAMPLE, filename=None).row_count == 7


# --- the job: start, crash and resume, content cache --------------------------------------------------


class Crash(BaseException):
    """A worker killed mid-task: nothing in the task catches it, so the job is left running (as after
    SIGKILL), and the broker redelivers the unacknowledged task (acks_late)."""


@pytest.mark.django_db(transaction=True)
def test_job_crash_mid_enrichment_then_redelivery_loses_no_row_and_does_none_twice(storage, no_task, monkeypatch):
    monkeypatch.setattr(csv_import, "ENRICH_CHUNK", 2)
    monkeypatch.setattr(csv_import, "STORE_BATCH", 2)
    data = sample_bytes("csv/goodreads_export_2026_23col.csv")
    job, _ = csv_import_start(job_id=None, data=data, filename="goodreads_library_export.csv")
    assert no_task == [str(job.id)]
    assert job.params["rowCount"] == 10 and job.total_count == 10

    # The worker dies after the second stored chunk (the reporter's items are in the database).
    real_run = csv_import.csv_import_run

    def crashing_run(**kwargs):
        def on_chunk(enriched):
            if enriched >= 4:
                raise Crash

        return real_run(**kwargs, on_chunk=on_chunk)

    monkeypatch.setattr(csv_import, "csv_import_run", crashing_run)
    with pytest.raises(Crash):
        csv_import_execute(job_id=str(job.id), lookup=FakeLookup())
    stored_before = set(JobItem.objects.filter(job=job).values_list("index", flat=True))
    assert len(stored_before) >= 4
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    monkeypatch.setattr(csv_import, "csv_import_run", real_run)

    lookup = FakeLookup()
    outcome = csv_import_execute(job_id=str(job.id), lookup=lookup)
    asked = [isbn for call in lookup.isbn_calls for isbn in call]
    done_first = {JobItem.objects.get(job=job, index=i).result.get("isbn13") for i in stored_before}
    assert not set(asked) & (done_first - {None})  # nothing finished before the crash was looked up again
    items = list(JobItem.objects.filter(job=job).order_by("index").values_list("index", flat=True))
    assert items == list(range(10))  # no row lost, none twice (unique per index)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETE
    assert job.results["successRate"] == outcome.results["successRate"]
    assert len(job.results["books"]) + len(job.results["errors"]) == 10


@pytest.mark.django_db(transaction=True)
def test_identical_file_is_answered_from_the_content_cache_whatever_its_name(storage, no_task):
    job, _ = csv_import_start(job_id=None, data=SAMPLE, filename="first.csv")
    csv_import_execute(job_id=str(job.id), lookup=sample_lookup())
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETE
    assert content_cache_get(job.params["sha256"])["successRate"] == "6/7"
    assert not list(storage.rglob("*.csv"))  # the stored upload is released once the import is done

    again, _ = csv_import_start(job_id=None, data=SAMPLE, filename="renamed.csv")
    assert no_task == [str(job.id)]  # no task for the second upload
    again.refresh_from_db()
    assert again.status == JobStatus.COMPLETE
    assert again.results["cached"] is True
    assert again.results["books"] == job.results["books"]
    assert again.results["summary"]["resourceId"] == str(again.id)


@pytest.mark.django_db(transaction=True)
def test_cancel_while_queued_answers_results_with_every_row(storage, no_task):
    from jobs.services import job_cancel

    job, token = csv_import_start(job_id=None, data=SAMPLE, filename="x.csv")
    job_cancel(job_id=str(job.id), token=token)
    job.refresh_from_db()
    assert job.results["canceled"] is True
    assert job.results["successRate"] == "0/7"
    assert [e["row"] for e in job.results["errors"]] == list(range(1, 8))
    assert list(storage.rglob("*.csv"))  # kept until the queued task comes by
    assert csv_import_execute(job_id=str(job.id), lookup=FakeLookup()) is None  # the task leaves it alone
    assert not list(storage.rglob("*.csv"))  # ... but releases the stored file nobody needs any more


@pytest.mark.django_db(transaction=True)
def test_failed_job_releases_its_stored_upload(storage, no_task):
    class Broken(FakeLookup):
        def to_catalog(self, hits):
            raise KeyError("a bug")

    job, _ = csv_import_start(job_id=None, data=SAMPLE, filename="x.csv")
    with pytest.raises(KeyError):
        csv_import_execute(job_id=str(job.id), lookup=Broken(isbns=sample_lookup().isbns))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert not list(storage.rglob("*.csv"))


# --- through the search services, against the local upstream fakes -----------------------------------

FAKES_CSV = csv_bytes(
    "Dune,Frank Herbert,9780441172719,5,read",
    "Piranesi,Susanna Clarke,,4,read",
    "Not A Real Book At All,Nobody Real,,0,to-read",
    *[f"Unknown {i},Someone,{isbn},0,to-read" for i, isbn in enumerate(["9780000000002", "9781111111113"])],
)


@pytest.mark.django_db
def test_search_lookup_uses_bulk_isbns_and_openlibrary_titles_never_google(fake):
    reporter = FakeProgressReporter()
    outcome = csv_import_run(job_id="j", data=FAKES_CSV, filename=None, reporter=reporter, expected_rows=5)
    by_row = {b["row"]: b for b in outcome.results["books"]}
    assert by_row[1]["enrichmentStatus"] == "success" and by_row[1]["match"]["method"] == "isbn"
    assert by_row[1]["work"]["title"] == "Dune"
    assert by_row[2]["enrichmentStatus"] == "success" and by_row[2]["match"]["method"] == "title_author"
    assert by_row[2]["isbn13"] and by_row[2]["coverUrl"]
    assert by_row[3]["enrichmentStatus"] in ("not_found", "needs_review")
    assert by_row[4]["enrichmentStatus"] == "not_found"
    assert fake.count("google") == 0  # bulk work never spends Google's daily quota
    assert fake.count("GET /openlibrary/api/books") == 1  # three ISBNs, one bibkeys call
    assert fake.count("GET /openlibrary/search.json") == 1  # both title + author rows in one search


# --- manage.py import_csv ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_import_csv_command_runs_the_import_and_prints_the_summary(storage, fake, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "library.csv"
    path.write_bytes(FAKES_CSV)
    call_command("import_csv", str(path))
    out = capsys.readouterr()
    assert "5/5 rows imported as books" in out.out
    assert "matched by ISBN: 1" in out.out and "matched by title + author: 1" in out.out
    assert "100.0%" in out.err  # the progress bar reached the end
    job = Job.objects.get()
    assert job.status == JobStatus.COMPLETE and job.results["successRate"] == "5/5"


@pytest.mark.django_db
def test_import_csv_dry_run_reads_only(tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "library.csv"
    path.write_bytes(SAMPLE)
    call_command("import_csv", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "rows: 7, problems: 1" in out and "row 7:" in out
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_import_csv_bad_file_is_a_command_error(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(CommandError, match="INVALID_FILE"):
        call_command("import_csv", str(path))


@pytest.mark.django_db
def test_book_lookup_many_batch_only_leaves_google_out(fake):
    from search.services import book_lookup_many

    isbns = ["9780441172719", "9781635575637"]
    found = book_lookup_many(isbns=isbns, batch_only=True)
    assert all(found[i] is not None for i in isbns)
    assert fake.count("google") == 0 and fake.count("GET /openlibrary/api/books") == 1
    book_lookup_many(isbns=["9780547928227"])  # without batch_only (v3 enrich) Google is asked per ISBN
    assert fake.count("google") == 1


# --- title + author rows searched many at once -----------------------------------------------------------


class ManyTitlesLookup(FakeLookup):
    """A lookup that also answers many titles per call (as SearchLookup does through OpenLibrary)."""

    def __init__(self, *, complete=True, fail=False, **kwargs):
        super().__init__(**kwargs)
        self.complete = complete
        self.fail = fail
        self.batches: list[list[tuple[str, str | None]]] = []

    def by_titles(self, pairs):
        from search.services import TitlesAnswer

        self.batches.append(list(pairs))
        if self.fail:
            raise RuntimeError("search down")
        found = [h for title, _ in pairs for h in self.titles.get(title, [])]
        return TitlesAnswer(hits=tuple(found), complete=self.complete)


def many_title_rows(count: int) -> bytes:
    return csv_bytes(*[f"Lost Book {i},Writer {i},,0,to-read" for i in range(count)], "Piranesi,Susanna Clarke,,4,read")


def test_run_searches_title_rows_in_batches_and_scores_each_row():
    lookup = ManyTitlesLookup(titles={"Piranesi": [hit("Piranesi", "Susanna Clarke", "9781635575637")]})
    outcome = csv_import_run(
        job_id="j", data=many_title_rows(19), filename=None, reporter=FakeProgressReporter(), lookup=lookup
    )
    assert [len(b) for b in lookup.batches] == [8, 8, 4]  # 20 rows, TITLE_BATCH at a time
    assert lookup.title_calls == []  # every answer was complete: no row searched alone
    books = {b["row"]: b for b in outcome.results["books"]}
    assert books[20]["enrichmentStatus"] == "success" and books[20]["isbn13"] == "9781635575637"
    assert books[20]["match"]["evidence"]["batched"] == 4
    assert {books[r]["enrichmentStatus"] for r in range(1, 20)} == {"not_found"}


def test_run_rows_unmatched_in_a_cut_answer_are_searched_alone():
    lookup = ManyTitlesLookup(complete=False, titles={"Piranesi": [hit("Piranesi", "Susanna Clarke", "9781635575637")]})
    outcome = csv_import_run(
        job_id="j", data=many_title_rows(3), filename=None, reporter=FakeProgressReporter(), lookup=lookup
    )
    assert len(lookup.batches) == 1
    # The answer was cut at its limit: the rows it did not match are asked alone; the matched one is not.
    assert sorted(t for t, _ in lookup.title_calls) == ["Lost Book 0", "Lost Book 1", "Lost Book 2"]
    assert {b["row"]: b["enrichmentStatus"] for b in outcome.results["books"]}[4] == "success"


def test_run_failed_batch_search_falls_back_to_one_search_per_row():
    lookup = ManyTitlesLookup(fail=True, titles={"Piranesi": [hit("Piranesi", "Susanna Clarke", "9781635575637")]})
    outcome = csv_import_run(
        job_id="j", data=many_title_rows(2), filename=None, reporter=FakeProgressReporter(), lookup=lookup
    )
    assert len(lookup.title_calls) == 3
    assert len(outcome.results["books"]) + len(outcome.results["errors"]) == 3


def test_titles_query_is_one_solr_boolean_query():
    from search.providers.openlibrary import titles_query

    query = titles_query(
        [("Leviathan Wakes (The Expanse, #1)", "Corey, James S.A."), ('A "Quoted" Title', None), ("", "Nobody")]
    )
    assert query == '(title:"Leviathan Wakes" AND author:"corey") OR title:"A Quoted Title"'


@pytest.mark.django_db
def test_titles_search_many_against_the_openlibrary_fake_finds_each_book(fake):
    from search.services import titles_search_many

    answer = titles_search_many(pairs=[("Dune", "Herbert, Frank"), ("Piranesi", "Susanna Clarke")], deadline=10**9)
    titles = {h.work.title for h in answer.hits}
    assert {"Dune", "Piranesi"} <= titles and answer.complete
    assert fake.count("GET /openlibrary/search.json") == 1


@pytest.mark.django_db(transaction=True)
def test_unknown_layout_job_keeps_geminis_mapping_and_its_worker_asks_no_more(fake, settings, storage, no_task):
    from django.core.cache import cache

    settings.GEMINI_API_KEY = "fake-key"
    unknown = b"Name,Creator,Code,Notes\nDune,Frank Herbert,9780441172719,x\nEmma,Jane Austen,9780141439587,y\n"
    job, _ = csv_import_start(job_id=None, data=unknown, filename="mine.csv")
    assert fake.count("POST /gemini") == 1
    assert job.params["columnMapping"] == {"hasHeaderRow": True, "columns": {"title": 0, "author": 1, "isbn13": 2}}
    cache.clear()  # the header-hash cache is gone (a restart, an eviction): the job still has its mapping
    settings.GEMINI_API_KEY = None  # ... and even a key removed since does not matter
    csv_import_execute(job_id=str(job.id), lookup=FakeLookup())
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETE, job.error
    assert [b["title"] for b in job.results["books"]] == ["Dune", "Emma"]
    assert fake.count("POST /gemini") == 1
