"""Access to the current app's services from a view."""

from __future__ import annotations

from flask import current_app

from predictq.services import Services


def services() -> Services:
    return current_app.extensions["predictq"]
