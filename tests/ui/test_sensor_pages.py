"""The sensor pages in a real headless Chromium against a live server, the stream
consumer and a job worker (which classifies the events with the real `appliance` model).

Skipped without Chromium + ChromeDriver, except with PREDICTQ_REQUIRE_BROWSER=1 (CI
installs Debian's chromium and chromium-driver and sets it), where that is a failure.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from werkzeug.serving import make_server

from api.app import create_app
from models.registry import get_spec
from predictq.services import Services
from predictq.settings import Settings
from worker.factory import create_stream_consumer, create_worker

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

SENSOR = "kitchen-meter.01"
EVENT = (150, 300)  # reading indices of the step "event" (1 reading a second)
SPIKE = 650
VALUE_RGB = (0x24, 0x57, 0xC5)  # charts.js COLORS.value
SMOOTHED_RGB = (0xF2, 0x8E, 0x2B)  # charts.js COLORS.smoothed


@pytest.fixture(scope="session")
def appliance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real `appliance` model (about 6 s to train), so that events get a class."""
    model_dir = tmp_path_factory.mktemp("appliance-model")
    get_spec("appliance").train(model_dir, None)
    return model_dir


@dataclass
class Live:
    url: str
    client: object  # the app's Flask test client, for posting readings
    t0: float  # the sensor clock of reading 0


@pytest.fixture
def live(browser, tmp_path: Path, appliance_dir: Path) -> Iterator[Live]:
    # `browser` first: without Chromium the test skips before training or serving.
    settings = Settings(data_dir=tmp_path, broker_url="memory://", model_dir=appliance_dir,
                        queue_prefix=f"t{uuid.uuid4().hex[:10]}")
    services = Services.build(settings)
    app = create_app(services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    jobs = create_worker(settings, batch_size=8, batch_wait_ms=5)
    streams = create_stream_consumer(settings)
    threads = [threading.Thread(target=w.run, daemon=True) for w in (jobs, streams)]
    for thread in threads:
        thread.start()
    yield Live(url=f"http://127.0.0.1:{server.server_port}", client=app.test_client(),
               t0=float(round(time.time()) - 900))
    streams.stop_event.set()
    jobs.stop_event.set()
    for thread in threads:
        thread.join(10)
    server.shutdown()
    services.close()


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
                 "--force-device-scale-factor=1", "--window-size=1280,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def value_at(i: int, rng: random.Random) -> float:
    """A low periodic baseline, a step of 150 readings, one spike."""
    v = 1.0 + 0.2 * math.sin(2 * math.pi * i / 32) + rng.gauss(0, 0.02)
    if EVENT[0] <= i < EVENT[1]:
        v += 5.0
    if i == SPIKE:
        v += 4.0
    return v


def post_readings(live: Live, start: int, stop: int, rng: random.Random) -> None:
    for first in range(start, stop, 100):
        body = {"readings": [{"t": live.t0 + i, "value": value_at(i, rng)}
                             for i in range(first, min(stop, first + 100))]}
        response = live.client.post(f"/v1/sensors/{SENSOR}/readings", json=body)
        assert response.status_code == 202, response.get_json()


def clock(t: float) -> str:
    """HH:MM:SS in local time, as the page shows it (the browser shares our TZ)."""
    return time.strftime("%H:%M:%S", time.localtime(t))


def seconds_of_day(text: str) -> int:
    h, m, s = (int(part) for part in text.split(":"))
    return h * 3600 + m * 60 + s


def decode_png(data: bytes) -> np.ndarray:
    """RGB pixels of an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, chunk = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    channels = 3 if color == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + prev) & 0xFF
        else:  # Sub, Average and Paeth depend on the left pixel: byte by byte
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                a = cur[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + pred) & 0xFF
        out[y] = cur
        prev = cur
    return out.reshape(height, width, channels)[:, :, :3]


def near(pixels: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 40) -> int:
    return int((np.abs(pixels - np.array(rgb)).sum(axis=2) < tolerance).sum())


def test_a_person_watches_a_sensor_live(live, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20, poll_frequency=0.2)
    rng = random.Random(7)
    post_readings(live, 0, 800, rng)

    # The list: the sensor appears with its readings, and links to its page.
    browser.get(f"{live.url}/sensors")
    row = f'#sensors tr[data-sensor-id="{SENSOR}"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    wait.until(lambda d: "800" in d.find_element(By.CSS_SELECTOR, row).text)
    assert clock(live.t0 + 799) in browser.find_element(By.CSS_SELECTOR, row).text
    assert via(browser) == "stream"  # the list follows the event stream, no polling
    browser.save_screenshot(str(tmp_path / "sensors.png"))
    browser.find_element(By.CSS_SELECTOR, f"{row} a.sensor-link").click()
    wait.until(lambda d: d.current_url.endswith(f"/sensors/{SENSOR}"))
    browser.execute_script("window.stillTheSamePage = true")

    # The event, with its times and (once the job worker is done) its class.
    card = ".event-card"
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, card))
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, card)
               .get_attribute("data-classification") == "done")
    event = browser.find_elements(By.CSS_SELECTOR, card)[-1]  # the oldest
    start, _, end = event.find_element(By.CLASS_NAME, "event-times").text.partition(" → ")
    assert abs(seconds_of_day(start) - seconds_of_day(clock(live.t0 + EVENT[0]))) <= 3
    assert abs(seconds_of_day(end) - seconds_of_day(clock(live.t0 + EVENT[1] - 1))) <= 3
    assert "%" in event.find_element(By.CLASS_NAME, "badge").text
    assert event.find_elements(By.CSS_SELECTOR, "canvas")  # its small chart

    # The live chart has drawn both series over most of its width.
    chart = browser.find_element(By.CSS_SELECTOR, "#chart canvas")
    assert chart.size["width"] > 1000 and chart.size["height"] >= 300
    wait.until(lambda d: d.find_element(By.ID, "chart").get_attribute("data-last-t")
               == str(int(live.t0 + 799)))
    png = chart.screenshot_as_png
    (tmp_path / "chart.png").write_bytes(png)
    pixels = decode_png(png)
    ink = (np.abs(pixels - 255).sum(axis=2) > 30).mean()
    assert ink > 0.08, f"only {ink:.1%} of the chart is drawn on"
    assert near(pixels, VALUE_RGB) > 250
    assert near(pixels, SMOOTHED_RGB) > 500
    # …and along the whole window, not bunched up at one end.
    for part in np.array_split(pixels[:, 60:], 4, axis=1):
        assert near(part, VALUE_RGB) > 20 and near(part, SMOOTHED_RGB) > 20

    # The sensor's alerts are those the API has.
    alerts = live.client.get(f"/v1/alerts?sensor_id={SENSOR}").get_json()["alerts"]
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#alerts tbody tr"))
               == len(alerts))

    # New readings appear without a reload.
    post_readings(live, 800, 900, rng)
    wait.until(lambda d: d.find_element(By.ID, "stat-last").text == clock(live.t0 + 899))
    wait.until(lambda d: d.find_element(By.ID, "chart").get_attribute("data-last-t")
               == str(int(live.t0 + 899)))
    assert "900" in browser.find_element(By.ID, "stat-readings").text
    assert browser.execute_script("return window.stillTheSamePage") is True
    assert via(browser) == "stream"  # told of the change, not polling for it
    browser.save_screenshot(str(tmp_path / "sensor.png"))


def test_a_sensor_that_never_sent_readings_says_so(live, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live.url}/sensors/no-such-sensor")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "no sensor 'no-such-sensor' has sent readings" in \
        browser.find_element(By.ID, "error").text

    # …and fills in when it does, over the stream.
    body = {"readings": [{"t": live.t0 + i, "value": 1.0} for i in range(30)]}
    assert live.client.post("/v1/sensors/no-such-sensor/readings",
                            json=body).status_code == 202
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "stat-readings").text == "30")
    assert not browser.find_element(By.ID, "error").is_displayed()
    assert via(browser) == "stream"


def via(browser) -> str:
    return browser.execute_script("return document.body.dataset.via")
