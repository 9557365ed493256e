"""The pages with API keys on, in headless Chromium: without a key the form shows the
API's 401; a key typed into the nav's field (kept in localStorage) goes with every
request, and the prediction arrives; with keys off there is no field at all.
Screenshot: docs/img/api-key.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api.app import create_app
from predictq import apikeys
from predictq.services import Services
from tests.ui.test_browser import browser, live_url, submit_and_wait  # noqa: F401 (fixtures)
from worker.factory import create_worker

pytestmark = pytest.mark.slow

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "api-key.png"


@pytest.fixture
def keyed_url(settings) -> Iterator[tuple[str, Services]]:
    keyed = settings.replace(api_keys="on")
    services = Services.build(keyed)
    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = create_worker(keyed, batch_size=8, batch_wait_ms=5)
    worker_thread = threading.Thread(target=worker.run, daemon=True)
    worker_thread.start()
    yield f"http://127.0.0.1:{server.server_port}", services
    worker.stop_event.set()
    worker_thread.join(10)
    server.shutdown()
    services.close()


def test_the_form_works_with_a_key(keyed_url, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, services = keyed_url
    _, secret = apikeys.issue(services.store, ["submit", "read", "feedback"], name="browser")
    browser.get(url)
    field = browser.find_element(By.ID, "api-key")
    assert field.get_attribute("type") == "password" and field.get_attribute("value") == ""
    # No key yet: the API's 401 reaches the page.
    browser.find_element(By.ID, "text").send_keys("Jag tycker om att läsa böcker.")
    browser.find_element(By.ID, "submit").click()
    wait = WebDriverWait(browser, 15)
    wait.until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "API key is required" in browser.find_element(By.ID, "error").text

    field.send_keys(secret)
    browser.find_element(By.CSS_SELECTOR, "#api-key-form button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".apikey-state").text == "key set")
    assert browser.execute_script("return localStorage.getItem('predictq.apiKey')") == secret
    assert secret not in browser.current_url
    item = submit_and_wait(browser, "Jag tycker om att läsa böcker på kvällarna.")
    assert item.get_attribute("data-status") == "done"
    assert "Swedish (sv)" in item.find_element(By.CLASS_NAME, "status").text
    # The job is this key's: the page polled it with the key.
    (job,) = services.store.list_recent(5)
    assert job.owner == services.store.keys.list()[0].key_id
    # Feedback goes with the key too.
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results li button"))
    browser.save_screenshot(str(SCREENSHOT))

    # Another page of the same origin sends the same key.
    browser.get(url + "/models")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "nav.topnav #api-key-form"))
    browser.find_element(By.CSS_SELECTOR, "#api-key-form button.secondary").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".apikey-state").text == "no key")
    assert browser.execute_script("return localStorage.getItem('predictq.apiKey')") is None


def test_with_keys_off_there_is_no_key_field(live_url, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(live_url)
    assert browser.find_elements(By.CSS_SELECTOR, "nav.topnav a")
    assert browser.find_elements(By.ID, "api-key-form") == []
