import io
import random
from collections import Counter

import pytest
from django.utils import timezone

from core.demo import DEMO_PASSWORD
from core.models import Organisation, Role
from core.services import user_create
from inspectors import demo
from inspectors.models import Conflict, Inspector

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_the_demo_registry_is_believable_and_idempotent(orgs, county, make_source):
    user = user_create(
        actor=None,
        username="wuzhi_inspector",
        password=DEMO_PASSWORD,
        role=Role.INSPECTOR,
        organisation=county,
    )
    make_source(county)
    make_source(county)
    demo.seed(stdout=io.StringIO(), rng=random.Random(1))

    per_org = Counter(Inspector.objects.values_list("organisation__kind", "organisation_id"))
    counties = Organisation.objects.filter(kind=Organisation.Kind.COUNTY_BUREAU)
    for org in counties:
        staff = Inspector.objects.filter(organisation=org, kind="enforcement").count()
        experts = Inspector.objects.filter(organisation=org, kind="expert").count()
        assert 20 <= staff <= 40 and 1 <= experts <= 3, org
    for org in Organisation.objects.filter(kind=Organisation.Kind.CITY_TEAM):
        assert 28 <= Inspector.objects.filter(organisation=org).count() <= 34
    assert sum(per_org.values()) == Inspector.objects.count()

    today = timezone.localdate()
    enforcement = Inspector.objects.filter(kind="enforcement")
    on_staff = enforcement.filter(on_staff=True).count() / enforcement.count()
    assert 0.78 < on_staff < 0.92
    assert enforcement.with_certificate_status("expired", today).exists()
    assert enforcement.with_certificate_status("expiring", today).exists()
    assert all(
        len(n) == 14 and n.isdigit()
        for n in enforcement.values_list("certificate_number", flat=True)
    )
    assert Conflict.objects.filter(inspector__organisation=county).exists()

    linked = Inspector.objects.get(user=user)
    assert linked.organisation == county and linked.is_certified(today)

    before = Inspector.objects.count(), Conflict.objects.count()
    demo.seed(stdout=io.StringIO(), rng=random.Random(2))
    assert (Inspector.objects.count(), Conflict.objects.count()) == before
