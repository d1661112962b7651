"""Tests run against real PostgreSQL and Redis unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sjsj")
os.environ.setdefault("SJSJ_DATA_DIR", "/tmp/sjsj-test-data")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

from .base import *  # noqa: F403
from .base import DATA_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
ALLOWED_HOSTS = ["*"]
STORAGES["default"]["OPTIONS"]["location"] = str(DATA_DIR / "media")  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when absent
