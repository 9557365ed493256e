"""The dashboard as an operator opens it: `predictq up` from the defaults, locust's
users (polling, waiting, sensor and batch) driving load, the page in a real headless
Chromium. The samples arrive over the event stream, the charts draw their lines, the
rates and latency are those of the load, and no alert fires while the service keeps up.
Skipped without Chromium + ChromeDriver, except with PREDICTQ_REQUIRE_BROWSER=1."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys

import pytest

from tests.e2e.test_locust import LOCUSTFILE
from tests.e2e.test_up import start_up
from tests.models.conftest import trained_sensor  # noqa: F401  (a session fixture)
from tests.ui.test_dashboard import BLUE, GREEN, samples
from tests.ui.test_sensor_pages import browser, decode_png, near  # noqa: F401 (fixture)

DEAD_RED = (0xD6, 0x27, 0x28)  # dashboard.js DEAD: the dead-letter depth line

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("trained_sensor")]


def test_the_dashboard_follows_predictq_up_under_locust_load(tmp_path, model_dir,
                                                             browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    up, base = start_up(tmp_path, model_dir)
    load = None
    try:
        load = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", base,
             "--headless", "-u", "12", "-r", "12", "-t", "60s", "--max-p95-ms", "60000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        browser.set_window_size(1280, 1600)  # every chart on screen for its pixels
        browser.get(f"{base}/dashboard")
        wait = WebDriverWait(browser, 45, poll_frequency=0.3)
        wait.until(lambda d: samples(d, "chart-rates") >= 8)
        # Each of the 2 workers runs a job consumer and a stream consumer.
        wait.until(lambda d: d.find_element(By.ID, "stat-workers").text
                   == "2 jobs · 2 streams")
        wait.until(lambda d: "ms" in d.find_element(By.ID, "stat-latency").text
                   or " s" in d.find_element(By.ID, "stat-latency").text)
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-via") == "stream"
        rates = browser.find_element(By.ID, "stat-rates").text
        assert rates and rates != "—"
        # An alert may open while the workers start on a loaded machine; none stays
        # firing once they consume.
        wait.until(lambda d: d.find_element(By.ID, "alerts-summary").text
                   .startswith("0 firing"))
        assert browser.find_element(By.ID, "error").get_attribute("hidden")

        height = browser.execute_script("return document.documentElement.scrollHeight")
        shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": 1280, "height": int(height), "scale": 1}})
        out = os.environ.get("PREDICTQ_SCREENSHOT_DIR") or tmp_path
        (tmp_path / "dashboard-under-load.png").write_bytes(base64.b64decode(shot["data"]))
        if out != tmp_path:
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, "dashboard-under-load.png"), "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        for chart_id, colours in (("chart-rates", [BLUE, GREEN]), ("chart-latency", [BLUE])):
            pixels = chart_pixels(browser, chart_id)
            for colour in colours:
                assert near(pixels, colour) > 40, (chart_id, colour, near(pixels, colour))
        # The depth lines: where the workers keep up, every queue's is flat at 0 and the
        # last drawn (dead letters, red) covers the others, so any of them counts.
        pixels = chart_pixels(browser, "chart-depth")
        drawn = sum(near(pixels, colour) for colour in (BLUE, DEAD_RED))
        assert drawn > 40, ("chart-depth", drawn)
    finally:
        if load is not None:
            load.send_signal(signal.SIGINT)
            load.wait(30)
        up.send_signal(signal.SIGINT)
        up.wait(30)


def chart_pixels(driver, chart_id: str):
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.CSS_SELECTOR, f"#{chart_id} canvas")
    return decode_png(canvas.screenshot_as_png)
