"""The only writers of core data. Each call is atomic and leaves an audit entry."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from core.audit import audit_record, model_snapshot
from core.errors import ServiceError
from core.fields import not_a_date_message
from core.models import CalendarDay, CalendarYear, Organisation, Role, User


@dataclass(frozen=True)
class SpecialDay:
    date: date
    kind: str  # CalendarDay.Kind
    name: str = ""


def calendar_load_year(
    *, actor: User | None, year: int, days: list[SpecialDay], source: str, notice: str = ""
) -> CalendarYear:
    """Replace ``year``'s holidays and adjusted working days, and mark the year covered.

    All-or-nothing: every day must fall in ``year`` and carry a known kind, and a date may
    appear only once; otherwise nothing changes.
    """
    seen: set[date] = set()
    for day in days:
        if day.date.year != year:
            raise ServiceError(_("%(date)s is not in %(year)s.") % {"date": day.date, "year": year})
        if day.kind not in CalendarDay.Kind.values:
            raise ServiceError(_("Unknown day type: %(kind)s.") % {"kind": day.kind})
        if day.date in seen:
            raise ServiceError(_("%(date)s appears twice.") % {"date": day.date})
        if day.kind == CalendarDay.Kind.ADJUSTED_WORKDAY and day.date.weekday() < 5:
            raise ServiceError(
                _("%(date)s is a weekday: only a weekend day can be an adjusted working day.")
                % {"date": day.date}
            )
        seen.add(day.date)
    with transaction.atomic():
        before = [
            [d.isoformat(), k]
            for d, k in CalendarDay.objects.filter(date__year=year)
            .order_by("date")
            .values_list("date", "kind")
        ]
        CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(date=d.date, kind=d.kind, name=d.name[:40]) for d in days
        )
        calendar_year, _created = CalendarYear.objects.update_or_create(
            year=year, defaults={"source": source[:200], "notice": notice[:300]}
        )
        audit_record(
            actor=actor,
            action="calendar.load_year",
            obj=calendar_year,
            before={"days": before},
            after={
                "days": [[d.date.isoformat(), d.kind] for d in sorted(days, key=lambda x: x.date)],
                "source": source,
            },
        )
    return calendar_year


# chinesecalendar names holidays in English; the calendar shows the official Chinese names.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def calendar_seed_from_library(
    *, actor: User | None = None, years: list[int] | None = None
) -> list[int]:
    """Load the years the ``chinesecalendar`` package knows (the official notices to date).

    Years already loaded are left alone unless named in ``years``: an administrator's edits
    must not be overwritten by a routine re-seed.
    """
    from chinese_calendar import constants

    by_year: dict[int, list[SpecialDay]] = {}
    for table, kind in (
        (constants.holidays, CalendarDay.Kind.HOLIDAY),
        (constants.workdays, CalendarDay.Kind.ADJUSTED_WORKDAY),
    ):
        for day, english in table.items():
            name = HOLIDAY_NAMES_ZH.get(english, english)
            by_year.setdefault(day.year, []).append(SpecialDay(day, kind, name))
    existing = set(CalendarYear.objects.values_list("year", flat=True))
    loaded = []
    for year in sorted(by_year):
        if years is not None and year not in years:
            continue
        if years is None and year in existing:
            continue
        calendar_load_year(
            actor=actor, year=year, days=by_year[year], source="chinesecalendar 1.11.0"
        )
        loaded.append(year)
    return loaded


CSV_KINDS = {
    "holiday": CalendarDay.Kind.HOLIDAY,
    "adjusted_workday": CalendarDay.Kind.ADJUSTED_WORKDAY,
    "休": CalendarDay.Kind.HOLIDAY,
    "班": CalendarDay.Kind.ADJUSTED_WORKDAY,
}


def calendar_parse_csv(text: str) -> dict[int, list[SpecialDay]]:
    """Parse ``date,…,name,type`` rows (the columns of the official-calendar CSV).

    Required columns: ``date`` (YYYY-MM-DD) and ``type`` (holiday / adjusted_workday, or 休 /
    班); ``name`` is optional. Every bad row is reported by its line number.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"date", "type"} <= set(reader.fieldnames):
        raise ServiceError(_("The file needs the columns “date” and “type”."))
    by_year: dict[int, list[SpecialDay]] = {}
    errors = []
    for line, row in enumerate(reader, start=2):
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            errors.append(
                _("Line %(line)s: %(problem)s")
                % {"line": line, "problem": not_a_date_message(row.get("date"))}
            )
            continue
        kind = CSV_KINDS.get((row.get("type") or "").strip())
        if kind is None:
            errors.append(
                _("Line %(line)s: unknown type “%(value)s”.")
                % {"line": line, "value": row.get("type")}
            )
            continue
        by_year.setdefault(day.year, []).append(
            SpecialDay(day, kind, (row.get("name") or "").strip())
        )
    if errors:
        raise ServiceError(errors)
    if not by_year:
        raise ServiceError(_("The file contains no days."))
    return by_year


def calendar_import_csv(*, actor: User | None, text: str, source: str) -> list[int]:
    """Import whole years from a CSV file; each year in the file replaces that year."""
    by_year = calendar_parse_csv(text)
    with transaction.atomic():
        for year, days in sorted(by_year.items()):
            calendar_load_year(actor=actor, year=year, days=days, source=source)
    return sorted(by_year)


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    organisation: Organisation | None,
    display_name: str = "",
    password_hash: str | None = None,
) -> object:
    """Create a staff account. Every role but the administrator belongs to an organisation.

    ``password_hash`` stores an already hashed password instead of hashing ``password``.
    """
    User = get_user_model()
    if role not in Role.values:
        raise ServiceError(_("Unknown role: %(role)s.") % {"role": role})
    if organisation is None and role != Role.ADMIN:
        raise ServiceError(_("Every user except an administrator belongs to an organisation."))
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise ServiceError(_("The user name %(name)s is taken.") % {"name": username})
        user = User(
            username=username,
            role=role,
            organisation=organisation,
            display_name=display_name,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        if password_hash is not None:  # already hashed (demo data: one hash for all accounts)
            user.password = password_hash
        else:
            user.set_password(password)
        user.save()
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            after=model_snapshot(user, ["username", "role", "organisation", "display_name"]),
        )
    return user


def organisation_grant_view(*, actor: User, user, organisation: Organisation) -> None:
    """Open one more organisation's records to ``user`` (an object-level guardian grant)."""
    with transaction.atomic():
        assign_perm("core.view_organisation", user, organisation)
        audit_record(
            actor=actor,
            action="organisation.grant_view",
            obj=organisation,
            after={"user": user.pk, "username": user.username},
        )
