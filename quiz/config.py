"""Configuration: defaults here, deployments differ by environment variables."""
import os
from pathlib import Path

from quiz import gunicorn_conf

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "sqlite:///safetymonth.sqlite3")
    # Heroku-style URLs name the old dialect; SQLAlchemy 2 wants the driver spelled out.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # the pool's options are decided in register_extensions()
    # A pooled connection for every gunicorn thread: beyond the pool, SQLAlchemy opens a
    # connection for a request and closes it afterwards.
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", gunicorn_conf.threads))
    # The address printed on posters, e.g. https://aq.example.gov.cn (default: the request's).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    EXPORT_FOLDER = os.environ.get("EXPORT_FOLDER", "")  # default: instance/exports
    QUESTION_BANK_DIR = str(PROJECT_ROOT / "questions")
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    # Seconds after the time limit in which a submission still counts (slow networks).
    SUBMIT_GRACE_SECONDS = 15
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024  # a report form without JavaScript carries 3 photos
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", "")  # default: instance/uploads
    # Hazard reports: handling limit, one extension, the reporter's window to dispute a closure.
    REPORT_HANDLING_DAYS = 60
    REPORT_MAX_EXTENSION_DAYS = 30
    REPORT_DISPUTE_DAYS = 15
    # Rewards: 安全生产领域举报奖励办法 (15% of the fine, 3,000 to 300,000 yuan) for major
    # hazards; a flat local amount for ordinary ones; unclaimed rewards expire.
    REWARD_MAJOR_RATE = 0.15
    REWARD_MAJOR_MIN_YUAN = 3000
    REWARD_MAJOR_MAX_YUAN = 300000
    REWARD_GENERAL_YUAN = int(os.environ.get("REWARD_GENERAL_YUAN", "200"))
    REWARD_CLAIM_DAYS = 90
    # Open311 clients that may submit reports: comma-separated keys.
    OPEN311_API_KEYS = [key for key in os.environ.get("OPEN311_API_KEYS", "").split(",") if key]
    WTF_I18N_ENABLED = False
    WTF_CSRF_TIME_LIMIT = None  # a quiz page may stay open for a long time
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") == "1"
    PERMANENT_SESSION_LIFETIME = 400 * 24 * 3600  # remember the resident across the month and next year
    # The cookie is sent again only when the session changes: 400 days from the first visit
    # outlast the campaign, and re-signing it on every page cost a fifth of a light request.
    SESSION_REFRESH_EACH_REQUEST = False
    # Several application servers share their rate-limit counters in Redis; without REDIS_URL
    # the workers of one machine share a file in the instance folder (quiz/rate_limit_storage.py).
    RATELIMIT_STORAGE_URI = (os.environ.get("REDIS_URL")
                             or os.environ.get("RATELIMIT_STORAGE_URI", ""))
    # If that storage fails (Redis restarting, a full disk), each worker counts in its own
    # memory until it answers again, rather than every limited page failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # No X-RateLimit-* headers on each limited response: no page or phone reads them, working
    # them out cost a submission about 0.2 ms in process, and with Redis they take more round
    # trips. A refusal still says when to come back (Retry-After, quiz.errors).
    RATELIMIT_HEADERS_ENABLED = False
    # Static URLs carry a content hash (templating.asset), so a year of caching is safe.
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))
    # Leaderboard figures are shared by every visitor: each worker recomputes them at most
    # this often (quiz/shortcache.py); 0 recomputes on every request.
    LEADERBOARD_CACHE_SECONDS = float(os.environ.get("LEADERBOARD_CACHE_SECONDS", "5"))
