"""Unit-test settings: embedded mode, a throwaway database, fast hashing, no real upstreams."""

from .base import *  # noqa: F403
from .base import OUTBOUND_HTTP, STORAGES

SECRET_KEY = "test-secret-key"  # noqa: S105 - test-only
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMBEDDED_WORKER = False
# Pages render with plain static URLs: unit tests never run collectstatic (tests/browser does).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Tests point upstreams at local fakes or `responses`; never at the internet.
GOOGLE_BOOKS_BASE_URL = "http://upstream.test/google/books/v1"
OPENLIBRARY_BASE_URL = "http://upstream.test/openlibrary"
OPENLIBRARY_COVERS_BASE_URL = "http://upstream.test/covers"
ISBNDB_BASE_URL = "http://upstream.test/isbndb"
WIKIDATA_BASE_URL = "http://upstream.test/wikidata"
GEMINI_BASE_URL = "http://upstream.test/gemini"
OUTBOUND_HTTP = {**OUTBOUND_HTTP, "MAX_RETRY_WAIT": 1.0, "READ_TIMEOUT": 3.0}
