"""Archived jobs: reading their results back, and archiving before the cleanup deletes.

Archival (an operations app: harvest.archival) moves a finished job's results, event log and item
results out of the database once the job is past its live window; the job row stays, with its
`results_expire_at`, until the hourly cleanup deletes it. `jobs` imports no feature app, so the
archiving app registers here:

- how to read archived results back: `job_results` asks it for a finished job whose row holds none;
- an archiver the hourly cleanup calls with the jobs it is about to delete, so a job the daily
  archival run has not reached yet is archived first; the cleanup keeps the jobs it could not archive
  (the next hour tries again).

With nothing registered, archived results are not found and the cleanup deletes as it always did.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from jobs.events import JsonValue

ArchivedResultsReader = Callable[[uuid.UUID], JsonValue | None]

_reader: ArchivedResultsReader | None = None


def archived_results_reader_register(reader: ArchivedResultsReader | None) -> None:
    """Set (or, with None, clear) the function that reads a job's archived results by job id."""
    global _reader
    _reader = reader


def archived_results(job_id: uuid.UUID) -> JsonValue | None:
    """The archived results of a job, or None (not archived, or no reader registered)."""
    return _reader(job_id) if _reader is not None else None


# Archives the given jobs' data where it is still in the database; returns the ids it could NOT
# archive (those must not be deleted).
JobsArchiver = Callable[[Sequence[uuid.UUID]], set[uuid.UUID]]

_archiver: JobsArchiver | None = None


def jobs_archiver_register(archiver: JobsArchiver | None) -> None:
    """Set (or, with None, clear) the archiver the cleanup calls before it deletes finished jobs."""
    global _archiver
    _archiver = archiver


def jobs_archiver_registered() -> bool:
    return _archiver is not None


def jobs_archive_before_delete(job_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `job_ids` that must be kept because archiving them failed (none without an archiver)."""
    return _archiver(job_ids) if _archiver is not None and job_ids else set()
