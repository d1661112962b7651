"""Builders for the inspector tests: real services, no fixtures that bypass them."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone

from core.uscc import make_uscc

_numbers = itertools.count(1)


def certificate_number(org) -> str:
    return f"{org.division_code}2023{next(_numbers):04d}"


@pytest.fixture
def today() -> date:
    return timezone.localdate()


@pytest.fixture
def make_inspector(today):
    """``make_inspector(org, name=..., **fields)``: an enforcement inspector through the service."""
    from inspectors.services import inspector_create

    def make(org, name="张伟", **fields):
        data = {
            "name": name,
            "kind": "enforcement",
            "certificate_number": certificate_number(org),
            "certificate_valid_until": today + timedelta(days=365),
            "on_staff": True,
        }
        if fields.get("kind") == "expert":
            data["certificate_number"] = ""
            data["certificate_valid_until"] = None
        data.update(fields)
        return inspector_create(actor=None, organisation=org, data=data)

    return make


@pytest.fixture
def make_source():
    """``make_source(org, company=..., uscc=...)``: a pollution source of ``org``."""
    from registry.models import PollutionSource

    counter = itertools.count(1)

    def make(org, *, company="焦作市某化工有限公司", uscc=None, name=None):
        n = next(counter)
        if uscc is None:
            uscc = make_uscc("91", org.division_code, f"MA{n:07d}")
        return PollutionSource.objects.create(
            organisation=org,
            source_code=f"T{org.division_code}{n:05d}",
            name=name or f"{company}{n}号厂区",
            company_name=company,
            uscc=uscc,
            county_code=org.division_code,
        )

    return make
