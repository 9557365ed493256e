"""`predictq api`: the app under gunicorn, configured from settings.

The worker class is `gevent` by default: a request waiting for a result (`?wait=`, the
event stream) is a greenlet, not one of a few threads, so thousands can wait while
submissions keep flowing (docs/BENCHMARKS.md measures both classes). gunicorn
monkey-patches the worker process before it loads the app, so the store, the
publisher and the completions feed cooperate with it unchanged."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker

from predictq.settings import Settings

WORKER_CLASSES = ("gevent", "gthread")


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        if s.api_worker_class not in WORKER_CLASSES:
            raise ValueError(f"PREDICTQ_API_WORKER_CLASS={s.api_worker_class!r}: expected "
                             f"one of {', '.join(WORKER_CLASSES)}")
        for key, value in {
            "bind": f"{s.host}:{s.port}",
            "workers": s.api_workers,
            "threads": s.api_threads,
            "worker_class": s.api_worker_class,
            "worker_connections": s.api_worker_connections,
            "accesslog": None,
            "graceful_timeout": 10,
            # gunicorn closes an idle keep-alive connection after 2 s by default. A client
            # that waits about that long between requests (locust's sensor users wait
            # 1-3 s) races the close, and a POST sent as it happens fails: requests does
            # not retry a POST. Clients that idle longer than this see the close first.
            "keepalive": 30,
            "timeout": 60,
            # gunicorn's control socket lives at one path per user: two servers on one
            # machine (tests, several deployments) would fight over it.
            "control_socket_disable": True,
            "post_worker_init": _log_ready,
            "worker_exit": _close_services,
        }.items():
            self.cfg.set(key, value)

    def load(self):
        from api.app import create_app

        return create_app(self.settings)


def _log_ready(worker: Worker) -> None:
    # gunicorn logs "Booting worker" before a process loads the app; this is the moment
    # it starts accepting. Benchmarks wait for every process to say it, as one still
    # booting leaves all early connections to the others.
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def _close_services(server: object, worker: object) -> None:
    # Writes what a worker still holds (published marks) before its process ends.
    app = getattr(worker, "wsgi", None)
    if app is not None:
        app.extensions["predictq"].close()


def serve(settings: Settings) -> None:
    _Gunicorn(settings).run()
