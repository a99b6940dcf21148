"""CONTRACT 1: configuration from the environment only, every variable listed in .env.example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = re.compile(r"""(?:env\.(?:str|bool|int|float|list|db))\(\s*"([A-Z][A-Z0-9_]+)\"""")


def _example_names() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def test_every_variable_the_code_reads_is_in_env_example():
    read = set()
    for path in (ROOT / "booktrack" / "settings").glob("*.py"):
        read |= set(READERS.findall(path.read_text()))
    assert read, "the scan found no variables: the pattern is stale"
    missing = read - _example_names()
    assert not missing, f"missing from .env.example: {sorted(missing)}"


def test_contract_variable_names_are_all_listed():
    contract = {
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "GOOGLE_BOOKS_API_KEY",
        "ISBNDB_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_BOOKS_BASE_URL",
        "OPENLIBRARY_BASE_URL",
        "OPENLIBRARY_COVERS_BASE_URL",
        "ISBNDB_BASE_URL",
        "WIKIDATA_BASE_URL",
        "GEMINI_BASE_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_ENDPOINT_URL",
        "CORS_ALLOWED_ORIGINS",
        "TRUSTED_PROXY_COUNT",
        "OPS_TOKEN",
    }
    assert contract <= _example_names()


def test_env_example_as_is_gives_embedded_defaults(tmp_path):
    """Copying .env.example to .env (empty values included) must behave like no configuration."""
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "booktrack.settings", "HOME": str(tmp_path)}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            env[match.group(1)] = match.group(2)
    env["DATA_DIR"] = str(tmp_path)
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'embedded': s.EMBEDDED, 'worker': s.EMBEDDED_WORKER,"
        " 'engine': s.DATABASES['default']['ENGINE'],"
        " 'broker': s.CELERY_BROKER_URL, 'isbndb': s.ISBNDB_API_KEY, 'cors_all': s.CORS_ALLOW_ALL_ORIGINS,"
        " 'creds': s.CORS_ALLOW_CREDENTIALS, 'ops': s.OPS_TOKEN}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    values = json.loads(out.stdout.strip().splitlines()[-1])
    assert values == {
        "embedded": True,
        "worker": True,
        "engine": "django.db.backends.sqlite3",
        "broker": "memory://",
        "isbndb": None,
        "cors_all": True,
        "creds": False,
        "ops": None,
    }
