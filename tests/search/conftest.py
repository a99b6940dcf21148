from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def search_clean_state(search_state):
    """Every search test starts with empty tiers, budgets, clients and metrics (tests/conftest.py)."""
    yield
