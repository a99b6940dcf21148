"""Settings for every environment, driven by environment variables (CONTRACT section 1).

`test` and `production` only override. Every variable read here is listed, with its default, in
`.env.example`. Embedded mode is "no REDIS_URL": SQLite, local-memory cache, in-memory channel layer
and a Celery worker inside the web process.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env.str("DATA_DIR", default="") or str(BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)

APP_NAME = "BooksTrack"
APP_VERSION = "1.0.0"

SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

REDIS_URL = env.str("REDIS_URL", default="") or None
EMBEDDED = REDIS_URL is None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "storages",
    "booktrack.core.apps.CoreConfig",
    "search",
    "enrichment",
    "scanning",
    "jobs",
    "harvest",
]

MIDDLEWARE = [
    # First: a static file is answered before request ids, metrics and rate limits; for any other
    # path WhiteNoise costs one dict lookup (its file table is built once, at startup).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "booktrack.core.middleware.RequestContextMiddleware",
    "booktrack.core.middleware.CorsPreflightStatusMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "booktrack.core.middleware.BodySizeLimitMiddleware",
    "booktrack.core.ratelimit.RateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "booktrack.core.middleware.JsonErrorMiddleware",
]

ROOT_URLCONF = "booktrack.urls"
# Threads per ASGI server process serving HTTP (each may hold a database connection).
HTTP_THREADS = env.int("HTTP_THREADS", default=24)
ASGI_APPLICATION = "booktrack.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- database ------------------------------------------------------------------------------
# An empty variable (as in a copied .env.example) means "unset", here and below.
DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{DATA_DIR / 'booktrack.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded worker thread writes while requests read: WAL + IMMEDIATE avoid "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and channel layer ---------------------------------------------------------------
if EMBEDDED:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "booktrack",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "booktrack.core.channels.ThreadSafeInMemoryChannelLayer"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 2,
            },
            "KEY_PREFIX": "bt",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # channels-redis blocks on BZPOPMIN for 5 s; redis-py 8 defaults socket_timeout to 5 s too,
            # and the two collide. Give the socket room past the blocking read.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 2}],
                "capacity": 1500,
                "expiry": 60,
            },
        }
    }

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or (REDIS_URL or "memory://")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "jobs.*": {"queue": "default"},
    "enrichment.*": {"queue": "providers"},
    "search.*": {"queue": "providers"},
    "scanning.purge_scan_photos": {"queue": "maintenance"},
    "scanning.*": {"queue": "ai"},
    "harvest.*": {"queue": "maintenance"},
}
WORKER_QUEUES = ("default", "providers", "ai", "maintenance")
# One direct exchange per queue: a bare Queue(name) would bind every queue to the "default" key.
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in WORKER_QUEUES)
# Redis broker: an unacknowledged task (its worker died) is redelivered after this many seconds.
# Keep it above the longest task run (a 100-book batch, a scan).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=1800)}
# A queued or running job with no state write for this long has no worker (the broker's own
# redelivery, after the visibility timeout, would have restarted it): the watchdog sends it again.
JOB_STALL_SECONDS = int(
    env.str("JOB_STALL_SECONDS", default="") or CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 600
)
# Namespaces every broker key (Redis), so deployments or test runs sharing one Redis never share queues.
if env.str("CELERY_BROKER_KEY_PREFIX", default=""):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env.str("CELERY_BROKER_KEY_PREFIX")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Embedded mode: a worker thread inside the web process consumes the in-memory broker.
EMBEDDED_WORKER = env.bool("EMBEDDED_WORKER") if env.str("EMBEDDED_WORKER", default="") else EMBEDDED
EMBEDDED_WORKER_CONCURRENCY = env.int("EMBEDDED_WORKER_CONCURRENCY", default=4)

# --- storage -------------------------------------------------------------------------------
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
# Static files (admin, Swagger UI) are served by the app itself through WhiteNoise, in every mode.
# `collectstatic` writes them to STATIC_ROOT compressed (gzip) under content-hashed names, which are
# then cached for ever by browsers; `make run` / `make serve` collect before serving and the image
# collects at build. With DEBUG on, WhiteNoise serves the apps' own folders and needs no collecting.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or str(BASE_DIR / "staticfiles"))
STATIC_URL = "/static/"

# --- object storage ------------------------------------------------------------------------------
# Uploads, harvested covers and proxied images go through Django's storage API (`default_storage`).
# STORAGE_BACKEND: `filesystem` (MEDIA_ROOT) or `s3` (django-storages' boto3 backend: AWS S3,
# Cloudflare R2, MinIO, a local moto_server); unset = `s3` when AWS_STORAGE_BUCKET_NAME is set.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="") or ("s3" if AWS_STORAGE_BUCKET_NAME else "filesystem")
if STORAGE_BACKEND == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None  # R2, MinIO, moto
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
    # Unset = boto3's own chain (environment, instance role, ~/.aws).
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    # `path` for endpoints that are an address (moto, MinIO); unset = boto3 decides.
    AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
    AWS_LOCATION = env.str("AWS_LOCATION", default="")  # a key prefix inside the bucket
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_FILE_OVERWRITE = True
    DEFAULT_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage"}
elif STORAGE_BACKEND == "filesystem":
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {STORAGE_BACKEND!r}.")
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["booktrack.core.rendering.ApiJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "booktrack.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "booktrack.core.envelope.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "booktrack.core.negotiation.FirstRendererNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` belongs to our routes (e.g. /metrics?format=prometheus), not to DRF negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BooksTrack API",
    "DESCRIPTION": (
        "Search, enrichment, bookshelf scanning, CSV import and job progress for the BooksTrack "
        "apps. WebSocket progress: /ws/progress (see docs/jobs.md)."
    ),
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets are served by the app itself (works offline, no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Validated by `make schema` (CI) instead of inside `check --deploy`.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # Payload schemas generated from the DTOs and the contract's error body (booktrack.core.openapi).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "booktrack.core.openapi.add_components",
    ],
}

# --- CORS (CONTRACT 8) ----------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
CORS_ALLOW_CREDENTIALS = bool(CORS_ALLOWED_ORIGINS)  # never "*" together with credentials
CORS_ALLOW_METHODS = ["GET", "POST", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = ["content-type", "authorization", "accept", "x-ai-provider"]
CORS_EXPOSE_HEADERS = [
    "X-Request-ID",
    "X-Response-Time",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "ETag",
    "Deprecation",
    "Sunset",
]
CORS_PREFLIGHT_MAX_AGE = 86400

# --- limits (CONTRACT 2 and 8) ---------------------------------------------------------------
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Request body cap for any route that declares none (bytes). Upload routes declare their own.
MAX_BODY_BYTES = env.int("MAX_BODY_BYTES", default=1 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024  # our middleware enforces the real per-route caps
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
RATE_LIMITS = {
    # scope: (requests, window seconds)
    "expensive": (env.int("RATE_LIMIT_EXPENSIVE", default=10), env.int("RATE_LIMIT_EXPENSIVE_WINDOW", default=60)),
    "search": (env.int("RATE_LIMIT_SEARCH", default=100), env.int("RATE_LIMIT_SEARCH_WINDOW", default=60)),
}
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)

# --- slow clients and hostile input (docs/security.md) ---------------------------------------
# A request body must arrive within this many seconds, plus its size at the minimum rate (a 10 MB CSV
# gets 10 + 160 s), or it is answered 408; it is read on the event loop, never on an HTTP thread.
REQUEST_BODY_TIMEOUT_SECONDS = env.float("REQUEST_BODY_TIMEOUT_SECONDS", default=10.0)
REQUEST_BODY_MIN_BYTES_PER_SECOND = env.int("REQUEST_BODY_MIN_BYTES_PER_SECOND", default=64 * 1024)
# Bodies being read at once per server process; one more is answered 503 with Retry-After.
MAX_BODIES_IN_FLIGHT = env.int("MAX_BODIES_IN_FLIGHT", default=64)
# Deepest nesting a JSON request body may have (arrays and objects); deeper is a 400.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
# Longest query string accepted (bytes); longer is a 400 from the ASGI layer.
MAX_QUERY_STRING_BYTES = env.int("MAX_QUERY_STRING_BYTES", default=8192)
# Fields a form or query string may hold (Django's check; more is a 400, not a 500).
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)
# /health: per-IP limit, how long one process reuses its report, how often it writes to storage (s).
RATE_LIMITS["health"] = (env.int("RATE_LIMIT_HEALTH", default=60), env.int("RATE_LIMIT_HEALTH_WINDOW", default=60))
HEALTH_CACHE_SECONDS = env.float("HEALTH_CACHE_SECONDS", default=5.0)
HEALTH_STORAGE_CHECK_SECONDS = env.float("HEALTH_STORAGE_CHECK_SECONDS", default=300.0)
# WebSocket handshakes per client IP and window (every upgrade counts before it is authenticated).
RATE_LIMITS["websocket"] = (
    env.int("RATE_LIMIT_WEBSOCKET", default=30),
    env.int("RATE_LIMIT_WEBSOCKET_WINDOW", default=60),
)

# --- ops --------------------------------------------------------------------------------------
OPS_TOKEN = env.str("OPS_TOKEN", default="") or None

# --- upstreams (CONTRACT 1) -------------------------------------------------------------------
GOOGLE_BOOKS_API_KEY = env.str("GOOGLE_BOOKS_API_KEY", default="") or None
ISBNDB_API_KEY = env.str("ISBNDB_API_KEY", default="") or None
GEMINI_API_KEY = env.str("GEMINI_API_KEY", default="") or None
GOOGLE_BOOKS_BASE_URL = env.str("GOOGLE_BOOKS_BASE_URL", default="https://www.googleapis.com/books/v1")
OPENLIBRARY_BASE_URL = env.str("OPENLIBRARY_BASE_URL", default="https://openlibrary.org")
OPENLIBRARY_COVERS_BASE_URL = env.str("OPENLIBRARY_COVERS_BASE_URL", default="https://covers.openlibrary.org")
ISBNDB_BASE_URL = env.str("ISBNDB_BASE_URL", default="https://api2.isbndb.com")
# Cover image hosts the image proxy fetches through (harvest/images.py; docs/api.md "Images").
GOOGLE_BOOKS_COVERS_BASE_URL = env.str("GOOGLE_BOOKS_COVERS_BASE_URL", default="https://books.google.com")
ISBNDB_IMAGES_BASE_URL = env.str("ISBNDB_IMAGES_BASE_URL", default="https://images.isbndb.com")
AMAZON_IMAGES_BASE_URL = env.str("AMAZON_IMAGES_BASE_URL", default="https://m.media-amazon.com")
WIKIDATA_BASE_URL = env.str("WIKIDATA_BASE_URL", default="https://www.wikidata.org")
GEMINI_BASE_URL = env.str("GEMINI_BASE_URL", default="") or None
GEMINI_MODEL = env.str("GEMINI_MODEL", default="gemini-2.5-flash")
# The Gemini client (booktrack/core/gemini.py): one attempt's timeout, retries on 429/5xx/timeouts, and
# the longest back-off or RetryInfo delay worth waiting (a longer RetryInfo delay fails at once; seconds).
GEMINI_TIMEOUT_SECONDS = env.float("GEMINI_TIMEOUT_SECONDS", default=60.0)
GEMINI_MAX_RETRIES = env.int("GEMINI_MAX_RETRIES", default=2)
GEMINI_MAX_RETRY_WAIT_SECONDS = env.float("GEMINI_MAX_RETRY_WAIT_SECONDS", default=10.0)

OUTBOUND_USER_AGENT = env.str(
    "OUTBOUND_USER_AGENT",
    default=f"BooksTrack/{APP_VERSION} (+https://github.com/bookstrack; contact: ops@bookstrack.app)",
)
OUTBOUND_HTTP = {
    "CONNECT_TIMEOUT": env.float("OUTBOUND_CONNECT_TIMEOUT", default=3.05),
    "READ_TIMEOUT": env.float("OUTBOUND_READ_TIMEOUT", default=10.0),
    "MAX_RETRIES": env.int("OUTBOUND_MAX_RETRIES", default=2),
    "MAX_RETRY_WAIT": env.float("OUTBOUND_MAX_RETRY_WAIT", default=5.0),
    "BREAKER_THRESHOLD": env.int("OUTBOUND_BREAKER_THRESHOLD", default=5),
    "BREAKER_COOLDOWN": env.float("OUTBOUND_BREAKER_COOLDOWN", default=30.0),
    "POOL_SIZE": env.int("OUTBOUND_POOL_SIZE", default=32),
}

# --- search (docs/search.md) -------------------------------------------------------------------
# One total deadline for a search fan-out, and the threads that run the fan-outs (seconds, count).
SEARCH_DEADLINE_SECONDS = env.float("SEARCH_DEADLINE_SECONDS", default=6.0)
SEARCH_FANOUT_WORKERS = env.int("SEARCH_FANOUT_WORKERS", default=32)
# Outbound budgets shared by every process (OpenLibrary asks for <= 3 req/s; Google's free daily quota).
SEARCH_OPENLIBRARY_RPS = env.int("SEARCH_OPENLIBRARY_RPS", default=3)
SEARCH_ISBNDB_RPS = env.int("SEARCH_ISBNDB_RPS", default=1)
SEARCH_GOOGLE_BOOKS_DAILY_QUOTA = env.int("SEARCH_GOOGLE_BOOKS_DAILY_QUOTA", default=1000)
# Share of a budget background callers (Celery workers) may use, the rest kept for interactive search,
# and the longest a background caller waits for a slot before skipping the provider (seconds).
SEARCH_BUDGET_BACKGROUND_SHARE = env.float("SEARCH_BUDGET_BACKGROUND_SHARE", default=0.6)
SEARCH_BUDGET_BACKGROUND_MAX_WAIT = env.float("SEARCH_BUDGET_BACKGROUND_MAX_WAIT", default=5.0)
# Edge tier (in-process LRU): entries, hits held in all (an answer weighs its hits, ~5-10 KB a hit),
# and how long an entry is fresh, then served stale while it is revalidated (seconds).
SEARCH_EDGE_MAX_ENTRIES = env.int("SEARCH_EDGE_MAX_ENTRIES", default=2048)
SEARCH_EDGE_MAX_HITS = env.int("SEARCH_EDGE_MAX_HITS", default=40_000)
SEARCH_EDGE_FRESH_SECONDS = env.int("SEARCH_EDGE_FRESH_SECONDS", default=300)
SEARCH_EDGE_STALE_SECONDS = env.int("SEARCH_EDGE_STALE_SECONDS", default=3600)
# Catalog records younger than this answer ISBN lookups without calling a provider (days).
SEARCH_CATALOG_FRESH_DAYS = env.int("SEARCH_CATALOG_FRESH_DAYS", default=30)
# Cross-process coalescing: lock lifetime and how often waiters poll the shared cache (seconds).
SEARCH_COALESCE_LOCK_SECONDS = env.float("SEARCH_COALESCE_LOCK_SECONDS", default=15.0)
SEARCH_COALESCE_POLL_SECONDS = env.float("SEARCH_COALESCE_POLL_SECONDS", default=0.05)
# Cache TTLs per kind (CONTRACT 7, seconds); title, advanced and editions searches share one.
SEARCH_TTL_SECONDS = {
    **dict.fromkeys(("title", "advanced", "editions"), env.int("SEARCH_TTL_TITLE", default=7 * 86400)),
    "isbn": env.int("SEARCH_TTL_ISBN", default=365 * 86400),
    "author": env.int("SEARCH_TTL_AUTHOR", default=7 * 86400),
    "enrichment": env.int("SEARCH_TTL_ENRICHMENT", default=180 * 86400),
}
SEARCH_TTL_NOT_FOUND = env.int("SEARCH_TTL_NOT_FOUND", default=300)
# An answer some provider failed to contribute to is cached briefly, so it heals soon.
SEARCH_TTL_DEGRADED = env.int("SEARCH_TTL_DEGRADED", default=300)

# --- pipelines ---------------------------------------------------------------------------------
SCAN_CONFIDENCE_THRESHOLD = env.float("SCAN_CONFIDENCE_THRESHOLD", default=0.7)
# --- scan photos (docs/scanning.md "Photo storage and retention") -------------------------------
# Days a scan's photos are kept in object storage before the daily purge deletes them.
SCAN_PHOTO_RETENTION_DAYS = env.int("SCAN_PHOTO_RETENTION_DAYS", default=90)
# WebSocket keep-alive while a job runs (CONTRACT 6: at least every 30 s).
JOB_KEEPALIVE_SECONDS = env.float("JOB_KEEPALIVE_SECONDS", default=25)
# The results routes answer without the job token (CONTRACT 5; the job id is the secret); true makes
# them require it, for a deployment whose clients all send it (docs/jobs.md).
JOB_RESULTS_REQUIRE_TOKEN = env.bool("JOB_RESULTS_REQUIRE_TOKEN", default=False)
# Batch enrichment: books enriched at once per job, and one book's time budget (seconds).
ENRICHMENT_BATCH_CONCURRENCY = env.int("ENRICHMENT_BATCH_CONCURRENCY", default=8)
ENRICHMENT_BOOK_TIMEOUT_SECONDS = env.float("ENRICHMENT_BOOK_TIMEOUT_SECONDS", default=20)
# CSV import: most data rows one upload may hold (the 10 MB body cap is declared on the route).
CSV_IMPORT_MAX_ROWS = env.int("CSV_IMPORT_MAX_ROWS", default=20_000)

# --- scanning: engines (docs/scanning.md "Engines") -----------------------------------------------
# auto: Gemini when GEMINI_API_KEY is set, else the offline OCR engine; gemini; ocr.
SCAN_ENGINE = env.str("SCAN_ENGINE", default="auto")
# Offline OCR engine: the turns of the photo it reads (degrees counter-clockwise; spines are vertical),
# the longest edge it reads at (px), the reading time after which further turns are skipped (s), the
# least match score that names a book, the title searches one photo may make for spines the catalog
# does not know and their total time (s), and onnxruntime's threads (0: its default, one per core).
SCAN_OCR_ROTATIONS = env.list("SCAN_OCR_ROTATIONS", cast=int, default=[0, 90, 270])
SCAN_OCR_MAX_SIDE = env.int("SCAN_OCR_MAX_SIDE", default=1600)
SCAN_OCR_TIME_BUDGET_SECONDS = env.float("SCAN_OCR_TIME_BUDGET_SECONDS", default=5.0)
SCAN_OCR_MIN_MATCH = env.float("SCAN_OCR_MIN_MATCH", default=0.6)
SCAN_OCR_MAX_SEARCHES = env.int("SCAN_OCR_MAX_SEARCHES", default=12)
SCAN_OCR_SEARCH_SECONDS = env.float("SCAN_OCR_SEARCH_SECONDS", default=20.0)
SCAN_OCR_THREADS = env.int("SCAN_OCR_THREADS", default=0)

# --- i18n / time -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "celery": {"level": "WARNING"},
    },
}

# --- image proxy (docs/api.md "Images") --------------------------------------------------------
# Longest edge in pixels of each size; images are only ever shrunk.
IMAGE_PROXY_SIZES = {
    "small": env.int("IMAGE_PROXY_SMALL_PX", default=128),
    "medium": env.int("IMAGE_PROXY_MEDIUM_PX", default=320),
    "large": env.int("IMAGE_PROXY_LARGE_PX", default=640),
}
# Upstream body cap (bytes, counted while streaming), decoded pixel cap, redirects followed by hand,
# and the browser/CDN cache lifetime of a served image (seconds).
IMAGE_PROXY_MAX_BYTES = env.int("IMAGE_PROXY_MAX_BYTES", default=8 * 1024 * 1024)
IMAGE_PROXY_MAX_PIXELS = env.int("IMAGE_PROXY_MAX_PIXELS", default=40_000_000)
IMAGE_PROXY_MAX_REDIRECTS = env.int("IMAGE_PROXY_MAX_REDIRECTS", default=3)
IMAGE_PROXY_MAX_AGE = env.int("IMAGE_PROXY_MAX_AGE", default=30 * 24 * 3600)

# --- scanning: photo intake (docs/scanning.md "Photo intake and quality") ----------------------
# A photo with more pixels than this is refused from its header (413), before any decode.
SCAN_MAX_PIXELS = env.int("SCAN_MAX_PIXELS", default=80_000_000)
# Longest edge (px) of the photo the engines see; larger photos are shrunk.
SCAN_MAX_EDGE_PX = env.int("SCAN_MAX_EDGE_PX", default=3072)
# Quality stage thresholds, calibrated on the real shelf photos of tests/fixtures/upstream/images/:
# the shorter edge in px; the Laplacian variance on a 1024-px grey copy; mean grey level (0-255) and
# share of clipped pixels for too dark / too bright.
SCAN_MIN_EDGE_PX = env.int("SCAN_MIN_EDGE_PX", default=480)
SCAN_BLUR_MIN_VARIANCE = env.float("SCAN_BLUR_MIN_VARIANCE", default=60.0)
SCAN_DARK_MAX_MEAN = env.float("SCAN_DARK_MAX_MEAN", default=40.0)
SCAN_DARK_MAX_FRACTION = env.float("SCAN_DARK_MAX_FRACTION", default=0.5)
SCAN_BRIGHT_MIN_MEAN = env.float("SCAN_BRIGHT_MIN_MEAN", default=205.0)
SCAN_BRIGHT_MAX_FRACTION = env.float("SCAN_BRIGHT_MAX_FRACTION", default=0.4)
# --- cover harvest (docs/harvest.md) -----------------------------------------------------------
# Upstream calls (metadata lookups and image downloads, retries included) one UTC day of harvesting
# may make, shared by every process; and ISBNs one run tries at most (the command's --limit overrides).
HARVEST_DAILY_BUDGET = env.int("HARVEST_DAILY_BUDGET", default=500)
HARVEST_RUN_LIMIT = env.int("HARVEST_RUN_LIMIT", default=1000)
# Cover sources, in the order they are asked (ISBNdb first: its covers are the largest).
HARVEST_SOURCES = env.list("HARVEST_SOURCES", default=["isbndb", "google-books", "openlibrary"])
# An ISBN no source had a cover for is asked again after this many days.
HARVEST_MISSING_RETRY_DAYS = env.int("HARVEST_MISSING_RETRY_DAYS", default=30)
# Import and enrichment jobs younger than this count as demand (days).
HARVEST_DEMAND_DAYS = env.int("HARVEST_DEMAND_DAYS", default=90)
# A smaller image is a placeholder (OpenLibrary's 1x1 blank), not a cover (pixels, either edge).
HARVEST_MIN_COVER_PX = env.int("HARVEST_MIN_COVER_PX", default=20)
# A running run that wrote no progress for this long is taken for dead (its worker was killed).
HARVEST_STALE_SECONDS = env.int("HARVEST_STALE_SECONDS", default=900)
# `Cache-Control: max-age` of `/covers/{isbn13}` (seconds), and the origin put before `/covers/...`
# in the search answers' cover fields (empty: a root-relative URL).
HARVEST_COVER_MAX_AGE = env.int("HARVEST_COVER_MAX_AGE", default=30 * 24 * 3600)
COVERS_PUBLIC_BASE_URL = env.str("COVERS_PUBLIC_BASE_URL", default="")
# Size named by the cover fields of search answers, and how often each process re-reads the set of
# harvested ISBNs when another process harvested (seconds).
HARVEST_DTO_COVER_SIZE = env.str("HARVEST_DTO_COVER_SIZE", default="large")
HARVEST_COVERS_REFRESH_SECONDS = env.float("HARVEST_COVERS_REFRESH_SECONDS", default=30.0)

# --- cache warming and archival (docs/warming-and-archival.md) ----------------------------------
# Authors one upload may name; retries of one author's warm-up (then a dead letter) and their
# exponential back-off (seconds: 300, 600, 900 capped): each retry comes after the 5 minutes a
# degraded answer stays cached (SEARCH_TTL_DEGRADED), so it asks the providers again.
WARMING_MAX_AUTHORS = env.int("WARMING_MAX_AUTHORS", default=1000)
WARMING_MAX_RETRIES = env.int("WARMING_MAX_RETRIES", default=4)
WARMING_RETRY_BACKOFF_SECONDS = env.int("WARMING_RETRY_BACKOFF_SECONDS", default=300)
WARMING_RETRY_BACKOFF_MAX_SECONDS = env.int("WARMING_RETRY_BACKOFF_MAX_SECONDS", default=900)
# Per author: title searches warmed (its first works), co-authors followed, author facts looked up.
WARMING_TITLES_PER_AUTHOR = env.int("WARMING_TITLES_PER_AUTHOR", default=5)
WARMING_MAX_COAUTHORS = env.int("WARMING_MAX_COAUTHORS", default=10)
WARMING_AUTHOR_FACTS_MAX = env.int("WARMING_AUTHOR_FACTS_MAX", default=50)
# Archival: finished jobs whose token expired and that ended this long ago (hours); catalog works not
# fetched by any search for this long (days); where the objects go in the default storage.
ARCHIVE_JOBS_AFTER_HOURS = env.int("ARCHIVE_JOBS_AFTER_HOURS", default=2)
ARCHIVE_CATALOG_AFTER_DAYS = env.int("ARCHIVE_CATALOG_AFTER_DAYS", default=90)
ARCHIVE_PREFIX = env.str("ARCHIVE_PREFIX", default="archive")
# The hourly job cleanup archives a finished job the daily run has not reached before deleting it.
ARCHIVE_JOBS_BEFORE_CLEANUP = env.bool("ARCHIVE_JOBS_BEFORE_CLEANUP", default=True)
