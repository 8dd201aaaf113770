"""Settings shared by every environment, read from the environment.

Defaults point at the services that `scripts/services.sh` starts under `.run/`, so that
`.venv/bin/python manage.py <cmd>` works after `make services` with nothing else exported.
Bad values fail loudly at start-up rather than half-working later.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from .env import (
    BASE_DIR,
    RUN_DIR,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    generated_secret_key,
    read_run_file,
)

# Off unless asked for: `make run` serves with DEBUG off; `DEV_SERVER=1 make run` turns it on.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or generated_secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # pgvector's HnswIndex needs it on Django 6 (system check postgres.E005).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",  # kept for its migrations; API tokens are knox's (gallery/tokens.py)
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: no CDN at run time
    "csp",
    "axes",
    "gallery",
    "recommender",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "artsite.urls"
WSGI_APPLICATION = "artsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- PostgreSQL + pgvector -------------------------------------------------------------------
# DATABASE_URL wins; otherwise the embedded server that scripts/services.sh started (its URI is
# written to .run/postgres.url because the socket directory depends on where the checkout lives).
_db_url = os.environ.get("DATABASE_URL") or read_run_file("postgres.url")
if _db_url:
    DATABASES = {"default": database_from_url(_db_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("ARTSITE_DB_NAME", "artsite"),
            "USER": "postgres",
            "HOST": str(RUN_DIR / "pgdata"),
            "PORT": "",
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Neo4j (influence graph) ------------------------------------------------------------------
NEO4J_URI = os.environ.get("NEO4J_URI", f"bolt://127.0.0.1:{env_int('NEO4J_BOLT_PORT', 7687)}")
NEO4J_USER = os.environ.get("NEO4J_USER", "neo4j")
NEO4J_PASSWORD = os.environ.get("NEO4J_PASSWORD") or read_run_file("neo4j/password") or ""
NEO4J_DATABASE = os.environ.get("NEO4J_DATABASE", "neo4j")
# Label of artist nodes. Tests use another label so they never touch the demo graph
# (Community edition has a single database).
NEO4J_ARTIST_LABEL = os.environ.get("NEO4J_ARTIST_LABEL", "Artist")
NEO4J_TIMEOUT_S = env_int("NEO4J_TIMEOUT_S", 5)

# --- Celery (Redis broker) --------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", f"redis://127.0.0.1:{env_int('REDIS_PORT', 6390)}/0")
CELERY_RESULT_BACKEND = None  # results live in the database (Upload rows), not in Celery
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
# Redis redelivers an unacknowledged message after the visibility timeout (default: one hour). It
# must exceed the hard time limit, or a message would be handed to a second worker while its task
# may still legally run; a minute above it brings a message lost with its whole worker back within
# minutes instead of an hour. (Retry countdowns, at most 60 s, stay below it too.)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
# A pipeline step's lease on its upload row (recommender.pipeline) outlives the hard time limit, so
# it never expires under a task that is still running.
UPLOAD_LEASE_S = CELERY_TASK_TIME_LIMIT + 30
# The sweep re-queues unfinished uploads with no live lease that have not moved for this long.
UPLOAD_REQUEUE_AFTER_S = env_int("ARTSITE_UPLOAD_REQUEUE_AFTER_S", 60)
# A status request may wait for the upload to change (`?wait=`, gallery.upload_events), holding one
# web thread and its database connection while it waits; at most this many per web process, so the
# other threads stay free for everything else (a request beyond it answers at once, as a plain poll).
UPLOAD_WAIT_MAX_PER_PROCESS = env_int("ARTSITE_UPLOAD_WAIT_MAX_PER_PROCESS", 12)
# The analyse step classifies the uploads that wait together (recommender.pipeline.upload_analyse_waiting):
# up to this many images in one forward pass, which costs far less per image than one pass each...
ANALYSE_BATCH_MAX = env_int("ARTSITE_ANALYSE_BATCH_MAX", 16)
# ...and, when others wait (a busy worker), up to this long for more to arrive. A lone upload on an
# idle worker never waits.
ANALYSE_BATCH_WAIT_MS = env_int("ARTSITE_ANALYSE_BATCH_WAIT_MS", 30)
if ANALYSE_BATCH_MAX < 1 or ANALYSE_BATCH_WAIT_MS < 0:
    raise ImproperlyConfigured(
        "ARTSITE_ANALYSE_BATCH_MAX must be at least 1 and ARTSITE_ANALYSE_BATCH_WAIT_MS not negative"
    )
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-uploads": {
        "task": "recommender.tasks.requeue_stale_uploads",
        "schedule": float(env_int("ARTSITE_UPLOAD_SWEEP_S", 30)),
    }
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task modules not named tasks.py (autodiscovery finds only those): the living-catalogue jobs.
CELERY_IMPORTS = ["recommender.jobs"]
# A request must not hang when Redis is down: give up publishing quickly (the upload stays queued
# and is re-queued when a worker starts).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

# --- Cache (Redis): rendered results of finished uploads, throttle counters ----------------------
# It fails open (artsite/cache.py): with Redis down, reads miss and writes are dropped, and short
# socket timeouts keep a hung Redis from holding requests.
CACHES = {
    "default": {
        "BACKEND": "artsite.cache.FailOpenRedisCache",
        "LOCATION": os.environ.get("CACHE_URL", f"redis://127.0.0.1:{env_int('REDIS_PORT', 6390)}/2"),
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "artsite"),
        "TIMEOUT": 24 * 3600,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
# Sessions live in PostgreSQL only: signing in and staying signed in never depend on Redis.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Media and static files (django-storages) -------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("ARTSITE_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # S3-compatible storage when configured; django-storages reads AWS_* settings itself.
    AWS_STORAGE_BUCKET_NAME = os.environ["AWS_STORAGE_BUCKET_NAME"]
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
    AWS_QUERYSTRING_AUTH = env_bool("AWS_QUERYSTRING_AUTH", True)
    AWS_S3_SIGNATURE_VERSION = os.environ.get("AWS_S3_SIGNATURE_VERSION", "s3v4")  # SigV2 is deprecated
    # Upload images get short-lived signed URLs, catalogue images plain ones (gallery/storage.py).
    _default_storage = {"BACKEND": "gallery.storage.MediaStorage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve media from Django only in the local default set-up; production puts a server/bucket in front.
SERVE_MEDIA = env_bool("ARTSITE_SERVE_MEDIA", "AWS_STORAGE_BUCKET_NAME" not in os.environ)
# Upload images are private (gallery/storage.py). With S3, how long a signed URL of one stays valid.
PRIVATE_MEDIA_URL_EXPIRE_S = env_int("ARTSITE_PRIVATE_MEDIA_URL_EXPIRE_S", 300)
# Behind nginx: the internal location that maps to MEDIA_ROOT (e.g. "/protected-media/"); the owner
# check stays in Django and nginx sends the bytes. Empty: Django streams the file (FileResponse, which
# gunicorn sends with sendfile()).
PRIVATE_MEDIA_X_ACCEL_REDIRECT = os.environ.get("ARTSITE_PRIVATE_MEDIA_X_ACCEL_REDIRECT", "")

# --- Content-Security-Policy (django-csp) ---------------------------------------------------------
# Scripts and style sheets only from this site: the pages load static/js/*.js and static/css/site.css,
# with no inline <script> or <style> (the API docs use drf-spectacular's split view for the same
# reason). Inline style *attributes* stay allowed: progress and probability bars set their width with
# one, and so does Django's admin; an attribute cannot run script or load anything img-src forbids.
# data: for Swagger UI's icons; blob: for the upload form's preview of the chosen file.
_csp_img = [SELF, "data:", "blob:", *env_list("CSP_IMG_SRC_EXTRA", [])]
if os.environ.get("AWS_S3_ENDPOINT_URL"):
    _endpoint = urlparse(os.environ["AWS_S3_ENDPOINT_URL"])
    _csp_img.append(f"{_endpoint.scheme}://*.{_endpoint.netloc}")  # virtual-hosted bucket URLs
    _csp_img.append(f"{_endpoint.scheme}://{_endpoint.netloc}")  # path-style bucket URLs
elif os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    _csp_img.append("https://*.amazonaws.com")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": _csp_img,
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "artsite.errors.csrf_failure"
# Sign-in lockout (django-axes, artsite/signin_lockout.py): failures are counted per account and, apart,
# per address; either reaching the limit locks sign-in for the cool-off, then it opens again.
AUTHENTICATION_BACKENDS = [
    "artsite.signin_lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("ARTSITE_SIGNIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ARTSITE_SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A refused attempt (locked, or too soon for the slow-down) must not count as a failure or restart the lock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Slow-down before the lock: after k >= 2 failures the next try must wait BASE * 2**(k-2) s (max MAX)
# after the last failure, or it gets 429 + Retry-After without a password check. BASE=0 turns it off.
ARTSITE_SIGNIN_DELAY_BASE_S = env_int("ARTSITE_SIGNIN_DELAY_BASE_S", 1)
ARTSITE_SIGNIN_DELAY_MAX_S = env_int("ARTSITE_SIGNIN_DELAY_MAX_S", 60)
AXES_LOCKOUT_CALLABLE = "artsite.signin_lockout.lockout_response"
AXES_VERBOSE = False
# The address is REMOTE_ADDR. Behind a reverse proxy, point AXES_CLIENT_IP_CALLABLE at a function that
# reads the proxy's header, or every client shares the proxy's address (docs/security.md).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery:home"
LOGOUT_REDIRECT_URL = "gallery:home"

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Expiring, hashed tokens sent as "Authorization: Token <token>" (the header DRF's used).
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "gallery.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"uploads": os.environ.get("ARTSITE_UPLOAD_THROTTLE", "60/hour")},
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("ARTSITE_API_TOKEN_DAYS", 30)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,  # a token's expiry is the one shown on the tokens page, not extended by use
    "TOKEN_LIMIT_PER_USER": env_int("ARTSITE_API_TOKENS_PER_USER", 20),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "artsite API",
    "DESCRIPTION": "Art style prediction and influence-aware similar paintings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gallery.api.schema.document_pagination_errors",
        "gallery.api.schema.blank_strings_any_of",
    ],
}

# --- Recommender --------------------------------------------------------------------------------
STYLE_MODEL_DIR = Path(os.environ.get("ARTSITE_STYLE_MODEL_DIR", BASE_DIR / "recommender" / "artifacts" / "style"))
# The data and weights folder beside the project root (catalogue, training pack, backbone weights).
SHARED_DIR = Path(os.environ.get("ARTSITE_SHARED_DIR", BASE_DIR.parent / "shared"))
CATALOGUE_DIR = Path(os.environ.get("ARTSITE_CATALOGUE_DIR", SHARED_DIR / "data" / "catalogue"))
EXTRA_TRAINING_DIR = Path(os.environ.get("ARTSITE_EXTRA_TRAINING_DIR", SHARED_DIR / "data" / "extra"))
DEMO_CATALOGUE_DIR = BASE_DIR / "demo" / "catalogue"
# HNSW search breadth: 100 gave recall@10 ≈ 0.99 on clustered 100k vectors at ~8 ms (infra notes).
HNSW_EF_SEARCH = env_int("ARTSITE_HNSW_EF_SEARCH", 100)

# --- Uploads ------------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = env_int("ARTSITE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env_int("ARTSITE_UPLOAD_MAX_PIXELS", 40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ARTSITE_LOG_LEVEL", "INFO")},
    "loggers": {"neo4j": {"level": "WARNING"}},
}
# Networks that URL uploads may reach besides public addresses. Empty in production; tests add
# 127.0.0.0/8 to serve images from a local server.
# One deadline for a whole URL download (connect, redirects, body): the request thread waits no longer.
UPLOAD_URL_DEADLINE_S = env_int("ARTSITE_UPLOAD_URL_DEADLINE_S", 15)
# Downloads of image addresses running at once per web process (gunicorn runs 4 threads each): the
# rest of the threads stay free for pages however slow the servers people point us at.
UPLOAD_URL_MAX_CONCURRENT = env_int("ARTSITE_UPLOAD_URL_CONCURRENT", 2)
UPLOAD_URL_EXTRA_ALLOWED_NETWORKS = env_list("ARTSITE_UPLOAD_URL_EXTRA_ALLOWED_NETWORKS", [])

# --- Health and metrics (artsite/health.py, artsite/metrics.py) ---------------------------------
# How long /health/ waits for a Celery worker to answer its ping.
HEALTH_WORKER_PING_TIMEOUT_S = env_int("ARTSITE_HEALTH_WORKER_PING_TIMEOUT_S", 2)
# When set, /metrics asks for "Authorization: Bearer <token>" (or block /metrics at the proxy).
METRICS_TOKEN = os.environ.get("ARTSITE_METRICS_TOKEN", "")
# First, so the latency covers every other middleware too.
MIDDLEWARE = ["artsite.metrics.RequestMetricsMiddleware", *MIDDLEWARE]
