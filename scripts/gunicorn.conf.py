"""Gunicorn settings for the portal (``scripts/run.sh``) and the page benchmark (``bench.pages``).

Every setting can be overridden by the environment (``GUNICORN_WORKERS``, ``GUNICORN_THREADS``,
``GUNICORN_WORKER_CLASS``) or by gunicorn's own command-line flags, which take precedence over this
file. Why these defaults: docs/performance.md, "Worker model".
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:" + os.environ.get("PORT", "8000"))
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
