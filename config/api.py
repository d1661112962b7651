"""The API root. Each app registers its viewsets in ``<app>/api.py`` via ``register(router)``."""

import importlib

from rest_framework.routers import DefaultRouter

API_APPS = ["core", "registry", "inspectors", "lottery", "inspections", "publication", "oversight"]

router = DefaultRouter()
for _app in API_APPS:
    try:
        _module = importlib.import_module(f"{_app}.api")
    except ModuleNotFoundError as exc:
        if exc.name != f"{_app}.api":
            raise
        continue
    if hasattr(_module, "register"):
        _module.register(router)
