"""The exchange knows no registry: each app registers its import spec in its ``ready()``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import ServiceError
from exchange.excel import ImportSpec
from exchange.models import ImportJob
from exchange.specs import (
    IMPORT_SPECS,
    REGISTRY_PAGES,
    available_kinds,
    register_import,
    registry_page,
    spec_for,
)


def test_the_registries_registered_their_specs():
    assert IMPORT_SPECS == {
        "sources": "registry.imports.SourceImportSpec",
        "inspectors": "inspectors.imports.InspectorImportSpec",
    }
    assert [kind for kind, _label in available_kinds()] == ["sources", "inspectors"]
    assert isinstance(spec_for("inspectors"), ImportSpec)
    assert registry_page("sources").url == reverse("registry:source_list")
    assert registry_page("inspectors").url == reverse("inspectors:inspector_list")


def test_a_kind_without_a_spec_is_not_offered(monkeypatch):
    monkeypatch.delitem(IMPORT_SPECS, "inspectors")
    monkeypatch.delitem(REGISTRY_PAGES, "inspectors")
    assert registry_page("inspectors") is None
    assert available_kinds() == [("sources", ImportJob.Kind.SOURCES.label)]
    with pytest.raises(ServiceError):
        spec_for("inspectors")


def test_only_a_kind_the_jobs_table_accepts_can_be_registered():
    with pytest.raises(ValueError):
        register_import("vehicles", "somewhere.VehicleSpec")
    assert "vehicles" not in IMPORT_SPECS
