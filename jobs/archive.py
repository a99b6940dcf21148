"""Reading back a finished job's results after they were archived to object storage.

Archival (an operations app: harvest.archival) moves a finished job's results, event log and item
results out of the database once the job is past its live window; the job row stays, with its
`results_expire_at`, until the hourly cleanup deletes it. `jobs` imports no feature app, so the
archiving app registers here how to read archived results back, and `job_results` asks it for a
finished job whose row holds none. With nothing registered, archived results are simply not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

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
