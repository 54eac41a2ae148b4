"""Gunicorn settings: `gunicorn -c python:quiz.gunicorn_conf wsgi:app` (make run uses them).

One worker process per core, at least two, so that one killed or recycled leaves the other
serving. A request here is mostly Python on the CPU (SQLite answers in microseconds), so
processes beyond the cores only take turns on them, and threads inside a worker only take
turns on its interpreter: by default each worker serves one request at a time (gunicorn's
sync worker). At 64 connections on 2 cores, side by side with 8 threads per worker, the
submission went through 1.3-1.8 times as fast on SQLite, and the paper page's p99 was lower
in every such comparison, on SQLite and PostgreSQL (bench/results-load.md, "Night of
2026-12-03"). The sync worker wants a buffering proxy in front, so that a slow phone's
upload or download does not hold a worker: nginx, as the README sets it up. `WEB_THREADS`
above 1 switches to threaded workers, for a database far enough away that its round trips
leave the CPU idle. Every request is logged on one line with its X-Request-ID.
"""
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_WORKERS", str(max(2, len(os.sched_getaffinity(0))))))
threads = int(os.environ.get("WEB_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never reaches the consultation day, but rarely:
# a new worker costs about a second of CPU to import the app and then warms its caches, and at
# 20,000 requests two busy workers restarted every minute or so. A worker's memory levelled off
# near 100 MB within 25,000 requests (bench/results-load.md).
max_requests = 250000
max_requests_jitter = 25000
accesslog = os.environ.get("ACCESS_LOG", "-")
access_log_format = '%(h)s %({x-request-id}o)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# nginx in front on the same host; with PROXY_HOPS the app itself trusts X-Forwarded-For.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
