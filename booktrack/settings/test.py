"""Unit-test settings: embedded mode, a throwaway database, fast hashing, no real upstreams."""

from .base import *
from .base import OUTBOUND_HTTP, STORAGES

SECRET_KEY = "test-secret-key"  # test-only
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMBEDDED_WORKER = False
# Pages render with plain static URLs: unit tests never run collectstatic (tests/browser does).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Tests point upstreams at local fakes or `responses`; never at the internet.
GOOGLE_BOOKS_BASE_URL = "http://upstream.test/google/books/v1"
OPENLIBRARY_BASE_URL = "http://upstream.test/openlibrary"
OPENLIBRARY_COVERS_BASE_URL = "http://upstream.test/covers"
GOOGLE_BOOKS_COVERS_BASE_URL = "http://upstream.test/google-covers"
ISBNDB_IMAGES_BASE_URL = "http://upstream.test/isbndb-images"
AMAZON_IMAGES_BASE_URL = "http://upstream.test/amazon-images"
ISBNDB_BASE_URL = "http://upstream.test/isbndb"
WIKIDATA_BASE_URL = "http://upstream.test/wikidata"
GEMINI_BASE_URL = "http://upstream.test/gemini"
OUTBOUND_HTTP = {**OUTBOUND_HTTP, "MAX_RETRY_WAIT": 1.0, "READ_TIMEOUT": 3.0}
# Unit tests of the job cleanup write no archive to the data folder (tests/harvest turns it on, in tmp).
ARCHIVE_JOBS_BEFORE_CLEANUP = False
