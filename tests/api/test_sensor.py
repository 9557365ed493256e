"""Sensor events through the REST API and a worker, on the in-memory broker."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.anomaly import data as anomaly_data
from models.appliance import data as appliance_data
from models.appliance.classes import CODES
from models.loading import LoadedModel
from tests.conftest import drain
from tests.models.conftest import trained_sensor  # noqa: F401  (a session fixture)

pytestmark = pytest.mark.usefixtures("trained_sensor")


def event(readings, **overrides) -> dict:
    base = {"sensor_id": "kitchen-plug-3", "timestamp": "2024-05-01T12:00:00Z",
            "sampling_period_ms": 10_000, "readings": [float(v) for v in readings]}
    base.update(overrides)
    return base


def post(client, body, path="/v1/predictions"):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def stored_count(services) -> int:
    return sum(services.store.count_by_status().values())


@pytest.fixture(scope="module")
def acsf1_test() -> appliance_data.Split:
    return appliance_data.load()[1]


@pytest.fixture(scope="module")
def kdd() -> anomaly_data.Series:
    return anomaly_data.load()[0]


def test_appliance_window_round_trips_to_done(client, settings, acsf1_test):
    r = post(client, {"model": "appliance", "input": event(acsf1_test.X[12])})
    assert r.status_code == 202
    tid = r.get_json()["tracking_id"]

    assert drain(settings, 1) == 1
    job = client.get(f"/v1/predictions/{tid}").get_json()
    assert job["status"] == "done", job
    assert job["model"] == "appliance" and job["model_version"]
    assert job["result"]["label"] in CODES
    assert job["result"]["label"] == acsf1_test.y[12]
    assert 0.0 <= job["result"]["confidence"] <= 1.0


def test_anomaly_window_round_trips_to_done(client, settings, kdd):
    window = kdd.values[3687:4711]  # holds the labelled anomaly at 4187-4198
    r = post(client, {"model": "anomaly", "input": event(window, sampling_period_ms=4)})
    assert r.status_code == 202
    tid = r.get_json()["tracking_id"]

    assert drain(settings, 1) == 1
    job = client.get(f"/v1/predictions/{tid}").get_json()
    assert job["status"] == "done", job
    result = job["result"]
    assert set(result) == {"score", "anomalous", "anomalous_points"}
    assert result["anomalous"] is True and result["score"] > 1.0
    assert all(0 <= i < len(window) for i in result["anomalous_points"])
    assert set(result["anomalous_points"]) & set(range(500, 512))


@pytest.mark.parametrize("model", ["appliance", "anomaly"])
def test_batch_results_equal_single_results(client, services, settings, acsf1_test, kdd,
                                            model, trained_language):
    if model == "appliance":
        windows = [acsf1_test.X[i] for i in (3, 44, 97)] + [acsf1_test.X[60][:1000]]
    else:
        windows = [kdd.values[a:a + 1024] for a in (1200, 3687, 6000)] + [kdd.values[2000:2300]]
    inputs = [event(w) for w in windows]
    r = post(client, {"model": model, "inputs": inputs}, path="/v1/predictions/batch")
    assert r.status_code == 202
    ids = r.get_json()["tracking_ids"]

    assert drain(settings, len(ids), batch_size=16) == len(ids)
    via_api = [services.store.get(i).result for i in ids]
    loaded = LoadedModel.load(trained_language.model_dir, model)
    one_by_one = [loaded.predict([loaded.spec.validate(item)])[0] for item in inputs]
    assert via_api == one_by_one


def _nan_body() -> str:
    readings = ", ".join(["NaN"] + ["1.0"] * 299)
    return ('{"model": "anomaly", "input": {"sensor_id": "s", "timestamp": 0, '
            f'"sampling_period_ms": 1, "readings": [{readings}]}}}}')


BAD = [
    ("missing sensor_id", "anomaly",
     {k: v for k, v in event(range(300)).items() if k != "sensor_id"}, "sensor_id"),
    ("string reading", "anomaly", event(range(300)) | {"readings": ["1"] * 300}, "readings[0]"),
    ("bool reading", "appliance", event(range(1460)) | {"readings": [True] * 1460},
     "readings[0]"),
    ("Infinity reading", "anomaly", event([1e400] + [1.0] * 299), "readings[0]"),
    ("too short", "anomaly", event(range(255)), "255 readings"),
    ("too long", "anomaly", event(range(8193)), "8193 readings"),
    ("too short for appliance", "appliance", event(range(400)), "400 readings"),
    ("partial frame", "appliance", event(range(1462)), "multiple of 4"),
    ("unknown field", "appliance", event(range(1460), watts=True), "watts"),
    ("bad period", "anomaly", event(range(300), sampling_period_ms=0), "sampling_period_ms"),
]


@pytest.mark.parametrize(("case", "model", "body", "words"), BAD, ids=[b[0] for b in BAD])
def test_invalid_events_are_422_and_store_nothing(client, services, case, model, body, words):
    r = post(client, {"model": model, "input": body})

    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "invalid_input" and words in error["message"]
    assert stored_count(services) == 0


def test_nan_in_the_json_text_is_422(client, services):
    r = client.post("/v1/predictions", data=_nan_body(), content_type="application/json")
    # Python's json (Flask's parser) accepts the NaN literal; validation must catch it.
    assert r.status_code == 422
    assert "readings[0]" in r.get_json()["error"]["message"]
    assert stored_count(services) == 0


def test_windows_of_huge_readings_get_finite_json_results(client, settings):
    # All 1e308 once scored NaN: the result was not JSON (issue 13).
    sign = np.where(np.arange(1460) % 3, 1.0, -1.0)
    windows = [("anomaly", np.full(1024, 1e308)), ("anomaly", sign[:1024] * 1e308),
               ("appliance", np.full(1460, 1e308)), ("appliance", sign * 1e308),
               ("anomaly", np.sin(np.arange(1024) / 5) * 1e-310)]
    ids = [post(client, {"model": model, "input": event(readings)}).get_json()["tracking_id"]
           for model, readings in windows]
    assert drain(settings, len(ids)) == len(ids)
    for tid in ids:
        r = client.get(f"/v1/predictions/{tid}")
        job = json.loads(r.get_data(as_text=True), parse_constant=_refuse)  # strict JSON
        assert job["status"] == "done", job


def _refuse(constant: str):
    raise ValueError(f"{constant} is not JSON")


def test_one_bad_window_rejects_the_whole_batch(client, services, acsf1_test):
    good = event(acsf1_test.X[0])
    r = post(client, {"model": "appliance", "inputs": [good, event(range(1461))]},
             path="/v1/predictions/batch")
    assert r.status_code == 422
    assert "inputs[1]" in r.get_json()["error"]["message"]
    assert stored_count(services) == 0


def test_body_over_the_limit_is_413(client, services, settings):
    readings = np.full(settings.max_body_bytes // 8, 123.456).tolist()
    r = post(client, {"model": "anomaly", "input": event(readings)})
    assert r.status_code == 413
    assert stored_count(services) == 0


def test_models_endpoint_shows_sensor_metrics(client):
    models = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}

    appliance, anomaly = models["appliance"], models["anomaly"]
    assert appliance["family"] == anomaly["family"] == "sensor"
    assert appliance["trained"] and anomaly["trained"]
    assert appliance["metrics"]["test_accuracy"] >= 0.9
    assert anomaly["metrics"]["pooled_model"]["f1"] > anomaly["metrics"]["pooled_baseline"]["f1"]
    assert appliance["data"]["file_sha256"] and anomaly["data"]["file_sha256"]
