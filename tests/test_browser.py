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
from app.dashboard import register
from tests.test_dashboard import FAILING, ROOT, SAMPLES, run_suites

from selenium import webdriver  # noqa: E402 - never skipped: scripts/test.sh installs it
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-proxy-server", "--window-size=1280,900")


@pytest.fixture
def served(store, monkeypatch):
    """The dashboard over the sample runs and the failing examples, on a real loopback server."""
    monkeypatch.chdir(ROOT)
    docs = run_suites(store, SAMPLES + FAILING, noise="realistic")
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


def test_dashboard_in_a_real_browser(served, browser, tmp_path):
    base, docs = served
    browser.get(base + "/")
    assert browser.title == "Runs · IVR test results"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")
    assert len(rows) == len(docs) == 7
    counts = {li.text.split("\n")[1]: li.find_element(By.CLASS_NAME, "n").text
              for li in browser.find_elements(By.CSS_SELECTOR, "ul.counts li")}
    assert counts == {"runs": "7", "passed": "5", "failed": "2", "errors": "0"}
    failed_badge = browser.find_element(By.CSS_SELECTOR, ".badge.fail")
    assert failed_badge.value_of_css_property("background-color") == "rgba(255, 235, 233, 1)"  # CSS loaded
    screenshot(browser, tmp_path / "runs.png")

    Select(browser.find_element(By.NAME, "status")).select_by_value("failed")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr td.text a")]
    assert sorted(links) == ["failing on purpose: press 2 does not reach sales",
                             "failing on purpose: the greeting changed"]
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
