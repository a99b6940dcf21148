"""The bookshelf-scan pipeline, declared to the jobs machinery (jobs.pipelines).

Imported at start by `JobsConfig.ready` (every process), and by this app's urls.py for the results route.
"""

from __future__ import annotations

from jobs.events import JsonValue
from jobs.models import Pipeline
from jobs.pipelines import CanceledJob, PipelineSpec, pipeline_register


def ai_scan_canceled_results(job: CanceledJob) -> JsonValue:
    """CONTRACT 5 scan results for a scan canceled before its worker stored any."""
    return {
        "totalDetected": 0,
        "approved": 0,
        "needsReview": 0,
        "books": [],
        "photos": [],
        "metadata": {"modelUsed": "", "processingTime": job.summary.duration, "timestamp": job.canceled_at.isoformat()},
        "canceled": True,
    }


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


# The scan pipeline has no task yet: its jobs have a results route and canceled results, and the
# watchdog leaves them alone.
AI_SCAN = pipeline_register(
    PipelineSpec(
        name=Pipeline.AI_SCAN,
        results_path="/v1/scan/results/{job_id}",
        state_every=1,
        state_seconds=60.0,
        canceled_results=ai_scan_canceled_results,
        complete_extra=ai_scan_complete_extra,
    )
)
