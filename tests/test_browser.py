"""The dashboard in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
driven by Selenium against the dashboard on a real HTTP server on 127.0.0.1.

It is not skipped when Chromium is missing, on purpose: CI installs it through
`bash scripts/test.sh`, and a skipped browser test is a dashboard nobody looked at. Selenium
Manager is never asked to download a driver or a browser: both paths are given and it is told
to stay offline.
"""
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.dashboard import register, write_html_report
from tests.test_dashboard import FAILING, ROOT, SAMPLES, run_suites

from selenium import webdriver  # noqa: E402 - never skipped: scripts/test.sh installs it
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

OLDER, NEWER = "20261201T080000Z-aaaaaa", "20261201T090000Z-bbbbbb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-proxy-server", "--window-size=1280,900")


@pytest.fixture
def served(store, monkeypatch):
    """The dashboard over two invocations of the sample runs and the failing examples, on a
    real loopback server; the docs of the newer invocation, by file."""
    monkeypatch.chdir(ROOT)
    run_suites(store, SAMPLES + FAILING, noise="realistic", invocation=OLDER)
    docs = run_suites(store, SAMPLES + FAILING, noise="realistic", invocation=NEWER)
    app = create_app({"TESTING": True, "STORE": store})
    if "dashboard" not in app.blueprints:
        register(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", {doc["file"]: doc for doc in docs}
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """Headless Chromium with a fresh profile, and no way for Selenium Manager to fetch anything."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.fail(f"{path} is missing: `bash scripts/test.sh` installs chromium and chromium-driver")
    monkeypatch.setenv("SE_OFFLINE", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def click_and_wait(driver, element):
    """Click a link or button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(EC.staleness_of(page))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def screenshot(driver, path):
    """A full-page screenshot: the window is grown to the page's height first."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(height + 200, 8000)))
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def problems_in_console(driver):
    """Console errors (a CSP violation, a missing file); favicon requests do not count."""
    return [entry for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "favicon" not in entry["message"]]


def fits_the_window(driver):
    """Nothing wider than the 1280-pixel window: no horizontal scrolling."""
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_dashboard_in_a_real_browser(served, browser, tmp_path):
    base, docs = served
    browser.get(base + "/")
    assert browser.title == "Runs · IVR test results"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr[class^='run-']")
    assert len(rows) == 2 * len(docs) == 14
    counts = {li.text.split("\n")[1]: li.find_element(By.CLASS_NAME, "n").text
              for li in browser.find_elements(By.CSS_SELECTOR, "ul.counts li")}
    assert counts == {"runs": "14", "passed": "10", "failed": "4", "errors": "0"}
    failed_badge = browser.find_element(By.CSS_SELECTOR, ".badge.fail")
    assert failed_badge.value_of_css_property("background-color") == "rgba(255, 235, 233, 1)"  # CSS loaded
    assert fits_the_window(browser)
    screenshot(browser, tmp_path / "runs.png")

    # Grouped by invocation, newest first, each group with its counts.
    groups = browser.find_elements(By.CSS_SELECTOR, "table.runs tbody.invocation")
    headers = [g.find_element(By.CSS_SELECTOR, "tr.group").text for g in groups]
    assert [NEWER in headers[0], OLDER in headers[1], len(headers)] == [True, True, 2]
    assert "7 runs: 5 passed, 2 failed" in headers[0]
    assert len(groups[0].find_elements(By.CSS_SELECTOR, "tr[class^='run-']")) == 7
    # The failure reason beside each failed run; nothing beside a passed one.
    greeting = docs["examples/failing/wrong_greeting.json"]["results"][0]
    failed_row = next(r for r in groups[0].find_elements(By.CSS_SELECTOR, "tr.run-fail")
                      if "the greeting changed" in r.text)
    why = failed_row.find_element(By.CSS_SELECTOR, "td.why").text
    assert why.startswith("step 1: no-match: expected") and greeting["actualResult"] in why
    assert f"score {greeting['score']:.2f}" in why
    assert all(r.find_element(By.CSS_SELECTOR, "td.why").text == ""
               for r in groups[0].find_elements(By.CSS_SELECTOR, "tr.run-pass"))
    # A trend per suite: two runs each, oldest first, failing suites listed first.
    trends = browser.find_elements(By.CSS_SELECTOR, "table.trends tbody tr")
    assert len(trends) == 7
    first = trends[0]
    assert first.find_element(By.CSS_SELECTOR, "td.num").text == "0/2"
    assert [t.get_attribute("class") for t in first.find_elements(By.CSS_SELECTOR, "a.tick")] == ["tick fail"] * 2
    assert trends[-1].find_element(By.CSS_SELECTOR, "td.num").text == "2/2"
    tick = first.find_element(By.CSS_SELECTOR, "a.tick")
    assert tick.value_of_css_property("background-color") == "rgba(197, 34, 31, 1)"
    assert tick.size["width"] == 14
    # "only these" keeps one invocation.
    click_and_wait(browser, groups[1].find_element(By.LINK_TEXT, "only these"))
    assert f"invocation={OLDER}" in browser.current_url
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.runs tbody.invocation")) == 1
    browser.get(base + "/")

    Select(browser.find_element(By.NAME, "status")).select_by_value("failed")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr td.text a")]
    assert sorted(links) == sorted(["failing on purpose: press 2 does not reach sales",
                                    "failing on purpose: the greeting changed"] * 2)
    assert "status=failed" in browser.current_url

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "failing on purpose: the greeting changed"))
    failing = docs["examples/failing/wrong_greeting.json"]["results"][0]
    assert browser.find_element(By.TAG_NAME, "h1").text == "failing on purpose: the greeting changed"
    row = browser.find_element(By.CSS_SELECTOR, "table.steps tr.step-failure")
    assert row.find_element(By.CSS_SELECTOR, "td.expected li").text == failing["expected"][0]
    assert row.find_element(By.CSS_SELECTOR, "td.heard").text.startswith(failing["actualResult"])
    assert f"{failing['score']:.2f}" in row.text
    verdict = browser.find_element(By.CSS_SELECTOR, ".verdict").text
    assert "Stopped at step 1: no-match" in verdict and failing["actualResult"] in verdict
    transcript = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "ol.transcript li")]
    assert transcript[0].startswith("0.0 s") and "IVR:" in transcript[0]
    screenshot(browser, tmp_path / "failing-run.png")
    assert problems_in_console(browser) == []


def test_html_report_opens_with_the_failures_and_collapsed_runs(served, browser, store, tmp_path):
    _, docs = served
    path = tmp_path / "report.html"
    write_html_report(list(docs.values()), path)
    browser.get(path.as_uri())
    assert fits_the_window(browser)
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "main > h2")]
    assert headings == ["Failures", "Runs"]
    failures = browser.find_elements(By.CSS_SELECTOR, "table.failures tbody tr")
    assert len(failures) == 2 and all("no-match: expected" in row.text for row in failures)
    runs = browser.find_elements(By.CSS_SELECTOR, "details.run")
    assert len(runs) == 7 and not any(run.get_attribute("open") for run in runs)
    kinds = [run.find_element(By.CSS_SELECTOR, "summary .badge").text for run in runs]
    assert kinds == ["failed"] * 2 + ["complete"] * 5, "failed runs first"
    closed_height = browser.execute_script("return document.documentElement.scrollHeight")
    assert closed_height < 2500, "collapsed: a short page"
    assert not runs[0].find_element(By.CSS_SELECTOR, "table.steps").is_displayed()
    runs[0].find_element(By.TAG_NAME, "summary").click()
    assert runs[0].find_element(By.CSS_SELECTOR, "table.steps tr.step-failure").is_displayed()
    screenshot(browser, tmp_path / "report.png")
