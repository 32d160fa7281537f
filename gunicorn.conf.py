"""Gunicorn settings for the ShopSmart sync server in production.

    gunicorn -c gunicorn.conf.py

Run ``shopsmart-server db upgrade`` first; the app never migrates by itself. Environment:
SHOPSMART_BIND (default 127.0.0.1:8765 — put a TLS-terminating proxy in front),
SHOPSMART_WORKERS (default 2 × CPU + 1), plus the app's own variables (docs/server.md).
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from server.request_log import redact_path

wsgi_app = "server.app:create_app()"
bind = os.environ.get("SHOPSMART_BIND", "127.0.0.1:8765")
workers = int(os.environ.get("SHOPSMART_WORKERS", "0")) or multiprocessing.cpu_count() * 2 + 1
worker_class = "sync"
preload_app = False  # each worker builds its own engine and pool after the fork
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 20_000
max_requests_jitter = 2_000
limit_request_line = 8190
limit_request_fields = 100
accesslog = None  # the app writes one structured JSON line per request instead
# If an operator turns the access log on (--access-logfile -), pay page tokens stay out of it:
# every field of a line (request line, path, query, referer, headers) goes through the app's
# own redaction (server/request_log.py), and the format has no raw header or environ field.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'


class RedactingLogger(Logger):
    """gunicorn's logger, with pay page tokens cut out of every access-log field."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        found = super().atoms(resp, req, environ, request_time)
        return {k: redact_path(v) if isinstance(v, str) else v for k, v in found.items()}


logger_class = RedactingLogger
errorlog = "-"
loglevel = os.environ.get("SHOPSMART_LOG_LEVEL", "info").lower()
proc_name = "shopsmart-server"


def post_worker_init(worker: object) -> None:
    """The app is loaded: move everything alive now (modules, the app, its engine) out of
    the collector's reach, so the full collections a push's many short-lived objects trigger
    do not walk them each time (those walks were the 50-100 ms tail of a push)."""
    import gc

    gc.collect()
    gc.freeze()
