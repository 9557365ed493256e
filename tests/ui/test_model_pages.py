"""The model lifecycle in a real headless Chromium against a live server and worker:
"was this right?" under each result, the models list and one model's page (versions with
their accuracy on feedback, the chart, the shadow comparison, the decisions).

Skipped without Chromium + ChromeDriver, except with PREDICTQ_REQUIRE_BROWSER=1 (CI
installs Debian's chromium and chromium-driver and sets it), where that is a failure.
"""

from __future__ import annotations

import copy
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from werkzeug.serving import make_server

from api.app import create_app
from models.artifacts import current_version, load_estimator, save_artifact
from predictq.lifecycle.records import Action
from predictq.services import Services
from predictq.settings import Settings
from tests.ui.test_browser import submit_and_wait
from tests.ui.test_sensor_pages import browser, decode_png, near  # noqa: F401 (fixture)
from worker.factory import create_worker

pytestmark = pytest.mark.slow

SERVING_RGB = (0x24, 0x57, 0xC5)  # model.js ROLE_COLORS.serving
SWEDISH = "Jag tycker om att läsa böcker på kvällarna när det regnar ute."
GERMAN = "Wir fahren morgen früh mit dem Zug nach Hamburg zu meiner Schwester."


@dataclass(frozen=True)
class Versions:
    model_dir: Path
    serving: str  # CURRENT
    candidate: str  # same answers, other confidences


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Versions:
    """A model folder of its own (never the session's) with a second `language` version,
    made as tests/predictq/test_lifecycle.py `derived(..., recalibrated)` does."""
    folder = tmp_path_factory.mktemp("ui-lifecycle-models")
    shutil.copytree(model_dir / "language", folder / "language")
    estimator, manifest = load_estimator(folder, "language")
    estimator = copy.deepcopy(estimator)
    estimator.language_calibration_ = {**estimator.language_calibration_,
                                       "a": estimator.language_calibration_["a"] * 1.01}
    saved = save_artifact(estimator, folder, "language", data=manifest.data,
                          metrics=manifest.metrics, params=manifest.params)
    assert saved.version != manifest.version
    assert current_version(folder, "language") == manifest.version
    return Versions(folder, manifest.version, saved.version)


@dataclass
class Live:
    url: str
    services: Services
    client: object  # the app's Flask test client


def start(tmp_path: Path, versions: Versions, shadow: str | None = None
          ) -> tuple[Live, Callable[[], None]]:
    settings = Settings(data_dir=tmp_path, broker_url="memory://",
                        model_dir=versions.model_dir, model_poll_ms=100,
                        queue_prefix=f"t{uuid.uuid4().hex[:10]}")
    services = Services.build(settings)
    if shadow:
        services.store.models.switch("language", Action.SHADOW, shadow, reason="ui test")
    app = create_app(services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = create_worker(settings, batch_size=8, batch_wait_ms=5)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop_event.set()
        thread.join(10)
        server.shutdown()
        services.close()

    return Live(f"http://127.0.0.1:{server.server_port}", services, app.test_client()), stop


@pytest.fixture
def live(browser, tmp_path: Path, versions: Versions) -> Iterator[Live]:  # noqa: F811
    # `browser` first: without Chromium the test skips before serving anything.
    live, stop = start(tmp_path, versions)
    yield live
    stop()


@pytest.fixture
def live_shadow(browser, tmp_path: Path, versions: Versions) -> Iterator[Live]:  # noqa: F811
    live, stop = start(tmp_path, versions, shadow=versions.candidate)
    yield live
    stop()


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {predicate}")


def test_a_person_says_whether_results_were_right_and_sees_the_accuracy(
        live, browser, versions, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 15, poll_frequency=0.1)
    store = live.services.store.models
    browser.get(live.url)

    # ✓ right sends the predicted label.
    item = submit_and_wait(browser, SWEDISH)
    assert item.get_attribute("data-status") == "done"
    first = item.get_attribute("data-tracking-id")
    item.find_element(By.CSS_SELECTOR, ".fb-right").click()
    state = item.find_element(By.CSS_SELECTOR, ".fb-state")
    wait.until(lambda d: "recorded as sv" in state.text)
    assert "thanks" in state.text and "Swedish" in state.text
    stored = store.get_feedback(first)
    assert stored.label == "sv" and stored.correct and stored.version == versions.serving
    assert not item.find_element(By.CSS_SELECTOR, ".fb-right").is_displayed()

    # ✗ wrong opens the model's labels, "code — name"; a label it has not got is refused
    # readably; a chosen one is stored.
    item = submit_and_wait(browser, GERMAN)
    second = item.get_attribute("data-tracking-id")
    assert not item.find_element(By.CSS_SELECTOR, ".fb-label").is_displayed()
    item.find_element(By.CSS_SELECTOR, ".fb-wrong").click()
    select = item.find_element(By.CSS_SELECTOR, ".fb-label")
    assert select.is_displayed()
    options = {o.get_attribute("value"): o.text for o in Select(select).options}
    assert options["nl"] == "nl — Dutch" and options["sv"] == "sv — Swedish"
    assert "de" not in options  # what it said is not offered as the correction
    browser.execute_script("arguments[0].add(new Option('xx', 'xx'))", select)
    Select(select).select_by_value("xx")
    item.find_element(By.CSS_SELECTOR, ".fb-send").click()
    problem = item.find_element(By.CSS_SELECTOR, ".fb-error")
    wait.until(lambda d: problem.is_displayed())
    assert "'xx' is not a label of model 'language'" in problem.text
    assert store.get_feedback(second) is None
    Select(select).select_by_value("nl")
    item.find_element(By.CSS_SELECTOR, ".fb-send").click()
    state = item.find_element(By.CSS_SELECTOR, ".fb-state")
    wait.until(lambda d: "recorded as nl" in state.text)
    assert not problem.is_displayed()
    stored = store.get_feedback(second)
    assert stored.label == "nl" and stored.predicted == "de" and not stored.correct
    assert live.client.get(f"/v1/predictions/{second}/feedback").get_json()["label"] == "nl"
    browser.save_screenshot(str(tmp_path / "feedback.png"))

    # The nav leads to the models, the list to the model's page.
    browser.find_element(By.LINK_TEXT, "Models").click()
    row = '#models tr[data-model="language"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    assert versions.serving in browser.find_element(By.CSS_SELECTOR, row).text
    browser.find_element(By.CSS_SELECTOR, f"{row} a").click()
    wait.until(lambda d: d.current_url.endswith("/models/language"))

    serving = f'#versions tr[data-version="{versions.serving}"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, serving))
    row = browser.find_element(By.CSS_SELECTOR, serving)
    assert row.get_attribute("data-role") == "serving"
    assert row.find_element(By.CSS_SELECTOR, ".feedback-count").text == "2"
    assert row.find_element(By.CSS_SELECTOR, ".acc").text == "50%"
    assert "%" in row.find_element(By.CSS_SELECTOR, ".ci").text
    assert "German → Dutch ×1" in row.text  # its confusion
    candidate = browser.find_element(By.CSS_SELECTOR,
                                     f'#versions tr[data-version="{versions.candidate}"]')
    assert candidate.get_attribute("data-role") == "not served yet"
    assert browser.find_element(By.ID, "stat-serving").text == versions.serving
    assert browser.find_element(By.ID, "stat-feedback").text == "2"
    assert browser.find_element(By.ID, "no-shadow").is_displayed()

    # The chart has drawn the serving version's accuracy and interval.
    wait.until(lambda d: d.find_element(By.ID, "chart").get_attribute("data-points") == "1")
    chart = browser.find_element(By.CSS_SELECTOR, "#chart canvas")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
    assert chart.size["width"] > 600 and chart.size["height"] >= 200
    png = chart.screenshot_as_png
    (tmp_path / "chart.png").write_bytes(png)
    pixels = decode_png(png)
    ink = (np.abs(pixels - 255).sum(axis=2) > 30).mean()
    assert ink > 0.01, f"only {ink:.1%} of the chart is drawn on"
    assert near(pixels, SERVING_RGB) > 60  # the dot and the caps of its interval
    browser.save_screenshot(str(tmp_path / "model.png"))


def test_the_model_page_compares_the_shadow_on_the_same_jobs(
        live_shadow, browser, versions):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    live = live_shadow
    ids = []
    for text in (SWEDISH, GERMAN):
        r = live.client.post("/v1/predictions",
                             json={"model": "language", "input": {"text": text}})
        assert r.status_code == 202
        ids.append(r.get_json()["tracking_id"])

    def compared() -> bool:
        detail = live.client.get("/v1/models/language").get_json()
        rows = detail["shadow_comparison"]
        done = all(live.client.get(f"/v1/predictions/{t}").get_json()["status"] == "done"
                   for t in ids)
        return done and rows and rows[0]["compared"] == 2

    wait_for(compared)
    for tracking_id, label in zip(ids, ("sv", "nl"), strict=True):
        r = live.client.post(f"/v1/predictions/{tracking_id}/feedback", json={"label": label})
        assert r.status_code == 200, r.get_json()

    browser.get(f"{live.url}/models/language")
    wait = WebDriverWait(browser, 15, poll_frequency=0.1)
    row = f'#shadow tr[data-version="{versions.candidate}"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"{row} td:nth-child(4)").text == "2")
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, f"{row} td")]
    assert "in shadow" in cells[0]
    assert cells[1:4] == ["2", "100%", "2"]  # same answers: a recalibration
    assert cells[4].startswith("50%") and cells[5].startswith("50%")
    assert cells[6] == "no difference on 2 jobs"
    assert browser.find_element(By.ID, "stat-shadow").text == versions.candidate
    shadow_version = browser.find_element(
        By.CSS_SELECTOR, f'#versions tr[data-version="{versions.candidate}"]')
    assert shadow_version.get_attribute("data-role") == "shadow"
    history = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert [h.get_attribute("data-action") for h in history] == ["shadow"]
    assert versions.candidate in history[0].text and "ui test" in history[0].text


def test_an_unknown_model_page_is_a_404_in_the_envelope(client):
    r = client.get("/models/no-such-model")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "unknown_model"
    assert client.get("/models/language").status_code == 200
    assert 'data-model="language"' in client.get("/models/language").get_data(as_text=True)
    assert 'href="/models"' in client.get("/").get_data(as_text=True)
