"""Which sources a draw took stays confidential until the draw is disclosed: the obligations
and notifications about a drawn check (its result to enter, to publish) name the task, not
the source, while the draw is undisclosed. They are read by the city team's reviewers (an
escalation, the obligation list) and the province, who may not see the list before then
(``lottery.selectors.can_see_full_result``); the team and the bureau open the task's link."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from deadlines.models import Notification, Obligation
from deadlines.services import deadlines_run
from inspections.models import InspectionTask
from lottery.selectors import can_see_full_result

pytestmark = pytest.mark.django_db
K = Obligation.Kind


def test_no_obligation_or_notification_names_a_source_of_an_undisclosed_draw(
    calendar_loaded, county, task, county_leader, city_reviewer, province_viewer, client_for
):
    draw = task.selection.draw
    source = task.source
    assert draw.disclosed_at is None and not can_see_full_result(city_reviewer, draw)
    InspectionTask.objects.filter(pk=task.pk).update(
        handling_ended_on=date(2025, 9, 26), state=InspectionTask.State.RECORDED
    )
    deadlines_run(today=date(2025, 10, 9))
    deadlines_run(today=date(2025, 10, 14))  # overdue: escalated to the city team
    deadlines_run(today=date(2025, 10, 31))
    entry = Obligation.objects.get(kind=K.RESULT_ENTRY, task=task)
    publication = Obligation.objects.get(kind=K.RESULT_PUBLICATION, task=task)
    escalated = Notification.objects.filter(recipient=city_reviewer, stage="escalation")
    assert escalated.filter(obligation__in=[entry, publication]).count() == 2
    names = (source.name, source.source_code, source.company_name, source.uscc)

    said = [entry.title, publication.title]
    said += list(Notification.objects.values_list("text", flat=True))
    said += [m.subject + m.body for m in mail.outbox]
    assert not [s for s in said for n in names if n in s]
    assert str(task.pk) in entry.title and draw.number in entry.title
    for user in (city_reviewer, province_viewer):
        page = client_for(user).get(reverse("deadlines:obligation_list")).content.decode()
        assert entry.title in page or publication.title in page or user == province_viewer
        assert not [n for n in names if n in page]

    # Once the draw is disclosed, what is still to be told names the source again.
    from lottery.services import draws_disclose_due

    draws_disclose_due(today=draw.plan.planned_end.replace(year=2099))
    Obligation.objects.filter(pk=entry.pk).update(state=Obligation.State.OPEN)
    deadlines_run(today=date(2025, 10, 31))
    entry.refresh_from_db()
    assert source.name in entry.title
