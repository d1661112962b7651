"""The OpenAPI schema generates and validates with no warnings (every endpoint documented)."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text(encoding="utf-8")
    for path in ("/api/v1/sources/", "/api/v1/inspectors/", "/api/v1/draws/", "/api/v1/plans/"):
        assert path in text
