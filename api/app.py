"""The Flask app factory: a fresh app (and its own store and publisher) per call."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import ui
from api import (
    auth,
    errors,
    lifecycle,
    monitor,
    openapi,
    ops,
    pages,
    predictions,
    ratelimit,
    security,
    sensors,
    waiting,
)
from predictq.services import Services
from predictq.settings import Settings

UI_DIR = Path(ui.__file__).parent


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or (services.settings if services else Settings.from_env())
    app = Flask(
        __name__,
        template_folder=str(UI_DIR / "templates"),
        static_folder=str(UI_DIR / "static"),
        static_url_path="/static",
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.extensions["predictq"] = services or Services.build(settings)
    errors.register(app)
    security.register(app)
    # In this order: the key is read, the request counted, then refused or let through.
    auth.register_identify(app, app.extensions["predictq"])
    ratelimit.register(app, settings)
    auth.register_authorize(app, app.extensions["predictq"])
    app.register_blueprint(predictions.bp)
    app.register_blueprint(waiting.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(sensors.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(monitor.bp)
    openapi.install(app, settings)  # last: it documents the routes registered above
    return app
