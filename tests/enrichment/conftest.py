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
