from __future__ import annotations

import json
from pathlib import Path

import pytest

WIKIDATA_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wikidata"


def load_wikidata(name: str):
    return json.loads((WIKIDATA_FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def wikidata_fixture():
    return load_wikidata


# CSV import: uploads stored in a temporary folder; the job task recorded instead of sent.
@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


@pytest.fixture
def no_task(monkeypatch):
    from enrichment.tasks import run_csv_import

    sent: list[str] = []
    monkeypatch.setattr(run_csv_import, "delay", lambda job_id: sent.append(job_id))
    return sent
