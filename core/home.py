"""Figures on each role's home page, contributed by the apps.

Each app may define ``<app>/home.py`` with ``cards(user) -> list[Card]``; the home page shows
the cards of every app in INSTALLED_APPS order. Core never imports the apps above it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from django.apps import apps


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    value: str
    note: str = ""
    url: str = ""
    tone: str = ""  # "", "warning", "danger", "success"


@cache
def _providers():
    providers = []
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.home")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.home":
                raise
            continue
        if hasattr(module, "cards"):  # core's own home.py is this module
            providers.append(module.cards)
    return providers


def home_cards(user) -> list[Card]:
    cards: list[Card] = []
    for provider in _providers():
        cards.extend(provider(user))
    return cards
