"""Gunicorn settings: `gunicorn -c python:quiz.gunicorn_conf wsgi:app` (make run uses them).

One worker process per core, each with eight threads. A request here is mostly Python on the
CPU (SQLite answers in microseconds), so processes beyond the cores only take turns on them:
at 64 connections on 2 cores, 2 workers served as much as 5, with a p99 lower by a fifth to
two thirds in every comparison (bench/results-load.md). The threads cover the waits:
PostgreSQL round trips and slow phones. Never fewer than two workers, so that one killed or
recycled leaves the other serving. Every request is logged on one line with its X-Request-ID.
"""
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_WORKERS", str(max(2, len(os.sched_getaffinity(0))))))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread"
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
