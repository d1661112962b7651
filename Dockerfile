# Image for docker-compose.yml: Python 3.11, the CJK fonts WeasyPrint needs, npm packages.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
        fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 nodejs npm gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml package.json package-lock.json ./
RUN pip install --no-cache-dir . && npm ci --omit=dev --no-audit --no-fund
COPY . .
# Collect with the production storage so the manifest exists; the key here is build-only.
RUN DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_ALLOWED_HOSTS=build \
        DJANGO_SECRET_KEY=build-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
        DJANGO_STATIC_ROOT=/app/staticfiles SJSJ_DATA_DIR=/tmp/build-data \
        python manage.py collectstatic --noinput
EXPOSE 8000
