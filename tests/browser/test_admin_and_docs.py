"""What a person sees in a real browser: the admin with its styles, and Swagger UI drawing the API.

Each page is checked the way a person would notice it broken: the stylesheets arrived and apply (the
admin header is coloured, not the browser's transparent default), every `/static/` asset the page
asked for answered 200, and Swagger UI drew the API's operations.
"""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# Collected files carry a 12-hex-digit content hash (CompressedManifestStaticFilesStorage).
HASHED = r"\.[0-9a-f]{12}\."
ADMIN_BASE_CSS = re.compile(rf"/static/admin/css/base{HASHED}css$")
SWAGGER_CSS = re.compile(rf"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui{HASHED}css$")
UNSTYLED_BACKGROUNDS = {"rgba(0, 0, 0, 0)", "transparent"}

CATALOG_LISTS = {
    "/admin/search/work/": "works",
    "/admin/search/edition/": "editions",
    "/admin/search/author/": "authors",
}
JOBS_LIST = "/admin/jobs/job/"


def stylesheets(driver) -> dict[str, int]:
    """href -> number of CSS rules the browser parsed from it."""
    sheets = driver.execute_script(
        "return Array.from(document.styleSheets).map(s => [s.href || '', s.cssRules.length]);"
    )
    return {href: rules for href, rules in sheets if href}


def static_responses(driver) -> dict[str, int]:
    """URL -> HTTP status of every /static/ asset this page loaded (Resource Timing)."""
    entries = driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/static/')).map(e => [e.name, e.responseStatus]);"
    )
    return dict(entries)


def assert_static_assets_loaded(driver, stylesheet: re.Pattern) -> None:
    responses = static_responses(driver)
    assert responses, f"{driver.current_url} loaded no /static/ asset"
    failed = {url: status for url, status in responses.items() if status != 200}
    assert not failed, f"static assets that did not load on {driver.current_url}: {failed}"
    sheets = stylesheets(driver)
    matching = [href for href in sheets if stylesheet.search(href)]
    assert matching, f"no stylesheet matching {stylesheet.pattern} on {driver.current_url}: {sorted(sheets)}"
    assert all(sheets[href] > 0 for href in matching), f"empty stylesheet: {matching}"


def assert_admin_styled(driver) -> None:
    assert_static_assets_loaded(driver, ADMIN_BASE_CSS)
    header = driver.execute_script("return getComputedStyle(document.getElementById('header')).backgroundColor;")
    assert header not in UNSTYLED_BACKGROUNDS, f"the admin header is unstyled on {driver.current_url}"


def open_login_page(driver, site) -> None:
    driver.delete_all_cookies()
    driver.get(site.url("/admin/login/?next=/admin/"))


def log_in(driver, site) -> None:
    driver.find_element(By.ID, "id_username").send_keys(site.username)
    driver.find_element(By.ID, "id_password").send_keys(site.password)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "user-tools"))


def test_admin_login_page_is_styled_and_logs_in(browser, site, screenshot):
    open_login_page(browser, site)
    assert browser.find_elements(By.ID, "login-form")
    assert_admin_styled(browser)
    screenshot(browser, "admin-login")

    log_in(browser, site)
    assert browser.current_url == site.url("/admin/")
    assert "Site administration" in browser.title
    assert_admin_styled(browser)


def test_admin_catalog_and_job_lists_are_styled(browser, site, screenshot):
    open_login_page(browser, site)
    log_in(browser, site)
    for path, name in CATALOG_LISTS.items():
        browser.get(site.url(path))
        assert browser.find_elements(By.ID, "changelist"), f"{path} is not a change list: {browser.title}"
        assert_admin_styled(browser)
        if name == "works":
            screenshot(browser, "admin-works")

    browser.get(site.url(JOBS_LIST))
    assert browser.find_elements(By.ID, "changelist"), f"{JOBS_LIST} is not a change list: {browser.title}"
    assert_admin_styled(browser)
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert any(site.job_id in row.text for row in rows), "the seeded job is not listed"
    screenshot(browser, "admin-jobs")


def test_api_docs_draw_the_operations(browser, site, screenshot):
    browser.get(site.url("/api/docs/"))
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 10)
    paths = set(
        browser.execute_script(
            "return [...document.querySelectorAll('.opblock [data-path]')].map(e => e.dataset.path);"
        )
    )
    assert {"/v1/search/isbn", "/v1/enrichment/batch", "/api/job-state/{job_id}"} <= paths, sorted(paths)
    assert_static_assets_loaded(browser, SWAGGER_CSS)
    screenshot(browser, "api-docs")
