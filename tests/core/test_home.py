"""Every role's home page: no card without content, the calendar warning only for those who
can act on it, and the site's icon."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test.html import Element, parse_html

from core.models import CalendarYear

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "county_clerk",
    "county_leader",
    "inspector_a",
    "city_reviewer",
    "province_viewer",
    "sysadmin",
]


def _classes(element: Element) -> set[str]:
    return set((dict(element.attributes).get("class") or "").split())


def _walk(node):
    if isinstance(node, Element):
        yield node
        for child in node.children:
            yield from _walk(child)


def _text(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(_text(child) for child in node.children)


def _cards(html: str) -> list[Element]:
    """The outermost elements with the class ``card`` (a card inside a card is its content)."""
    found: list[Element] = []

    def visit(node):
        if not isinstance(node, Element):
            return
        if "card" in _classes(node):
            found.append(node)
            return
        for child in node.children:
            visit(child)

    visit(parse_html(html))
    return found


def _links(card: Element) -> list[str]:
    return [
        dict(e.attributes)["href"]
        for e in _walk(card)
        if e.name == "a" and dict(e.attributes).get("href")
    ]


def _figures(card: Element) -> list[str]:
    return [
        _text(e).strip()
        for e in _walk(card)
        if "display-6" in _classes(e)
        or (dict(e.attributes).get("data-testid") or "").startswith("card-")
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_home_card_is_empty(request, client, persona):
    """A card shows a figure or leads to a page the user can open; a title and a sentence on
    their own (the leader's old "waiting for your approval" and "quotas and deadlines") are
    not content."""
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    page = client.get("/")
    assert page.status_code == 200
    cards = _cards(page.content.decode())
    assert cards, "every home page shows something"
    for card in cards:
        label = " ".join(_text(card).split())[:60]
        links = _links(card)
        figures = _figures(card)
        assert all(href != "#" for href in links), f"a card that leads nowhere: {label}"
        assert links or any(figures), f"an empty card: {label}"
        assert all(figures), f"a card with a blank figure: {label}"
        for href in links:
            assert client.get(href).status_code == 200, f"{label}: {href}"


@pytest.mark.parametrize("persona", ["county_clerk", "inspector_a", "county_leader"])
def test_the_missing_calendar_is_not_shown_to_those_who_cannot_load_it(request, client, persona):
    assert not CalendarYear.objects.exists()
    client.force_login(request.getfixturevalue(persona))
    html = client.get("/").content.decode()
    assert 'data-testid="calendar-warning"' not in html
    assert "节假日安排" not in html


def test_an_administrator_is_told_which_calendar_years_are_missing(client, sysadmin):
    from django.utils import timezone

    this_year = timezone.localdate().year
    CalendarYear.objects.create(year=this_year, source="test")
    client.force_login(sysadmin)
    html = client.get("/").content.decode()
    assert 'data-testid="calendar-warning"' in html
    assert str(this_year + 1) in html
    status = html.split('data-testid="calendar-status"', 1)[1].split("</p>", 1)[0]
    assert str(this_year + 1) in status and str(this_year) + "," not in status
    # Once both years are loaded the warning goes.
    CalendarYear.objects.create(year=this_year + 1, source="test")
    html = client.get("/").content.decode()
    assert 'data-testid="calendar-warning"' not in html


def test_the_site_has_its_own_icon(client):
    icon = finders.find("favicon.svg")
    assert icon, "static/favicon.svg"
    root = ElementTree.parse(icon).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    html = client.get("/").content.decode()
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response.url == static("favicon.svg")
