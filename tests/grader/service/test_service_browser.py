"""A real browser (Debian's Chromium through selenium, no JavaScript needed) walks the service,
on SQLite and PostgreSQL: a student from the login link to an upload, its status and its
report; an instructor through the gradebook, a release and a CSV download."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as Driver
from selenium.webdriver.common.by import By
from service_support import Live, poll, unavailable

CHROME_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--window-size=1280,1024"]


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, downloads: Path
            ) -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        unavailable("the browser walk needs Debian's Chromium and its driver: "
                    "apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in [*CHROME_ARGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        chrome = webdriver.Chrome(options=options, service=Driver(executable_path=driver))
    chrome.set_page_load_timeout(30)
    chrome.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield chrome
    finally:
        chrome.quit()


def assert_not_blank(browser: webdriver.Chrome, what: str) -> None:
    with Image.open(io.BytesIO(browser.get_screenshot_as_png())) as image:
        extrema = image.convert("RGB").getextrema()
    assert any(low != high for low, high in extrema), f"{what} rendered as a single colour"


def text_of(browser: webdriver.Chrome, element_id: str) -> str:
    try:
        return str(browser.find_element(By.ID, element_id).text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""  # the page is reloading itself


def text_of_body(browser: webdriver.Chrome) -> str:
    try:
        return str(browser.find_element(By.TAG_NAME, "body").text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""  # between two pages


def arrived(browser: webdriver.Chrome, where: Callable[[str], bool], what: str) -> None:
    """Wait for the navigation a click started (click() may return before it ends)."""
    poll(lambda: where(browser.current_url), 30, f"never reached {what}; at "
         f"{browser.current_url}")


def test_student_and_instructor_walk(service: Live, browser: webdriver.Chrome,
                                     assignments_dir: Path, downloads: Path) -> None:
    student = service.student()
    browser.delete_all_cookies()
    browser.get(service.login_urls[student])
    browser.find_element(By.ID, "login").click()
    arrived(browser, lambda url: url.endswith("/assignments"), "the assignments page")
    assert_not_blank(browser, "the assignments page")
    form = browser.find_element(By.CSS_SELECTOR, "#assignment-tiny form")
    form.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(
        str(assignments_dir / "tiny" / "solution.py"))
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    arrived(browser, lambda url: "/submissions/" in url, "the submission's status page")
    # No script: the status page refreshes itself (meta refresh) until the work is graded.
    poll(lambda: text_of(browser, "status") == "graded", 240, "the status page never said "
         f"graded; it shows: {browser.page_source[:2000]}", every=0.5)
    assert text_of(browser, "to-come") == "1"
    assert_not_blank(browser, "the status page")
    browser.find_element(By.ID, "report").click()
    body = poll(lambda: "relu matches" in text_of_body(browser) and text_of_body(browser), 30,
                "the report did not open")
    assert "relu matches max(x, 0) on a small vector" in body
    assert "random inputs" not in body
    assert browser.title.strip()
    assert_not_blank(browser, "the report")

    browser.delete_all_cookies()
    browser.get(f"{service.url}/login/{service.login_code(service.instructor)}")
    browser.find_element(By.ID, "login").click()
    arrived(browser, lambda url: url.endswith("/instructor"), "the instructor's page")
    row = browser.find_element(By.XPATH, f"//table[@id='gradebook']//tr[td/a[text()='{student}']]")
    assert "2 / 2" in row.text
    assert_not_blank(browser, "the gradebook")
    released = browser.find_elements(By.ID, "release-tinyrel")
    if released:  # another test may have released it already
        released[0].click()
    poll(lambda: "Hidden results are released" in text_of(browser, "manage-tinyrel"), 30,
         "the gradebook does not show the release")
    browser.find_element(By.ID, "csv-tiny-plain").click()
    csv_file = poll(lambda: next(iter(downloads.glob("tiny-grades-plain*.csv")), None), 60,
                    "the CSV was not downloaded")
    text = csv_file.read_text()
    assert text.startswith('"submission","relu","total","max_score","status"')
    assert f'"{student}","2","2","2","graded"' in text
    csv_file.unlink()
