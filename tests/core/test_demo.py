"""The demo world builds, every role has an account, and running it again changes nothing."""

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from core.demo import DEMO_PASSWORD
from core.models import Organisation, Role
from core.uscc import is_valid

COUNTED = [
    "core.Organisation",
    "core.User",
    "registry.PollutionSource",
    "registry.CheckItem",
    "inspectors.Inspector",
    "lottery.Plan",
]


def _counts():
    return {label: apps.get_model(label).objects.count() for label in COUNTED}


@pytest.mark.django_db
def test_demo_seed_builds_a_believable_world_and_is_idempotent():
    call_command("demo_seed", quiet_users=True)
    first = _counts()
    call_command("demo_seed", quiet_users=True)
    assert _counts() == first

    # The four seed cities with their real division codes; 武陟 is 410823.
    codes = set(Organisation.objects.values_list("division_code", flat=True))
    assert {"141100", "210500", "131100", "410800", "410823"} <= codes
    assert first["core.Organisation"] == 4 + 4 * 2 + 47 - 4  # provinces, city bureau+team, counties

    users = get_user_model().objects
    assert set(users.values_list("role", flat=True)) == set(Role.values)
    for username in (
        "admin",
        "henan_viewer",
        "jiaozuo_reviewer",
        "wuzhi_clerk",
        "wuzhi_leader",
        "wuzhi_inspector",
    ):
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password=DEMO_PASSWORD), username

    sources = apps.get_model("registry.PollutionSource").objects
    if sources.exists():
        per_county = sources.filter(organisation__division_code="410823").count()
        assert per_county >= 100
        sample = list(sources.values_list("uscc", flat=True)[:500])
        assert all(is_valid(code) for code in sample if code)
    inspectors = apps.get_model("inspectors.Inspector").objects
    assert inspectors.filter(organisation__division_code="410823").count() >= 20
