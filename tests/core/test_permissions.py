import pytest

from core.models import Organisation
from core.selectors import organisations_visible_to
from core.services import organisation_grant_view

pytestmark = pytest.mark.smoke


def test_a_county_clerk_sees_only_their_county(county_clerk, county):
    assert list(organisations_visible_to(county_clerk)) == [county]


def test_the_city_team_sees_its_city_and_every_county_in_it(city_reviewer, orgs):
    visible = set(organisations_visible_to(city_reviewer).values_list("division_code", flat=True))
    assert "410823" in visible and "410825" in visible and "410800" in visible
    assert not any(code.startswith("1411") for code in visible)


def test_the_province_sees_its_whole_province_only(province_viewer):
    codes = set(organisations_visible_to(province_viewer).values_list("division_code", flat=True))
    assert codes and all(code.startswith("41") for code in codes)


def test_the_public_sees_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    assert not organisations_visible_to(AnonymousUser()).exists()


def test_a_clerk_gets_404_on_another_countys_object(client_for, county_clerk, other_county, county):
    client = client_for(county_clerk)
    assert client.get(f"/api/v1/organisations/{county.pk}/").status_code == 200
    assert client.get(f"/api/v1/organisations/{other_county.pk}/").status_code == 404


def test_a_guardian_grant_opens_exactly_one_more_organisation(county_clerk, other_county, orgs):
    organisation_grant_view(actor=None, user=county_clerk, organisation=other_county)
    visible = set(organisations_visible_to(county_clerk))
    assert other_county in visible
    assert len(visible) == 2


def test_an_inactive_user_sees_nothing(county_clerk):
    county_clerk.is_active = False
    assert not organisations_visible_to(county_clerk).exists()


def test_organisation_codes_must_be_six_digits(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="x", kind="county_bureau", division_code="4108")
