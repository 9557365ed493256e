"""The consumers' outer loop: connect, consume, and after an outage connect again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kombu import Connection
from kombu.exceptions import OperationalError

from predictq.errors import StoreUnavailable
from predictq.messaging import connect
from predictq.settings import Settings

log = logging.getLogger(__name__)

RETRY_S = 1.0


def consume_until_stopped(settings: Settings, stop_event: threading.Event,
                          consume: Callable[[Connection], None], name: str,
                          after_each: Callable[[], None] = lambda: None) -> None:
    """Run `consume` on a fresh connection until `stop_event` is set, waiting RETRY_S
    after a store or broker outage, or after a bug (logged with its traceback: what the
    consumer held unacked is delivered again). `after_each` runs after every attempt."""
    while not stop_event.is_set():
        connection = connect(settings)
        recoverable = (OSError, OperationalError, *connection.connection_errors,
                       *connection.channel_errors)
        try:
            with connection:
                consume(connection)
        except StoreUnavailable as exc:
            log.warning("store unavailable, retrying in 1 s: %s", exc)
            stop_event.wait(RETRY_S)
        except recoverable as exc:
            log.warning("broker connection lost, reconnecting in 1 s: %s", exc)
            stop_event.wait(RETRY_S)
        except Exception:
            log.error("%s failed; restarting its consumer", name, exc_info=True)
            stop_event.wait(RETRY_S)
        finally:
            after_each()
