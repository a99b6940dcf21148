# syntax=docker/dockerfile:1
# Slim, non-root image running the ASGI server. Workers and beat use the same image:
#   docker run IMAGE celery -A booktrack worker -Q default,providers,ai,maintenance
#   docker run IMAGE celery -A booktrack beat
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=booktrack.settings.production \
    DATA_DIR=/app/var

WORKDIR /app
RUN groupadd --system app && useradd --system --gid app --home-dir /app app

# The runtime lock: exact versions with hashes (requirements.txt holds the ranges it was resolved from).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY --chown=app:app . .
# Static files (admin, Swagger UI) are collected at build into /app/staticfiles by WhiteNoise's
# CompressedManifestStaticFilesStorage: content-hashed names (cache-busting; WhiteNoise serves them
# with a ten-year immutable Cache-Control) plus .gz variants, served by the app itself (no nginx).
# .dockerignore keeps a developer's own staticfiles/ (and .venv, var, .env) out of the image.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R app:app /app/var

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status == 200 else 1)"
# Idle keep-alives closed after 5 s, at most 2,048 connections + tasks per worker (503 beyond), 25 s to
# finish in-flight requests on stop. Slow request bodies are handled by the app (docs/security.md); run a
# reverse proxy in front in production (same page).
CMD ["uvicorn", "booktrack.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--lifespan", "off", "--no-proxy-headers", "--timeout-keep-alive", "5", "--limit-concurrency", "2048", "--timeout-graceful-shutdown", "25"]
