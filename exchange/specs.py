"""Which registries the exchange can import and export: each app registers its own.

An app calls ``register_import(kind, "app.imports.SpecClass")`` in its ``AppConfig.ready()``,
as it registers its menu entries and home cards; the spec class is imported when first used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from core.errors import ServiceError
from exchange.models import ImportJob

if TYPE_CHECKING:
    from exchange.excel import ImportSpec

# Each kind's spec lives in its own app, which registers it (``register_import``) in its
# ``AppConfig.ready()``: the dependency points from the apps to the exchange, never back.
IMPORT_SPECS: dict[str, str] = {}
# Where the imported records are seen, by kind: the registry's own page (URL name) and the
# label of the link to it, shown once an import is done.
REGISTRY_PAGES: dict[str, tuple[str, str]] = {}


@dataclass(frozen=True)
class RegistryPage:
    url: str
    label: str


def register_import(kind: str, spec: str, *, page: str = "", page_label: str = "") -> None:
    """Make ``kind`` importable and exportable with the ``ImportSpec`` subclass at the dotted
    path ``spec`` (imported when first used); ``page`` is the URL name of the registry's list,
    linked as ``page_label`` from a finished import. Registering a kind again replaces it."""
    if kind not in ImportJob.Kind.values:
        raise ValueError(f"{kind!r} is not an ImportJob.Kind")
    IMPORT_SPECS[kind] = spec
    if page:
        REGISTRY_PAGES[kind] = (page, page_label)
    else:
        REGISTRY_PAGES.pop(kind, None)


def registry_page(kind: str) -> RegistryPage | None:
    """The link to the registry that ``kind`` imports into, if its app gave one."""
    if kind not in REGISTRY_PAGES:
        return None
    url_name, label = REGISTRY_PAGES[kind]
    return RegistryPage(url=reverse(url_name), label=str(label))


def spec_for(kind: str) -> ImportSpec:
    if kind not in IMPORT_SPECS:
        raise ServiceError(_("Unknown import kind: %(kind)s.") % {"kind": kind})
    return import_string(IMPORT_SPECS[kind])()


def available_kinds() -> list[tuple[str, StrOrPromise]]:
    """The kinds whose app has an import spec installed."""
    kinds: list[tuple[str, StrOrPromise]] = []
    for kind, label in ImportJob.Kind.choices:
        if kind not in IMPORT_SPECS:
            continue
        try:
            import_string(IMPORT_SPECS[kind])
        except ImportError:
            continue
        kinds.append((kind, label))
    return kinds
