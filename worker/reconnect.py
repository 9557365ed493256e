"""The consumers' outer loop: connect, consume, and after an outage connect again."""

from __future__ import annotations

import contextlib
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
        clean = False
        try:
            consume(connection)
            clean = True
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
            _close(connection, clean)
            after_each()


def _close(connection: Connection, clean: bool) -> None:
    """Close politely after a clean stop; otherwise drop the socket without AMQP's close
    handshake, which a paused or cut-off node never answers (the consumer would wait
    for it as long as the node stays away). Unacked deliveries go back either way."""
    with contextlib.suppress(Exception):
        if clean:
            connection.release()
        else:
            connection.collect()
