"""A password refused for being short says so in Chinese (Django 5.2's new wording is not in
its own Chinese catalog)."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

pytestmark = pytest.mark.smoke


def test_a_short_password_is_refused_in_chinese():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        validate_password("a1B")
    assert any("太短" in m and "8" in m for m in exc.value.messages), exc.value.messages
