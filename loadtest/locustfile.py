"""Load test of the whole path: submit over HTTP, poll until the result is written.

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8000 --headless \
        -u 20 -r 10 -t 60s --csv loadtest/results/run --html loadtest/results/run.html

Besides locust's per-request rows, every prediction reports a `submit→done` row: the
time from sending the POST to seeing `done` (or `failed`), which is what a client
experiences. Text users learn it in one of the three ways a client can (README,
"Getting results"): `Submitter` polls, `WaitingSubmitter` sends one `GET ?wait=` that
the API answers when the job is final (row `submit→done (wait)`). Sensor events (windows
from the repository's ACSF1 and KDD-TSAD data; see `sensor_events`) report
`submit→done appliance` and `submit→done anomaly`.

Thresholds set the exit code (see `_check_thresholds`): `--max-fail-ratio` (default
0.01, all requests) and `--max-p95-ms` (default 1000) for the text row, the interactive
path; a sensor window, an anomaly one above all, is far more compute by design. Name
user classes after the options to run only some of them (e.g. `... Submitter
BatchSubmitter` for text only). Works against `predictq up` and a compose deployment
alike (`--host`). Where the API asks for keys (PREDICTQ_API_KEYS=on, as in compose),
set PREDICTQ_API_KEY to a key with the submit and read scopes: every request sends it.
"""

from __future__ import annotations

import functools
import math
import os
import random
import time
from typing import Any

from locust import HttpUser, between, events, task

TEXTS = [
    "Jag tycker om att läsa böcker på kvällarna när det regnar ute.",
    "Ich lese abends gern Bücher, wenn es draußen regnet.",
    "Me gusta leer libros por la noche cuando llueve.",
    "J'aime lire des livres le soir quand il pleut dehors.",
    "Я люблю читать книги по вечерам, когда идёт дождь.",
    "夜は静かな部屋で本を読むのが好きです。",
    "أحب قراءة الكتب في المساء عندما يكون الجو هادئا.",
    "Lubię czytać książki wieczorami, kiedy pada deszcz.",
]
POLL_TIMEOUT_S = 30.0


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--max-fail-ratio", type=float, default=0.01,
                        help="exit 1 if more requests than this fraction fail")
    parser.add_argument("--max-p95-ms", type=float, default=1000.0,
                        help="exit 1 if the p95 of submit→done exceeds this")


@events.quitting.add_listener
def _check_thresholds(environment, **_kwargs) -> None:
    stats = environment.stats
    opts = environment.parsed_options
    done = stats.get("submit→done", "PREDICTION")
    problems = []
    if stats.total.fail_ratio > opts.max_fail_ratio:
        problems.append(f"fail ratio {stats.total.fail_ratio:.3f} > {opts.max_fail_ratio}")
    if done.num_requests and done.get_response_time_percentile(0.95) > opts.max_p95_ms:
        problems.append(f"submit→done p95 {done.get_response_time_percentile(0.95):.0f} ms "
                        f"> {opts.max_p95_ms:.0f} ms")
    if problems:
        print("thresholds failed: " + "; ".join(problems))
        environment.process_exit_code = 1
    else:
        # Locust alone exits 1 on any failed request; the thresholds decide here.
        environment.process_exit_code = 0


@functools.cache
def sensor_events() -> dict[str, list[dict[str, Any]]]:
    """Windows per sensor model: real ones from the repository's data when this runs in
    a checkout (ACSF1 test series, power every 10 s; 1,024-reading windows of KDD-TSAD
    series 135's test part), else synthetic ones of the same shape: the compose
    deployment's locust image has only this folder and no numpy."""

    def event(readings, period_ms: float) -> dict[str, Any]:
        return {"sensor_id": "locust", "timestamp": time.time(),
                "sampling_period_ms": period_ms, "readings": [float(v) for v in readings]}

    try:
        from models.anomaly import data as anomaly_data
        from models.appliance import data as appliance_data
    except ImportError:
        rng = random.Random(0)
        wave = [[math.sin(i / (5 + k)) + rng.gauss(0, 0.1) for i in range(1460)]
                for k in range(20)]
        return {"appliance": [event(w, 10_000) for w in wave],
                "anomaly": [event(w[:1024], 4) for w in wave]}
    kdd = anomaly_data.load()[0]
    starts = range(kdd.train_length, len(kdd.values) - 1024 + 1, 512)  # the test part
    return {
        "appliance": [event(row, 10_000) for row in appliance_data.load()[1].X[:20]],
        "anomaly": [event(kdd.values[i:i + 1024], 4) for i in starts],
    }


def _send_key(user: HttpUser) -> None:
    """Every request of this user carries PREDICTQ_API_KEY, when it is set."""
    key = os.environ.get("PREDICTQ_API_KEY", "").strip()
    if key:
        user.client.headers["Authorization"] = f"Bearer {key}"


class _Predicting(HttpUser):
    abstract = True

    def on_start(self) -> None:
        _send_key(self)

    def submit_and_poll(self, model: str, input: dict[str, Any], row: str) -> None:
        self.submit_and_follow(model, input, row, self._poll)

    def submit_and_follow(self, model: str, input: dict[str, Any], row: str,
                          follow: Any) -> None:
        """POST one input, then `follow(tracking_id, started, row)` until it is final."""
        started = time.perf_counter()
        with self.client.post("/v1/predictions", name="POST /v1/predictions",
                              json={"model": model, "input": input},
                              catch_response=True) as r:
            if r.status_code != 202:
                r.failure(f"expected 202, got {r.status_code}: {r.error or r.text[:200]}")
                return
            tracking_id = r.json()["tracking_id"]
        follow(tracking_id, started, row)

    def _poll(self, tracking_id: str, started: float, row: str) -> None:
        delay = 0.01
        while time.perf_counter() - started < POLL_TIMEOUT_S:
            r = self.client.get(f"/v1/predictions/{tracking_id}",
                                name="GET /v1/predictions/<id>")
            status = r.json().get("status") if r.status_code == 200 else None
            if status in ("done", "failed"):
                error = None if status == "done" else r.json().get("error")
                self._report(started, error, row)
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        self._report(started, f"not final after {POLL_TIMEOUT_S:.0f} s", row)

    @staticmethod
    def _report(started: float, error: str | None, row: str) -> None:
        events.request.fire(
            request_type="PREDICTION", name=row,
            response_time=(time.perf_counter() - started) * 1000, response_length=0,
            exception=RuntimeError(error) if error else None, context={},
        )


class Submitter(_Predicting):
    """Submits one text and polls it to completion, like the browser form does."""

    wait_time = between(0.1, 0.5)
    weight = 4

    @task
    def predict(self) -> None:
        self.submit_and_poll("language", {"text": random.choice(TEXTS)}, "submit→done")


class WaitingSubmitter(_Predicting):
    """Submits one text and waits for it with one `GET ?wait=`: no polling."""

    wait_time = between(0.1, 0.5)
    weight = 2

    @task
    def predict(self) -> None:
        self.submit_and_follow("language", {"text": random.choice(TEXTS)},
                               "submit→done (wait)", self._wait)

    def _wait(self, tracking_id: str, started: float, row: str) -> None:
        while time.perf_counter() - started < POLL_TIMEOUT_S:
            r = self.client.get(f"/v1/predictions/{tracking_id}?wait={POLL_TIMEOUT_S:.0f}",
                                name="GET /v1/predictions/<id>?wait=")
            status = r.json().get("status") if r.status_code == 200 else None
            if status in ("done", "failed"):
                self._report(started, None if status == "done" else r.json().get("error"),
                             row)
                return
        self._report(started, f"not final after {POLL_TIMEOUT_S:.0f} s", row)


class SensorSubmitter(_Predicting):
    """Submits one sensor window, appliance or anomaly, and polls it to completion."""

    wait_time = between(1.0, 3.0)
    weight = 1

    @task
    def predict(self) -> None:
        model = random.choice(("appliance", "anomaly"))
        self.submit_and_poll(model, random.choice(sensor_events()[model]),
                             f"submit→done {model}")


class BatchSubmitter(HttpUser):
    """Submits batches of 100 and does not wait: the bulk intake path."""

    wait_time = between(0.5, 1.5)
    weight = 1

    def on_start(self) -> None:
        _send_key(self)

    @task
    def batch(self) -> None:
        inputs = [{"text": random.choice(TEXTS)} for _ in range(100)]
        with self.client.post("/v1/predictions/batch", name="POST /v1/predictions/batch",
                              json={"model": "language", "inputs": inputs},
                              catch_response=True) as r:
            if r.status_code != 202 or len(r.json().get("tracking_ids", [])) != 100:
                r.failure(f"expected 202 with 100 ids, got {r.status_code}")
