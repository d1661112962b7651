"""Issue 11: an inspector's fields are declared once (``inspectors.fields``); what the
services, the importer, the export, the form and the API expose is that declaration."""

import pytest

from inspectors import api, exports, imports, services
from inspectors.fields import INSPECTOR
from inspectors.forms import InspectorForm

pytestmark = pytest.mark.smoke


def test_the_form_edits_the_fields_declared_for_the_form():
    assert set(InspectorForm.base_fields) == set(INSPECTOR.names(form=True))


def test_the_api_shows_every_declared_field_and_writes_the_editable_ones():
    serializer = api.InspectorSerializer()
    assert set(INSPECTOR.names()) <= set(serializer.fields)
    writable = {name for name, f in serializer.fields.items() if not f.read_only}
    assert writable == set(INSPECTOR.names(api=True))


def test_the_export_lists_the_exported_fields():
    assert set(exports.exported_fields()) == set(INSPECTOR.names(exported=True))


def test_the_import_template_has_one_column_per_imported_field_in_order():
    assert [(c.header, c.field) for c in imports.COLUMNS] == [
        (f.imported, f.name) for f in INSPECTOR if f.imported
    ]


def test_the_services_write_the_editable_fields():
    assert set(services.EDITABLE_FIELDS) == set(INSPECTOR.names(editable=True))


def test_a_rule_is_worded_the_same_by_the_service_and_the_importer():
    from core.fields import FieldError
    from exchange.excel.spec import CellError

    rule = INSPECTOR["years_of_service"].rule
    column = imports.COLUMNS[[c.field for c in imports.COLUMNS].index("years_of_service")]
    with pytest.raises(FieldError) as refused:
        rule.clean(61)
    with pytest.raises(CellError) as refused_cell:
        column.parse(61)
    assert refused.value.message == refused_cell.value.message
