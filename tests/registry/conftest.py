"""Registry fixtures: a valid credit code maker and sources of the two counties."""

from __future__ import annotations

import itertools

import pytest

from core.uscc import make_uscc

_serial = itertools.count(1)


def uscc_for(region: str = "410823") -> str:
    """A valid credit code in ``region`` (a fresh body each call)."""
    return make_uscc("91", region, f"MA{next(_serial):07d}")


def source_data(**overrides) -> dict:
    n = next(_serial)
    data = {
        "source_code": f"T{n:06d}",
        "name": f"测试化工有限公司{n}号厂区",
        "company_name": f"测试化工有限公司{n}",
        "uscc": uscc_for(),
        "supervision_class": "general",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_source(county):
    """Create a source through the service (as the system) in ``county`` unless told otherwise."""
    from registry.services import source_create

    def make(organisation=None, **overrides):
        return source_create(
            actor=None, organisation=organisation or county, data=source_data(**overrides)
        )

    return make


@pytest.fixture
def source(make_source):
    return make_source(name="武陟县示例化工有限公司一厂", company_name="武陟县示例化工有限公司")


@pytest.fixture
def other_source(make_source, other_county):
    return make_source(
        organisation=other_county,
        name="温县示例造纸有限公司",
        company_name="温县示例造纸有限公司",
        uscc=uscc_for("410825"),
    )
