"""The monitoring dashboard in a real headless Chromium against a live server and a
worker on the embedded transport (workers report themselves there), while jobs flow.

Jobs wait before the worker starts (the depth and oldest-age charts rise, both job
queues have no consumer: with that rule at 0 s their alerts open at once); the worker
consumes only the text queue, so its alert resolves and the sensor queue's stays.
Skipped without Chromium + ChromeDriver, except with PREDICTQ_REQUIRE_BROWSER=1.
Set PREDICTQ_SCREENSHOT_DIR to keep the page's screenshot (docs/img/dashboard.png).
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from werkzeug.serving import make_server

from api.app import create_app
from predictq.services import Services
from predictq.settings import Settings
from tests.ui.test_sensor_pages import browser, decode_png, near  # noqa: F401 (fixture)
from worker.factory import create_worker

pytestmark = pytest.mark.slow

BLUE = (0x24, 0x57, 0xC5)  # dashboard.js: the first queue, submitted/s, p50
GREEN = (0x1B, 0x7A, 0x3A)  # completed/s


@dataclass
class Live:
    url: str
    client: object  # the app's Flask test client, for submitting
    start_worker: Callable[[], None]


@pytest.fixture
def live(browser, tmp_path: Path, model_dir: Path) -> Iterator[Live]:  # noqa: F811
    # `browser` first: without Chromium the test skips before serving anything.
    settings = Settings(data_dir=tmp_path, model_dir=model_dir,  # embedded transport
                        service_alert_interval_s=1, service_alert_no_consumer_for_s=0,
                        sweep_interval_s=1)
    services = Services.build(settings)
    app = create_app(services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = create_worker(settings, families=["text"], batch_size=4, batch_wait_ms=20)
    thread = threading.Thread(target=worker.run, daemon=True)
    yield Live(f"http://127.0.0.1:{server.server_port}", app.test_client(), thread.start)
    worker.stop_event.set()
    if thread.is_alive():
        thread.join(10)
    server.shutdown()
    services.close()


def submit(client, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        response = client.post("/v1/predictions", json={
            "model": "language", "input": {"text": f"Guten Morgen, wie geht es {i}?"}})
        assert response.status_code == 202


def samples(driver, chart: str) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.ID, chart).get_attribute("data-samples") or 0)


def test_the_dashboard_draws_live_charts_and_shows_alerts(live, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live.url}/dashboard")
    wait = WebDriverWait(browser, 30, poll_frequency=0.2)
    firing = '#alerts tr[data-rule="no_consumer"][data-state="firing"]'
    resolved = '#alerts tr[data-rule="no_consumer"][data-state="resolved"]'

    # No worker yet: 80 jobs wait, and both job queues have no consumer.
    submit(live.client, 80)
    wait.until(lambda d: samples(d, "chart-depth") >= 3)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, firing)) == 2)
    assert browser.find_element(By.ID, "stat-depth").text == "80"
    # The samples come over the event stream (issue 15), not by polling.
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-via") == "stream"
    assert "2 firing" in browser.find_element(By.ID, "alerts-summary").text
    assert browser.find_element(By.ID, "workers-note").text == "No worker is running."

    # A worker for the text queue starts, while more jobs come in bursts.
    live.start_worker()
    stop = threading.Event()

    def load():
        i = 80
        while not stop.wait(1.5):
            submit(live.client, 25, i)
            i += 25

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        # The text queue's alert resolves; the sensor queue's stays.
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, resolved))
        assert ".text" in browser.find_element(By.CSS_SELECTOR, resolved).text
        (still,) = browser.find_elements(By.CSS_SELECTOR, firing)
        assert ".sensor" in still.text
        # The worker, and what it consumes.
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#workers tbody tr"))
        worker_row = browser.find_element(By.CSS_SELECTOR, "#workers tbody tr")
        assert worker_row.find_elements(By.TAG_NAME, "td")[1].text == "text"
        assert browser.find_element(By.ID, "stat-workers").text == "1"
        wait.until(lambda d: "ms" in d.find_element(By.ID, "stat-latency").text
                   or " s" in d.find_element(By.ID, "stat-latency").text)
        start = samples(browser, "chart-rates")
        wait.until(lambda d: samples(d, "chart-rates") >= start + 5)
    finally:
        stop.set()
        loader.join(10)

    out = Path(os.environ.get("PREDICTQ_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 1280, "height": int(height), "scale": 1}})
    (out / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))

    # Every chart has drawn its lines, not only axes.
    for chart_id, colours in (("chart-depth", [BLUE]), ("chart-rates", [BLUE, GREEN]),
                              ("chart-latency", [BLUE]), ("chart-oldest", [BLUE])):
        canvas = browser.find_element(By.CSS_SELECTOR, f"#{chart_id} canvas")
        assert canvas.size["width"] > 400 and canvas.size["height"] >= 200
        pixels = decode_png(canvas.screenshot_as_png)
        for colour in colours:
            assert near(pixels, colour) > 40, (chart_id, colour, near(pixels, colour))
    pixels = decode_png(browser.find_element(By.CSS_SELECTOR, "#chart-rates canvas")
                        .screenshot_as_png)
    ink = (np.abs(pixels - 255).sum(axis=2) > 30).mean()
    assert ink > 0.02, f"only {ink:.1%} of the throughput chart is drawn on"
    assert browser.find_element(By.ID, "error").get_attribute("hidden")

