"""Issue 11: a source's and a check item's fields are declared once (``registry.fields``); what
the services, the importer, the export, the forms and the API expose is that declaration."""

import pytest

from registry import api, imports, services, views
from registry.fields import CHECKITEM, SOURCE
from registry.forms import CheckItemForm, SourceForm

pytestmark = pytest.mark.smoke


def test_every_declared_field_is_a_model_field_with_the_declared_length():
    for declared in (*SOURCE, *CHECKITEM):
        model_field = (SOURCE if declared in SOURCE else CHECKITEM).model._meta.get_field(
            declared.name
        )
        limit = getattr(declared.rule, "max_length", None)
        if limit is not None and model_field.max_length is not None:
            assert limit <= model_field.max_length, declared.name


def test_the_source_form_edits_the_fields_declared_for_the_form():
    assert set(SourceForm.base_fields) - {"accept_bad_checksum"} == set(SOURCE.names(form=True))


def test_the_checkitem_form_edits_the_fields_declared_for_the_form():
    assert set(CheckItemForm.base_fields) == set(CHECKITEM.names(form=True))


def _writable(serializer) -> set[str]:
    return {name for name, f in serializer.fields.items() if not f.read_only}


def test_the_api_shows_every_declared_field_and_writes_the_editable_ones():
    source = api.SourceSerializer()
    assert set(SOURCE.names()) <= set(source.fields)
    assert _writable(source) - {"accept_bad_checksum"} == set(SOURCE.names(api=True))
    item = api.CheckItemSerializer()
    assert set(CHECKITEM.names()) <= set(item.fields)
    assert _writable(item) == set(CHECKITEM.names(api=True))


def test_the_exports_list_the_exported_fields():
    assert SOURCE.names(exported=True) == views.SOURCE_EXPORT_FIELDS
    assert CHECKITEM.names(exported=True) == views.CHECKITEM_EXPORT_FIELDS


def test_the_import_template_has_one_column_per_imported_field_in_order():
    assert [(c.header, c.field) for c in imports.COLUMNS] == [
        (f.imported, f.name) for f in SOURCE if f.imported
    ]
    assert len({c.header for c in imports.COLUMNS}) == len(imports.COLUMNS)


def test_the_services_write_the_editable_fields_and_track_the_declared_ones():
    assert set(SOURCE.names(editable=True)) == services.WRITABLE_FIELDS
    assert set(services.TRACKED_FIELDS) == set(SOURCE.names(tracked=True))
    assert set(services.CHECKITEM_FIELDS) == set(CHECKITEM.names(editable=True))
