"""The `# --- object storage` settings: STORAGE_BACKEND and AWS_* from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'backend': settings.STORAGES['default']['BACKEND'], "
    "'endpoint': getattr(settings, 'AWS_S3_ENDPOINT_URL', None), "
    "'style': getattr(settings, 'AWS_S3_ADDRESSING_STYLE', None)}))"
)


def settings_with(tmp_path, **variables: str) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "booktrack.settings",
        "DATA_DIR": str(tmp_path),
        **variables,
    }
    return subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_no_bucket_means_local_files(tmp_path):
    done = settings_with(tmp_path)
    assert json.loads(done.stdout)["backend"] == "django.core.files.storage.FileSystemStorage"


def test_a_bucket_means_s3_with_its_endpoint_and_style(tmp_path):
    done = settings_with(
        tmp_path,
        AWS_STORAGE_BUCKET_NAME="covers",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        AWS_S3_ADDRESSING_STYLE="path",
    )
    assert json.loads(done.stdout) == {
        "backend": "storages.backends.s3.S3Storage",
        "endpoint": "http://127.0.0.1:9000",
        "style": "path",
    }


def test_filesystem_can_be_forced_even_with_a_bucket(tmp_path):
    done = settings_with(tmp_path, AWS_STORAGE_BUCKET_NAME="covers", STORAGE_BACKEND="filesystem")
    assert json.loads(done.stdout)["backend"] == "django.core.files.storage.FileSystemStorage"


def test_s3_without_a_bucket_or_an_unknown_backend_refuses_to_start(tmp_path):
    assert "needs AWS_STORAGE_BUCKET_NAME" in settings_with(tmp_path, STORAGE_BACKEND="s3").stderr
    assert "must be filesystem or s3" in settings_with(tmp_path, STORAGE_BACKEND="ftp").stderr
