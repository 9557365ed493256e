"""The form in a real headless Chromium against a live server and worker.

Skipped without Chromium + ChromeDriver, except with PREDICTQ_REQUIRE_BROWSER=1 (CI
installs Debian's chromium and chromium-driver and sets it), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from api.app import create_app
from worker.factory import create_worker

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def live_url(services, settings) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = create_worker(settings, batch_size=8, batch_wait_ms=5)
    worker_thread = threading.Thread(target=worker.run, daemon=True)
    worker_thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    worker.stop_event.set()
    worker_thread.join(10)
    server.shutdown()


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("PREDICTQ_REQUIRE_BROWSER") == "1":
            pytest.fail("PREDICTQ_REQUIRE_BROWSER=1 but chromium/chromedriver are missing")
        pytest.skip("needs chromium and chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--window-size=1000,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def submit_and_wait(browser, text: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    before = len(browser.find_elements(By.CSS_SELECTOR, "#results li"))
    browser.find_element(By.ID, "submit").click()
    wait = WebDriverWait(browser, 15)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li")) > before)
    item = browser.find_elements(By.CSS_SELECTOR, "#results li")[0]
    wait.until(lambda d: item.get_attribute("data-status") in ("done", "failed"))
    return item


def test_a_person_submits_and_sees_the_language_arrive(live_url, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(live_url)
    item = submit_and_wait(browser, "Jag tycker om att läsa böcker på kvällarna.")
    assert item.get_attribute("data-status") == "done"
    status = item.find_element(By.CLASS_NAME, "status").text
    assert "Swedish (sv)" in status and "confidence" in status
    item = submit_and_wait(browser, "夜は静かな部屋で本を読むのが好きです。")
    assert "Japanese (ja)" in item.find_element(By.CLASS_NAME, "status").text
    browser.save_screenshot(str(tmp_path / "ui.png"))


def test_the_result_arrives_over_the_event_stream_not_by_polling(live_url, browser):
    # The page follows GET /v1/predictions/events (issue 15) and polls only if a stream
    # cannot be read; `data-via` says which delivered the result.
    browser.get(live_url)
    item = submit_and_wait(browser, "Ich lese abends gern Bücher, wenn es draußen regnet.")
    assert item.get_attribute("data-status") == "done"
    assert item.get_attribute("data-via") == "stream"


def test_user_text_is_shown_as_text_never_as_html(live_url, browser):
    from selenium.webdriver.common.by import By

    browser.get(live_url)
    hostile = '<img src=x onerror="document.title=\'pwned\'"> Das ist <b>kein</b> HTML.'
    item = submit_and_wait(browser, hostile)
    assert item.find_element(By.CLASS_NAME, "text").text == hostile
    assert item.find_elements(By.TAG_NAME, "img") == []
    assert item.find_elements(By.TAG_NAME, "b") == []
    assert browser.title == "predictq"


def test_invalid_input_shows_the_api_error(live_url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_url)
    browser.execute_script("document.getElementById('text').removeAttribute('required')")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "non-empty" in browser.find_element(By.ID, "error").text
    assert browser.find_elements(By.CSS_SELECTOR, "#results li") == []
