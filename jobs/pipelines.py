"""What each pipeline tells the jobs machinery about itself, registered by the pipeline's own app.

`jobs` runs every pipeline's jobs (state, log, tokens, cancel, results store) but imports no feature
app and knows no pipeline's result shapes. Each feature app declares its pipelines in its own
`pipelines.py` module, which `JobsConfig.ready` imports at start (as the admin finds `admin.py`):

- `results_path`: where the results are served (the app's urls.py mounts it with `jobs.urls.results_route`);
- `task`: the Celery task that runs (or resumes) a job from its id, or None while the pipeline has none;
- `state_every` / `state_seconds`: the throttle of job-row writes (CONTRACT 5);
- `canceled_results`: the results of a job canceled before its worker stored any (a job canceled while
  queued never runs its task, and every pipeline's results must be retrievable);
- `complete_extra`: the pipeline's own fields of `job_complete`, derived from its results (CONTRACT 6).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from jobs.events import JobSummary, JsonValue


class JobTask(Protocol):
    """A Celery task taking the job id; `jobs.services.job_enqueue` sends it after commit."""

    name: str

    def delay(self, *args: object, **kwargs: object) -> object: ...


@dataclass(frozen=True)
class CanceledJob:
    """What the cancel route knows of a job it cancels: enough for its pipeline to build results."""

    job_id: str
    params: Mapping[str, JsonValue]
    # Stored result of each item finished before the cancel, by item index.
    finished: Mapping[int, JsonValue]
    summary: JobSummary
    canceled_at: datetime


def _no_extra(results: JsonValue) -> dict[str, JsonValue]:
    return {}


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    results_path: str  # e.g. "/v1/csv/results/{job_id}"
    state_every: int
    state_seconds: float
    canceled_results: Callable[[CanceledJob], JsonValue]
    complete_extra: Callable[[JsonValue], dict[str, JsonValue]] = _no_extra
    task: JobTask | None = field(default=None, compare=False)

    def results_url(self, job_id: str) -> str:
        return self.results_path.format(job_id=job_id)


_registry: dict[str, PipelineSpec] = {}


def pipeline_register(spec: PipelineSpec) -> PipelineSpec:
    """Declare a pipeline (from its app's `pipelines.py`); registering a name again replaces it."""
    if "{job_id}" not in spec.results_path:
        raise ValueError(f"results_path of {spec.name} must contain {{job_id}}: {spec.results_path!r}")
    _registry[spec.name] = spec
    return spec


def pipeline_get(name: str) -> PipelineSpec:
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(
            f"No pipeline {name!r} is registered (a feature app's pipelines.py registers it; "
            f"registered: {sorted(_registry)})"
        ) from None


def pipelines_registered() -> tuple[PipelineSpec, ...]:
    return tuple(_registry.values())
