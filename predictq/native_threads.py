"""Per-OS-thread state that stays per thread under gevent.

The API's default gunicorn worker class is gevent, which monkey-patches `threading`:
a `threading.local` then belongs to each greenlet, i.e. to each request. The SQLite
store keeps one connection per thread in one; per request, every submission opened
and prepared a connection of its own (half the intake), and 2,000 waiting requests
held 2,000 of them. A connection shared by the greenlets of one thread is safe here:
greenlets switch only where they wait on I/O, and no store call waits on gevent I/O
between its statements.
"""

from __future__ import annotations

import sys
import threading


def thread_local() -> threading.local:
    """A `threading.local` of the OS thread, whether or not gevent has patched
    `threading`."""
    if "gevent.monkey" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("threading"):
            return monkey.get_original("threading", "local")()
    return threading.local()
