"""Writing an executed draw's rows: the drawn sources and their teams, written while the
engine computes (``_draw_and_store``), and each team member's grant to see their task.
Used by the ceremony (``draw_execute``) and by approved substitutions."""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
from collections import Counter, defaultdict
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from core.bulk import SideJob, copy_insert, copy_text
from core.errors import ServiceError
from inspectors.models import Inspector
from lottery import engine
from lottery.models import Draw, DrawSelection, TeamAssignment
from lottery.pools import frozen_pool
from registry.models import PollutionSource

# created_at is left to the database (its default: the transaction time).
_SELECTION_FIELDS = ["draw", "stratum", "position", "source", "mode", "joint"]
_TEAM_FIELDS = ["selection", "inspector", "role", "substitution"]
#: Team rows per COPY statement while the following teams are computed.
_TEAM_ROWS_PER_COPY = 4000


def _draw_and_store(draw: Draw, manifest: dict, seed: bytes) -> tuple[dict, list]:
    """Run the engine's selection and team assignment and store the result rows; return
    ``(objects, teams)`` as ``engine.select_objects`` and ``engine.assign_teams`` do.

    On PostgreSQL the database does its part while the engine computes, on the other core:
    a ``core.bulk.SideJob`` on the same connection reads the selections' ids from the table's
    sequence (the quotas say how many) while the first stratum is scored, then takes each
    stratum's drawn sources, then the team rows (made here, in COPY's text format) a few
    thousand at a time, and sends them by COPY; each statement checks its foreign keys as it
    ends. This thread only computes. Elsewhere the rows are written at the end.
    """
    off_site = set(manifest["draw"].get("off_site", []))
    joint = manifest["draw"].get("joint", {})

    def selection_rows(stratum: str, codes: list[str], source_of: dict) -> list[tuple]:
        missing = [code for code in codes if code not in source_of]
        if missing:  # the registry never deletes or renames a source, but SQL can
            raise _SourcesGone(sorted(missing))
        on_site, off = DrawSelection.Mode.ON_SITE.value, DrawSelection.Mode.OFF_SITE.value
        first_joint = joint.get(stratum, 0)
        return [
            (draw.pk, stratum, position, source_of[code], off if code in off_site else on_site)
            + (position <= first_joint,)
            for position, code in enumerate(codes, start=1)
        ]

    try:
        return _store_while_drawing(draw, manifest, seed, selection_rows)
    except _SourcesAmbiguous as gone:
        raise ServiceError(
            _(
                "Drawn codes now name more than one source of the pool: %(codes)s. Have the "
                "bureaus concerned correct them; the draw is refused until then."
            )
            % {"codes": "、".join(gone.codes[:10])}
        ) from None
    except _SourcesGone as gone:
        raise ServiceError(
            _("Drawn sources are no longer in the registry: %(codes)s. The draw is refused.")
            % {"codes": "、".join(gone.codes[:10])}
        ) from None


class _SourcesGone(Exception):
    def __init__(self, codes: list[str]):
        super().__init__(codes)
        self.codes = codes


class _SourcesAmbiguous(_SourcesGone):
    """Drawn codes that name more than one source of the pool's scope (a bureau registered
    the same code after the commitment): the draw cannot say which one was drawn."""


def _source_ids(rows: list[tuple[str, int, datetime]], prepared_at: datetime) -> dict[str, int]:
    """{code: source id} from (code, id, created_at) rows of the frozen pool. The preparation
    refused a code held twice, so a code with two rows has a twin registered since: the one
    that existed at the preparation is the drawn one; if that does not decide, refuse."""
    source_of = {code: pk for code, pk, _at in rows}
    if len(source_of) == len(rows):
        return source_of
    seen = Counter(code for code, _pk, _at in rows)
    ambiguous = []
    for code in (code for code, n in seen.items() if n > 1):
        then = [pk for c, pk, at in rows if c == code and at <= prepared_at]
        if len(then) == 1:
            source_of[code] = then[0]
        else:
            ambiguous.append(code)
    if ambiguous:
        raise _SourcesAmbiguous(sorted(ambiguous))
    return source_of


def _store_while_drawing(draw: Draw, manifest: dict, seed: bytes, selection_rows):
    """``_draw_and_store``'s work; ``selection_rows(stratum, codes, source_of)`` gives the
    rows of ``_SELECTION_FIELDS`` (raising ``_SourcesGone`` for a code not in the registry)."""
    objects: dict[str, list[str]]
    teams: list[dict]
    if connection.vendor != "postgresql":
        objects = engine.select_objects(seed, manifest)
        teams = engine.assign_teams(seed, manifest, objects)
        codes = [code for drawn in objects.values() for code in drawn]
        source_of = _source_ids(
            list(
                frozen_pool(draw)
                .filter(source_code__in=codes)
                .order_by()
                .values_list("source_code", "pk", "created_at")
            ),
            draw.prepared_at,
        )
        copy_insert(
            DrawSelection,
            _SELECTION_FIELDS,
            [
                row
                for name, drawn in objects.items()
                for row in selection_rows(name, drawn, source_of)
            ],
        )
        selection_ids = {
            (stratum, code): pk
            for pk, stratum, code in DrawSelection.objects.filter(draw=draw).values_list(
                "pk", "stratum", "source__source_code"
            )
        }
        _write_teams(selection_ids, teams)
        return objects, teams

    quote = connection.ops.quote_name
    work: queue.SimpleQueue = queue.SimpleQueue()
    free_ids: list[int] = []  # the selections' ids, in drawn order: filled by the writer
    ids_ready = threading.Event()
    ids_read: list[bool] = []  # [True] once free_ids is complete (it is empty for no quota)
    sources = quote(PollutionSource._meta.db_table)
    # A code is unique per bureau only: look it up among the sources of the frozen pool.
    prepared_at = draw.prepared_at
    scope_sql, scope_params = frozen_pool(draw).order_by().values("pk").query.sql_with_params()

    def write() -> None:  # on the SideJob's thread, with this thread's connection
        try:
            store()
        finally:
            ids_ready.set()  # however it ended: the computing thread must not wait forever

    def store() -> None:
        with connection.cursor() as cursor:
            # The ids first, while the first stratum is scored (the quotas say how many).
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [DrawSelection._meta.db_table, sum(s["quota"] for s in manifest["strata"])],
            )
            free_ids.extend(pk for (pk,) in cursor.fetchall())
            ids_read.append(True)
            ids_ready.set()
            # Check the foreign keys statement by statement, here, not all at the commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            while (job := work.get()) is not None:
                kind, data = job
                if kind == "teams":
                    copy_text(TeamAssignment, _TEAM_FIELDS, data)
                    continue
                stratum, first, codes = data
                cursor.execute(
                    f"SELECT source_code, id, created_at FROM {sources} "
                    f"WHERE source_code = ANY(%s) AND id IN ({scope_sql})",
                    [codes, *scope_params],  # one array, not 16,000 parameters
                )
                source_of = _source_ids(cursor.fetchall(), prepared_at)
                # COPY: for the database, cheaper per row than an INSERT … SELECT joined to
                # the registry (which would spare this thread the rows' Python).
                copy_insert(
                    DrawSelection,
                    ["id", *_SELECTION_FIELDS],
                    [
                        (pk, *row)
                        for pk, row in zip(
                            free_ids[first : first + len(codes)],
                            selection_rows(stratum, codes, source_of),
                            strict=True,
                        )
                    ],
                )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    objects = {}
    teams = []
    # Who may be granted their task is known before the draw: read it now, not after the
    # writer is done (the connection is the writer's meanwhile).
    users = _inspector_users(int(p["id"][1:]) for p in manifest["inspectors"]["pool"])
    pairs: list[tuple[int, int]] = []  # (selection, inspector) with an account
    writer = SideJob(write, name="draw-result-writer")
    try:
        # Every stratum's selection first (the database stores each while the next one is
        # scored), then the teams, a few thousand rows per statement.
        index_of: dict[tuple[str, str], int] = {}
        for stratum, codes in engine.iter_selected(seed, manifest):
            objects[stratum] = codes
            if codes:
                work.put(("selections", (stratum, len(index_of), codes)))
                index_of.update(zip(((stratum, c) for c in codes), itertools.count(len(index_of))))
        ids_ready.wait()
        if not ids_read:  # the writer failed: its error is raised below
            raise _WriterFailed
        # The team rows in COPY's text format, made here (ids, and roles without any
        # character COPY would escape), so that the writer only sends them.
        number_of = {p["id"]: str(int(p["id"][1:])) for p in manifest["inspectors"]["pool"]}
        leader, member, expert = (
            "\t" + TeamAssignment.Role.LEADER.value + "\t\\N\n",
            "\t" + TeamAssignment.Role.MEMBER.value + "\t\\N\n",
            "\t" + TeamAssignment.Role.EXPERT.value + "\t\\N\n",
        )
        lines: list[str] = []
        append = lines.append
        limit = min(_TEAM_ROWS_PER_COPY, 500)  # small at first: the database starts sooner
        for team in engine.iter_teams(seed, manifest, objects):
            teams.append(team)
            selection = free_ids[index_of[(team["stratum"], team["object"])]]
            text = str(selection)
            people = [team["leader"], *team["members"], *team["experts"]]
            numbers = [number_of.get(pid) or str(int(pid[1:])) for pid in people]
            append(text + "\t" + numbers[0] + leader)
            for number in numbers[1 : 1 + len(team["members"])]:
                append(text + "\t" + number + member)
            for number in numbers[1 + len(team["members"]) :]:
                append(text + "\t" + number + expert)
            if users:
                pairs += [(selection, int(number)) for number in numbers]
            if len(lines) >= limit:
                work.put(("teams", "".join(lines)))
                lines = []
                append = lines.append
                limit = min(2 * limit, _TEAM_ROWS_PER_COPY)
        work.put(("teams", "".join(lines)))
    except BaseException as exc:
        work.put(None)  # the writer stops; this thread's error is the one that counts
        if isinstance(exc, _WriterFailed):
            writer.wait()  # raises the writer's error
            raise AssertionError("the writer stopped without an error") from None
        with contextlib.suppress(Exception):
            writer.wait()
        raise
    work.put(None)
    writer.wait()  # the rows are in; re-raises the writer's error, if any
    if users:
        _grant_tasks(pairs, users)
    return objects, teams


class _WriterFailed(Exception):
    """The result writer stopped before the selections' ids were read (its error counts)."""


def _team_rows(selection_id: int, team: dict, substitution_id: int | None = None) -> list:
    """The rows of ``_TEAM_FIELDS`` for one team."""
    people = [(team["leader"], TeamAssignment.Role.LEADER)]
    people += [(m, TeamAssignment.Role.MEMBER) for m in team["members"]]
    people += [(e, TeamAssignment.Role.EXPERT) for e in team["experts"]]
    return [(selection_id, int(pid[1:]), role.value, substitution_id) for pid, role in people]


def _write_teams(selection_ids, teams, substitution=None) -> None:
    """Write team rows; ``selection_ids`` maps (stratum, source code) to the selection's pk."""
    sub_id = substitution.pk if substitution is not None else None
    rows = []
    for team in teams:
        selection_id = selection_ids[(team["stratum"], team["object"])]
        rows += _team_rows(selection_id, team, sub_id)
    copy_insert(TeamAssignment, _TEAM_FIELDS, rows)
    _grant_tasks([(selection_id, inspector_id) for selection_id, inspector_id, *_ in rows])


def _inspector_users(inspector_ids) -> dict[int, int]:
    """``{inspector pk: user pk}`` for those of ``inspector_ids`` with an account."""
    return dict(
        Inspector.objects.filter(pk__in=set(inspector_ids), user__isnull=False).values_list(
            "pk", "user"
        )
    )


def _grant_tasks(pairs: list[tuple[int, int]], users: dict[int, int] | None = None) -> None:
    """Each assigned inspector with an account may see their own drawn task (and nothing else).

    ``pairs``: (selection pk, inspector pk); ``users``: ``_inspector_users`` of (at least)
    the inspectors in ``pairs``, when already read.
    """
    if users is None:
        users = _inspector_users(i for _s, i in pairs)
    if not users:
        return
    from django.contrib.auth import get_user_model

    by_user: dict[int, list[int]] = defaultdict(list)
    for selection_id, inspector_id in pairs:
        if inspector_id in users:
            by_user[users[inspector_id]].append(selection_id)
    for user in get_user_model().objects.filter(pk__in=by_user):
        assign_perm(
            "lottery.view_drawn_task",
            user,
            DrawSelection.objects.filter(pk__in=by_user[user.pk]),  # type: ignore[arg-type]  # guardian assigns to a queryset in bulk
        )
