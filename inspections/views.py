"""Inspection pages: the inspector's tasks, the record, approval, the ledger, evidence, PDFs.

Every view reads through ``inspections.selectors`` (404 for what the user may not see) and
writes through ``inspections.services`` (a refusal is shown, and nothing changed).
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ServiceError
from core.request_types import AuthenticatedHttpRequest
from core.roles import Cap, user_can
from inspections import services
from inspections.forms import (
    BoardFilterForm,
    CorrectionForm,
    EvidenceForm,
    FollowOnForm,
    JointForm,
    ProblemForm,
    ReasonForm,
    RecordForm,
    TargetedForm,
    VerifyForm,
    record_initial,
)
from inspections.models import RESULT_HELP, Evidence, InspectionTask, Problem
from inspections.selectors import (
    deadline_state,
    due_soon_limit,
    earlier_results,
    joint_inspection_counts,
    record_current,
    record_draft,
    task_evidence,
    task_get_for_user,
    task_list_for_user,
    task_team,
)
from registry.selectors import source_history

State = InspectionTask.State
ROLE_ORDER = {"leader": 0, "member": 1, "expert": 2}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _refused(request: HttpRequest, exc: ServiceError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_refused(request: HttpRequest, form) -> None:
    """A form posted from the task page: its errors become messages there."""
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)


def _inspector_of(user):
    from inspectors.models import Inspector

    return Inspector.objects.filter(user_id=getattr(user, "pk", None)).first()


def _on_team(user, task: InspectionTask, team) -> bool:
    inspector = _inspector_of(user)
    if inspector is None or not user_can(user, Cap.ENTER_RESULTS):
        return False
    if task.selection_id is None:
        return inspector.organisation_id == task.organisation_id
    return any(a.inspector_id == inspector.pk for a in team)


def _is_leader(user, task: InspectionTask) -> bool:
    return user_can(user, Cap.APPROVE) and user.organisation_id == task.organisation_id


def _team_inspectors(task: InspectionTask, team) -> list:
    if task.selection_id is None:
        from inspectors.models import Inspector

        return list(
            Inspector.objects.filter(organisation_id=task.organisation_id)
            .exclude(certificate_number="")
            .order_by("name")
        )
    return [a.inspector for a in sorted(team, key=lambda a: ROLE_ORDER.get(a.role, 3))]


# --- lists -----------------------------------------------------------------------------------


@login_required
def my_tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The inspector's tasks, made for a phone: open ones first, each a large card."""
    if not user_can(request.user, Cap.OWN_TASKS):
        raise PermissionDenied
    today = timezone.localdate()
    soon = due_soon_limit(today)
    tasks = list(
        task_list_for_user(user=request.user)
        .exclude(state=State.CANCELLED)
        .select_related("selection__draw", "organisation")
        .order_by("state", "period_end", "pk")[:500]
    )
    order: dict[str, int] = {
        State.IN_PROGRESS: 0,
        State.ASSIGNED: 1,
        State.RECORDED: 2,
        State.SUBMITTED: 3,
    }
    tasks.sort(key=lambda t: (order.get(t.state, 4), t.period_end, t.pk))
    rows = [{"task": t, "deadline": deadline_state(t, today, soon)} for t in tasks]
    if any(t.selection_id for t in tasks):
        services.read_record(
            actor=request.user,
            action="inspection.view_own_tasks",
            tasks=[t.pk for t in tasks if t.selection_id],
        )
    return render(request, "inspections/my_tasks.html", {"rows": rows})


@login_required
def task_board(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clerk's board: every task of the bureau (or of one draw) with state and deadline."""
    if not (user_can(request.user, Cap.VIEW_DRAWS) or user_can(request.user, Cap.APPROVE)):
        raise PermissionDenied
    form = BoardFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    if form.is_bound and not form.is_valid():
        messages.warning(request, _("Some filters made no sense and were ignored."))
    today = timezone.localdate()
    tasks = task_list_for_user(user=request.user).select_related(
        "source", "selection__draw", "organisation"
    )
    if filters.get("state"):
        tasks = tasks.filter(state=filters["state"])
    if filters.get("kind"):
        tasks = tasks.filter(kind=filters["kind"])
    if filters.get("draw"):
        tasks = tasks.filter(selection__draw_id=filters["draw"])
    if filters.get("late"):
        tasks = tasks.filter(entry_due__lt=today).exclude(
            state__in=[State.SUBMITTED, State.APPROVED, State.CANCELLED]
        )
    if filters.get("q"):
        q = filters["q"].strip()
        tasks = tasks.filter(
            Q(source__name__icontains=q)
            | Q(source__source_code__icontains=q)
            | Q(source__company_name__icontains=q)
        )
    counts = {s: 0 for s in State.values}
    for row in tasks.order_by().values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    page = Paginator(tasks.order_by("-period_start", "pk"), 50).get_page(filters.get("page"))
    soon = due_soon_limit(today)
    rows = [{"task": t, "deadline": deadline_state(t, today, soon)} for t in page.object_list]
    drawn = [t.pk for t in page.object_list if t.selection_id]
    if drawn:  # a drawn list, even a page of it, is confidential until disclosure
        services.read_record(actor=request.user, action="inspection.view_tasks", tasks=drawn)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inspections/board.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "counts": [(State(s).label, s, n) for s, n in counts.items()],
            "query": query.urlencode(),
            "can_open": user_can(request.user, Cap.OPERATE_DRAW),
            "joint": joint_inspection_counts(
                organisation_ids=[request.user.organisation_id], year=today.year
            )
            if request.user.organisation_id
            else None,
            "kinds": dict(tasks.order_by().values_list("kind").annotate(n=Count("pk"))),
        },
    )


# --- one task --------------------------------------------------------------------------------


def _task_context(request: AuthenticatedHttpRequest, task: InspectionTask) -> dict:
    team = task_team(task)
    record = record_current(task)
    user = request.user
    on_team = _on_team(user, task, team)
    leader = _is_leader(user, task)
    problems = list(task.problems.select_related("check_item"))
    today = timezone.localdate()
    return {
        "task": task,
        "team": sorted(team, key=lambda a: ROLE_ORDER.get(a.role, 3)),
        "record": record,
        "records": list(task.records.order_by("-version").select_related("created_by")),
        "findings": list(record.findings.select_related("check_item")) if record else [],
        "members": list(record.members.all()) if record else [],
        "items": list(task.check_items.order_by("code")),
        "problems": problems,
        "evidence": task_evidence(task),
        "earlier": earlier_results(task),
        "history": list(source_history(source=task.source)[:10]),
        "follow_ons": list(task.follow_on_checks.all()),
        "deadline": deadline_state(task, today, due_soon_limit(today)),
        "on_team": on_team,
        "leader": leader,
        "result_help": RESULT_HELP.get(record.result_type) if record and record.result_type else "",
        "can_open_follow_on": user_can(user, Cap.OPERATE_DRAW)
        and user.organisation_id == task.organisation_id,
        "can_edit": on_team and task.state in (State.ASSIGNED, State.IN_PROGRESS, State.RECORDED),
        "evidence_form": EvidenceForm(problems=problems),
        "problem_form": ProblemForm(items=task.check_items.all()),
        "verify_form": VerifyForm(),
        "return_form": ReasonForm(),
        "correction_form": CorrectionForm(),
        "joint_form": JointForm(
            initial={
                "joint": task.joint,
                "joint_sections": task.joint_sections
                or ", ".join(
                    sorted({i.responsible_section for i in task.check_items.all()} - {""})
                ),
                "joint_authorities": task.joint_authorities
                or ", ".join(
                    sorted({i.cooperating_sections for i in task.check_items.all()} - {""})
                ),
            }
        ),
        "follow_on_form": FollowOnForm(
            initial={"period_start": today, "period_end": task.period_end}
        ),
    }


@login_required
def task_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Preparation (source, history, earlier results, items) and the record as it stands."""
    task = task_get_for_user(user=request.user, pk=pk)
    if task.selection_id:
        services.read_record(actor=request.user, action="inspection.view_task", obj=task)
    return render(request, "inspections/task_detail.html", _task_context(request, task))


def _action(request, pk, call, done: str):
    task = task_get_for_user(user=request.user, pk=pk)
    try:
        call(task)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, done)
    return redirect("inspections:task_detail", pk=task.pk)


@login_required
@require_POST
def task_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        lambda t: services.task_start(actor=request.user, task=t),
        _("The inspection has started."),
    )


@login_required
@require_POST
def task_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        lambda t: services.task_submit(actor=request.user, task=t),
        _("The record was submitted to the leader for approval."),
    )


@login_required
@require_POST
def task_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        lambda t: services.task_approve(actor=request.user, task=t),
        _("The result was approved."),
    )


@login_required
@require_POST
def task_return(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _action(
        request,
        pk,
        lambda t: services.task_return(actor=request.user, task=t, reason=reason),
        _("The record was returned to the team."),
    )


@login_required
@require_POST
def result_correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        task = task_get_for_user(user=request.user, pk=pk)
        _form_refused(request, form)
        return redirect("inspections:task_detail", pk=task.pk)
    return _action(
        request,
        pk,
        lambda t: services.result_correct(actor=request.user, task=t, **form.cleaned_data),
        _("The correction was saved as a new approved version."),
    )


@login_required
@require_POST
def task_joint(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    form = JointForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    return _action(
        request,
        pk,
        lambda t: services.task_set_joint(
            actor=request.user,
            task=t,
            joint=data.get("joint", False),
            sections=data.get("joint_sections", ""),
            authorities=data.get("joint_authorities", ""),
        ),
        _("The joint inspection was recorded."),
    )


# --- the record form -------------------------------------------------------------------------


@login_required
def record_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = task_get_for_user(user=request.user, pk=pk)
    team = task_team(task)
    if not _on_team(request.user, task, team):
        raise PermissionDenied
    inspectors = _team_inspectors(task, team)
    items = list(task.check_items.order_by("code"))
    current = record_current(task)
    draft = None
    if request.method == "POST":
        form = RecordForm(request.POST, task=task, team=inspectors, items=items)
        if form.is_valid():
            try:
                services.record_save(actor=request.user, task=task, **form.service_kwargs())
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("The record was saved."))
                return redirect("inspections:task_detail", pk=task.pk)
        # Refused: keep what they typed, server-side too, so nothing is lost.
        with contextlib.suppress(ServiceError):
            services.draft_save(
                actor=request.user,
                task=task,
                base_version=current.version if current else 0,
                data=request.POST.dict() | {"members": request.POST.getlist("members")},
            )
    else:
        draft = record_draft(task, request.user)
        if draft is not None:  # bound: the draft's problems show at once
            form = RecordForm(
                _draft_data(draft.data, current), task=task, team=inspectors, items=items
            )
        else:
            form = RecordForm(
                initial=record_initial(current), task=task, team=inspectors, items=items
            )
    return render(
        request,
        "inspections/record_form.html",
        {
            "task": task,
            "form": form,
            "items": items,
            "current": current,
            "draft": draft,
            "stale_draft": draft is not None
            and draft.base_version != (current.version if current else 0),
        },
    )


def _draft_data(data: dict, current):
    from django.http import QueryDict

    q = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            q.setlist(key, [str(v) for v in value])
        else:
            q[key] = str(value)
    # The draft is offered over the version as it is now; saving checks that version.
    q["expected_version"] = str(current.version if current else 0)
    return q


@login_required
@require_POST
def record_autosave(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """htmx: keep the form as typed, a few seconds after each change (no version is made)."""
    task = task_get_for_user(user=request.user, pk=pk)
    try:
        base = int(request.POST.get("expected_version", "0"))
    except ValueError:
        base = 0
    try:
        draft = services.draft_save(
            actor=request.user,
            task=task,
            base_version=base,
            data=request.POST.dict() | {"members": request.POST.getlist("members")},
        )
    except ServiceError as exc:
        return HttpResponse(
            f'<span class="text-danger">{" ".join(exc.messages)}</span>', status=200
        )
    return render(request, "inspections/_draft_status.html", {"draft": draft})


# --- ledger ----------------------------------------------------------------------------------


@login_required
@require_POST
def problem_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = task_get_for_user(user=request.user, pk=pk)
    form = ProblemForm(request.POST, items=task.check_items.all())
    if not form.is_valid():
        _form_refused(request, form)
        return redirect("inspections:task_detail", pk=task.pk)
    return _action(
        request,
        pk,
        lambda t: services.problem_add(actor=request.user, task=t, **form.service_kwargs()),
        _("The problem was entered in the follow-up ledger."),
    )


def _problem(request, pk: int, problem_pk: int) -> tuple[InspectionTask, Problem]:
    task = task_get_for_user(user=request.user, pk=pk)
    problem = task.problems.filter(pk=problem_pk).first()
    if problem is None:
        raise Http404
    return task, problem


@login_required
@require_POST
def problem_verify(request: AuthenticatedHttpRequest, pk: int, problem_pk: int) -> HttpResponse:
    task, problem = _problem(request, pk, problem_pk)
    form = VerifyForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {"evidence": "", "verification": ""}
    return _action(
        request,
        pk,
        lambda t: services.problem_verify(actor=request.user, problem=problem, **data),
        _("The rectification was verified."),
    )


@login_required
@require_POST
def problem_close(request: AuthenticatedHttpRequest, pk: int, problem_pk: int) -> HttpResponse:
    task, problem = _problem(request, pk, problem_pk)
    return _action(
        request,
        pk,
        lambda t: services.problem_close(actor=request.user, problem=problem),
        _("The problem was closed."),
    )


# --- evidence --------------------------------------------------------------------------------


@login_required
@require_POST
def evidence_upload(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    task = task_get_for_user(user=request.user, pk=pk)
    problems = list(task.problems.all())
    form = EvidenceForm(request.POST, request.FILES, problems=problems)
    if not form.is_valid():
        _form_refused(request, form)
        return redirect("inspections:task_detail", pk=task.pk)
    problem = next((p for p in problems if p.pk == form.cleaned_data["problem"]), None)
    return _action(
        request,
        pk,
        lambda t: services.evidence_add(
            actor=request.user,
            task=t,
            upload=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
            problem=problem,
        ),
        _("The file was attached."),
    )


@login_required
def evidence_download(request: AuthenticatedHttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    """Only for those who may see the task; every download is recorded."""
    task = task_get_for_user(user=request.user, pk=pk)
    evidence = Evidence.objects.filter(task=task, pk=evidence_pk).first()
    if evidence is None:
        raise Http404
    services.read_record(actor=request.user, action="inspection.evidence_download", obj=evidence)
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=not evidence.is_image or request.GET.get("download") == "1",
        filename=f"evidence-{evidence.pk}{evidence.kind_suffix()}",
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


# --- targeted checks -------------------------------------------------------------------------


@login_required
def targeted_open(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A clerk opens a non-random check on a source of the bureau, naming its trigger."""
    if not user_can(request.user, Cap.OPERATE_DRAW):
        raise PermissionDenied
    from registry.selectors import source_list_for_user

    today = timezone.localdate()
    form = TargetedForm(request.POST or None, initial={"period_start": today, "period_end": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = (
            source_list_for_user(user=request.user)
            .filter(source_code=data["source_code"].strip(), organisation=request.user.organisation)
            .first()
        )
        if source is None:
            form.add_error("source_code", _("No source of your bureau has this code."))
        else:
            try:
                task = services.task_open_targeted(
                    actor=request.user,
                    source=source,
                    trigger=data["trigger"],
                    detail=data["detail"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("The targeted check was opened."))
                return redirect("inspections:task_detail", pk=task.pk)
    return render(request, "inspections/targeted_form.html", {"form": form})


@login_required
@require_POST
def follow_on_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """From an off-site task: a clue opens a linked on-site targeted check (004 §二(六))."""
    task = task_get_for_user(user=request.user, pk=pk)
    form = FollowOnForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return redirect("inspections:task_detail", pk=task.pk)
    try:
        new = services.task_open_from_off_site(actor=request.user, task=task, **form.cleaned_data)
    except ServiceError as exc:
        _refused(request, exc)
        return redirect("inspections:task_detail", pk=task.pk)
    messages.success(request, _("An on-site check was opened from the off-site clue."))
    return redirect("inspections:task_detail", pk=new.pk)


# --- PDFs ------------------------------------------------------------------------------------


PDF_KINDS = ("approval", "record", "report")


@login_required
def task_pdf(request: AuthenticatedHttpRequest, pk: int, kind: str) -> HttpResponse:
    from core.fonts import cjk_font_available
    from inspections import pdf

    task = task_get_for_user(user=request.user, pk=pk)
    if kind not in PDF_KINDS:
        raise Http404
    if kind == "report" and record_current(task) is None:
        messages.error(request, _("There is no record yet to report."))
        return redirect("inspections:task_detail", pk=task.pk)
    if not cjk_font_available():
        messages.error(
            request,
            _(
                "No Chinese font is installed on the server: the PDF cannot be made (fonts-noto-cjk)."
            ),
        )
        return redirect("inspections:task_detail", pk=task.pk)
    services.read_record(actor=request.user, action=f"inspection.pdf_{kind}", obj=task)
    body = pdf.task_pdf(task, kind)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="task-{task.pk}-{kind}.pdf"'
    return response
