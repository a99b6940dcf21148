"""The harvest dashboard in a real browser, after a real harvest (`manage.py harvest_covers` against the
same installation and the local fakes): staff only, the figures are the run's, the covers it shows are
served by `/covers/{isbn13}`."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_admin_and_docs import assert_admin_styled, log_in
from tests.integration.conftest import ROOT

DASHBOARD = "/admin/harvest/dashboard/"
SUMMARY = re.compile(
    r"complete.*: tried (\d+), stored (\d+), skipped (\d+), failed (\d+), missing (\d+), "
    r"(\d+) bytes, (\d+) upstream calls"
)


# Searched before the harvest (real demand): one with an ISBNdb cover, one in Google Books only.
SEARCHED = ("9780140328721", "9780593201732")


def search_isbns(site, isbns) -> None:
    """ISBN searches through the site; its worker thread writes what it finds to the catalog."""
    for isbn in isbns:
        assert requests.get(site.url("/v1/search/isbn"), params={"isbn": isbn}, timeout=30).status_code == 200
    database = Path(site.env["DATA_DIR"]) / "booktrack.sqlite3"
    found = list(isbns)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as conn:
            marks = ",".join("?" * len(found))
            count = conn.execute(f"SELECT count(*) FROM search_edition WHERE isbn13 IN ({marks})", found).fetchone()[0]
        if count == len(found):
            return
        time.sleep(0.2)
    raise AssertionError("the searched books never reached the catalog")


def harvest(site) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "manage.py", "harvest_covers", "--no-progress"],
        cwd=ROOT,
        env=site.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    match = SUMMARY.search(done.stdout)
    assert match, done.stdout
    names = ("tried", "stored", "skipped", "failed", "missing", "bytes", "calls")
    return dict(zip(names, map(int, match.groups()), strict=True))


def value(driver, figure_id: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f"#{figure_id} .value").text.strip()


def test_the_dashboard_is_for_staff_and_shows_a_real_harvest(browser, site, screenshot):
    browser.delete_all_cookies()
    browser.get(site.url(DASHBOARD))
    assert "/admin/login/" in browser.current_url  # anyone else is sent to the admin login

    search_isbns(site, SEARCHED)
    run = harvest(site)
    # The seeded Dune and two of the searched books have covers (at least 2 calls each: lookup, image).
    assert run["stored"] >= 3 and run["calls"] >= 2 * run["stored"], run

    log_in(browser, site)  # the login form sends the browser on to the dashboard (?next=)
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith(DASHBOARD))
    assert_admin_styled(browser)
    assert value(browser, "covers-stored") == str(run["stored"])
    assert f"({run['bytes']} bytes)" in browser.find_element(By.ID, "storage-used").get_attribute("textContent")
    assert value(browser, "covers-missing") == str(run["missing"])
    assert value(browser, "budget-used") == f"{run['calls']} / 500"
    rows = browser.find_elements(By.CSS_SELECTOR, "#harvest-runs tr.harvest-run")
    assert len(rows) == 1
    cells = [cell.text for cell in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[1:8] == [
        "command",
        "complete",
        str(run["tried"]),
        str(run["stored"]),
        str(run["skipped"]),
        str(run["failed"]),
        str(run["missing"]),
    ]
    sources = browser.find_elements(By.CSS_SELECTOR, "#harvest-sources tbody tr")
    per_source = sum(int(row.find_elements(By.TAG_NAME, "td")[1].text) for row in sources)
    assert per_source == run["stored"]
    # The latest covers are real images served by /covers/{isbn13} (decoded by the browser).
    images = browser.find_elements(By.CSS_SELECTOR, "#harvest-latest img")
    assert len(images) == run["stored"]
    WebDriverWait(browser, 15).until(
        lambda d: all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i) for i in images)
    )
    widths = {browser.execute_script("return arguments[0].naturalWidth", image) for image in images}
    assert widths and all(0 < w <= 128 for w in widths)  # the small size
    screenshot(browser, "harvest-dashboard")
