"""gunicorn settings for the portal (read from the working directory by
`gunicorn portal.wsgi`; `make bench` uses the same file). Why these values:
README, "Workers and pool"."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, gunicorn's rule of thumb of two per core plus one (5 on the
# 2-core machines we measure on): a sync worker waits idle while PostgreSQL
# commits a submission or Redis answers, and the others use that time. Four
# left about 15 % of the cores idle under a burst of submissions (per-process
# CPU under wrk); five served submissions about 9 % faster and the one-INSERT
# ceiling about 2 % faster (README, "Workers and pool"). One request per
# process keeps each database pool small.
workers = int(os.environ.get("GUNICORN_WORKERS", "5"))
worker_class = "sync"
# A sync worker that runs one request longer than this is killed. The
# longest requests are officials' exports and results at a million
# responses (over a minute and 10–14 s, measured by `make bench`).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "300"))
graceful_timeout = 30
# Room for the burst when invitation letters land: the kernel queues
# connections while every worker is busy instead of refusing them.
backlog = 2048
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")


def post_worker_init(worker):
    """Once the application is loaded: its modules, classes and settings
    live as long as the worker, so the garbage collector stops walking them
    (gc.freeze). Full collections then look only at what requests left
    behind: in-process, a survey submission spent about a third less time
    in the collector (37 → 26 µs) and no request waits for a walk over the
    whole application."""
    import gc

    gc.freeze()
