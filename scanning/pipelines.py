"""The bookshelf-scan pipeline, declared to the jobs machinery (jobs.pipelines).

Imported at start by `JobsConfig.ready` (every process), and by this app's urls.py for the results route.
"""

from __future__ import annotations

from jobs.events import JsonValue
from jobs.models import Pipeline
from jobs.pipelines import PipelineSpec, pipeline_register
from scanning.services import scan_canceled_results
from scanning.tasks import run_scan


def ai_scan_complete_extra(results: JsonValue) -> dict[str, JsonValue]:
    """`job_complete` of ai_scan: `{totalDetected, approved, needsReview, metadata: {modelUsed,
    processingTime}}` next to resultsUrl and summary (CONTRACT 6), taken from the results."""
    if not isinstance(results, dict):
        return {}
    metadata = results.get("metadata") if isinstance(results.get("metadata"), dict) else {}
    return {
        "totalDetected": results.get("totalDetected", 0),
        "approved": results.get("approved", 0),
        "needsReview": results.get("needsReview", 0),
        "metadata": {"modelUsed": metadata.get("modelUsed", ""), "processingTime": metadata.get("processingTime", 0)},
    }


# The bookshelf scan (scanning.services): photos -> quality -> barcodes + engine -> books -> lookups.
AI_SCAN = pipeline_register(
    PipelineSpec(
        name=Pipeline.AI_SCAN,
        results_path="/v1/scan/results/{job_id}",
        state_every=1,
        state_seconds=60.0,
        canceled_results=scan_canceled_results,
        complete_extra=ai_scan_complete_extra,
        task=run_scan,
    )
)
