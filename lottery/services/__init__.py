"""The only writers of plans and draws, one module per sub-domain.

- ``plans``: a plan's life, draft → submitted → approved → published (or back to draft), every
  status change through one transition (``plans._plan_transition``);
- ``ceremony``: the draw ceremony, prepare → commit → witnesses' entropy → execute (or
  discard, abandon); ``storage`` writes an executed draw's rows and the inspectors' grants;
- ``substitutions``: a requested change of a drawn source or inspector, and its decision;
- ``disclosure``: completed spot checks, the disclosure of drawn lists, audited reads;
- ``regimes``: rule sets and deadline regimes.

The reads they use live in ``lottery.pools`` (pools and quotas) and ``lottery.selectors``
(``draw_record``). Everything is re-exported here: callers write ``services.plan_create(...)``.
"""

from lottery.pools import Pools, quota_for_plan
from lottery.selectors import draw_record
from lottery.services.ceremony import (
    draw_abandon,
    draw_add_entropy,
    draw_commit,
    draw_discard,
    draw_execute,
    draw_prepare,
)
from lottery.services.disclosure import (
    check_completed_record,
    draw_disclose_inspected,
    draw_log_manifest_view,
    draw_log_result_view,
    draws_disclose_due,
)
from lottery.services.plans import (
    plan_allow_early_draw,
    plan_approve,
    plan_create,
    plan_delete,
    plan_edit,
    plan_publish,
    plan_return,
    plan_submit,
)
from lottery.services.regimes import (
    deadline_regime_ensure_presets,
    deadline_regime_save,
    ruleset_ensure_presets,
    ruleset_save,
)
from lottery.services.substitutions import substitution_decide, substitution_request

__all__ = [
    "Pools",
    "check_completed_record",
    "deadline_regime_ensure_presets",
    "deadline_regime_save",
    "draw_abandon",
    "draw_add_entropy",
    "draw_commit",
    "draw_discard",
    "draw_disclose_inspected",
    "draw_execute",
    "draw_log_manifest_view",
    "draw_log_result_view",
    "draw_prepare",
    "draw_record",
    "draws_disclose_due",
    "plan_allow_early_draw",
    "plan_approve",
    "plan_create",
    "plan_delete",
    "plan_edit",
    "plan_publish",
    "plan_return",
    "plan_submit",
    "quota_for_plan",
    "ruleset_ensure_presets",
    "ruleset_save",
    "substitution_decide",
    "substitution_request",
]
