"""The browser harness: a real server as `make run` serves it, and Debian's headless Chromium.

`site` (module-scoped) builds a throwaway embedded-mode installation (SQLite and STATIC_ROOT under a
temporary folder, `DEBUG=false`, upstreams pointed at the local fakes): `migrate`, `collectstatic` (the
production path: compressed, content-hashed files served by WhiteNoise), a superuser, then a real
uvicorn subprocess serving `booktrack.asgi:application`. `browser` is a Selenium-driven Chromium
(/usr/bin/chromium through /usr/bin/chromedriver) with a fresh profile.

Chromium, chromedriver or selenium missing -> skip, or fail when CI=true (`.ci/run` installs them).
BROWSER_SCREENSHOTS=docs/screenshots makes the tests save their screenshots there.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import ROOT, start_uvicorn

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Without the background-networking switches Chromium keeps calling Google services, which a closed
# network answers with nothing but timeouts.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.integration)  # a real server: not part of the quick unit run


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser prerequisite missing: {reason}", pytrace=False)
    pytest.skip(f"browser prerequisite missing: {reason}")


@dataclass(frozen=True)
class Site:
    base_url: str
    username: str
    password: str
    job_id: str
    env: dict[str, str]  # the server's environment: `manage.py` commands against the same installation

    def url(self, path: str) -> str:
        return self.base_url + path


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.fakes.server import FakeUpstreams

    home = tmp_path_factory.mktemp("browser-site")
    password = secrets.token_urlsafe(12)
    fake = FakeUpstreams(port=0).start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        **fake.base_urls,
        "DJANGO_SETTINGS_MODULE": "booktrack.settings",
        # Embedded mode, as `make run` (empty = unset, even over a developer's .env).
        "REDIS_URL": "",
        "DATABASE_URL": "",
        "DEBUG": "false",
        "SECRET_KEY": "browser-" + secrets.token_hex(8),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATA_DIR": str(home / "data"),
        "STATIC_ROOT": str(home / "static"),
        "RATE_LIMIT_ENABLED": "false",
        "ISBNDB_API_KEY": "browser-key",
        "DJANGO_SUPERUSER_PASSWORD": password,
        "PYTHONUNBUFFERED": "1",
    }
    server = None
    try:
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "collectstatic", "--noinput", "-v", "0")
        _manage(env, "createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.test")
        server, port = start_uvicorn("browser-site", env, home)
        base_url = f"http://127.0.0.1:{port}"
        # Something to list: a batch enrichment job (through the fakes) that also fills the catalog.
        job_id = str(uuid.uuid4())
        books = [{"isbn": "9780441172719", "title": "Dune"}, {"title": "The Hobbit", "author": "J.R.R. Tolkien"}]
        started = requests.post(f"{base_url}/v1/enrichment/batch", json={"jobId": job_id, "books": books}, timeout=30)
        assert started.status_code == 202, started.text
        _wait_for_job(base_url, job_id, started.json()["data"]["token"])
        yield Site(base_url=base_url, username="admin", password=password, job_id=job_id, env=env)
    finally:
        if server is not None:
            server.stop()
        fake.stop()


def _wait_for_job(base_url: str, job_id: str, token: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        response = requests.get(
            f"{base_url}/api/job-state/{job_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        state = response.json()
        if state.get("status") in ("complete", "failed", "canceled"):
            return
        time.sleep(0.2)
    raise AssertionError(f"the seeding job never finished; last state: {state}")


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        _unavailable(f"selenium: {exc}")
    for executable in (CHROMIUM, CHROMEDRIVER):
        if not os.access(executable, os.X_OK):
            _unavailable(f"{executable} (apt-get install chromium chromium-driver)")

    profile = tempfile.mkdtemp(prefix="booktrack-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshot():
    """`screenshot(driver, "name")` saves name.png under $BROWSER_SCREENSHOTS (relative to the repo), if set."""
    folder = os.environ.get("BROWSER_SCREENSHOTS", "")
    target = (ROOT / folder) if folder else None
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)

    def save(driver, name: str) -> None:
        if target is not None:
            driver.save_screenshot(str(target / f"{name}.png"))

    return save
