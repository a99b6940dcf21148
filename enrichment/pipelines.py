"""The pipelines of the enrichment app, declared to the jobs machinery (jobs.pipelines).

Imported at start by `JobsConfig.ready` (every process: web, worker, tests), and by this app's urls.py
for the results routes.
"""

from __future__ import annotations

from enrichment.batch import batch_enrichment_canceled_results
from enrichment.csv_import import csv_import_canceled_results
from enrichment.tasks import run_batch_enrichment, run_csv_import
from jobs.events import JsonValue
from jobs.models import Pipeline
from jobs.pipelines import PipelineSpec, pipeline_register

BATCH_ENRICHMENT = pipeline_register(
    PipelineSpec(
        name=Pipeline.BATCH_ENRICHMENT,
        results_path="/v1/enrichment/results/{job_id}",
        state_every=5,
        state_seconds=10.0,
        canceled_results=batch_enrichment_canceled_results,
        task=run_batch_enrichment,
    )
)


def csv_import_complete_extra(results: JsonValue) -> dict[str, JsonValue]:
    """`job_complete` of csv_import: `{booksCount, successRate}` next to resultsUrl and summary (CONTRACT 6)."""
    if not isinstance(results, dict):
        return {}
    books = results.get("books")
    count = len(books) if isinstance(books, list) else 0
    return {"booksCount": count, "successRate": str(results.get("successRate") or f"{count}/{count}")}


# The CSV import (enrichment.csv_import): parse and enrich an uploaded library export.
CSV_IMPORT = pipeline_register(
    PipelineSpec(
        name=Pipeline.CSV_IMPORT,
        results_path="/v1/csv/results/{job_id}",
        state_every=20,
        state_seconds=30.0,
        canceled_results=csv_import_canceled_results,
        complete_extra=csv_import_complete_extra,
        task=run_csv_import,
    )
)
