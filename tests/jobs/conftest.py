from __future__ import annotations

import pytest

from booktrack.core.ratelimit import reset_local_windows
from jobs.services import job_create


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    reset_local_windows()
    yield
    reset_local_windows()


@pytest.fixture
def make_job(db):
    def make(pipeline: str = "batch_enrichment", total: int = 10, **kwargs):
        return job_create(pipeline=pipeline, total=total, **kwargs)

    return make


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()
