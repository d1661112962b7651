"""Staff pages of plans and draws: plan list/form/detail with its quotas, the draw ceremony
(prepare → commit → witnesses' entropy → execute), the result with its substitutions, the
downloads and the city reviewer's quota overview. One module per sub-domain; ``lottery.urls``
names them through this package.

Thin: ``lottery.selectors`` reads (404 outside the user's scope), ``lottery.services`` writes
and refuses with a translated message, ``lottery.display`` shapes what is shown. Who may see
the drawn list is decided in one place, ``lottery.selectors.can_see_full_result``; every time
the list is shown or downloaded an audit entry ``draw.view_result`` records who saw it. The
manifest embeds earlier draws' results, so it has its own rule,
``lottery.selectors.can_see_manifest``, and a view of it while those are confidential is
recorded as ``draw.view_manifest``.
"""

from lottery.views.ceremony import (
    draw_abandon,
    draw_commit,
    draw_detail,
    draw_discard,
    draw_entropy,
    draw_execute,
    draw_list,
    draw_prepare,
)
from lottery.views.overview import approvals, quota_overview
from lottery.views.plans import (
    plan_allow_early_draw,
    plan_approve,
    plan_create,
    plan_delete,
    plan_detail,
    plan_edit,
    plan_list,
    plan_publish,
    plan_return,
    plan_submit,
)
from lottery.views.records import (
    draw_manifest_json,
    draw_pdf,
    draw_pdf_status,
    draw_record_json,
    verify_script,
)
from lottery.views.substitutions import substitution_decide, substitution_request

__all__ = [
    "approvals",
    "draw_abandon",
    "draw_commit",
    "draw_detail",
    "draw_discard",
    "draw_entropy",
    "draw_execute",
    "draw_list",
    "draw_manifest_json",
    "draw_pdf",
    "draw_pdf_status",
    "draw_prepare",
    "draw_record_json",
    "plan_allow_early_draw",
    "plan_approve",
    "plan_create",
    "plan_delete",
    "plan_detail",
    "plan_edit",
    "plan_list",
    "plan_publish",
    "plan_return",
    "plan_submit",
    "quota_overview",
    "substitution_decide",
    "substitution_request",
    "verify_script",
]
