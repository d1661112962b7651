"""Plans, the draw ceremony, downloads, an inspector's tasks and the reviewer's overview."""

from django.urls import path

from lottery import deadline_views, views

app_name = "lottery"
urlpatterns = [
    path("deadline-regime/", deadline_views.deadline_regime, name="deadline_regime"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/delete/", views.plan_delete, name="plan_delete"),
    path("plans/<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path(
        "plans/<int:pk>/allow-early-draw/",
        views.plan_allow_early_draw,
        name="plan_allow_early_draw",
    ),
    path("plans/<int:pk>/return/", views.plan_return, name="plan_return"),
    path("plans/<int:pk>/approve/", views.plan_approve, name="plan_approve"),
    path("plans/<int:pk>/publish/", views.plan_publish, name="plan_publish"),
    path("plans/<int:pk>/prepare/", views.draw_prepare, name="draw_prepare"),
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/commit/", views.draw_commit, name="draw_commit"),
    path("draws/<int:pk>/discard/", views.draw_discard, name="draw_discard"),
    path("draws/<int:pk>/abandon/", views.draw_abandon, name="draw_abandon"),
    path("draws/<int:pk>/entropy/", views.draw_entropy, name="draw_entropy"),
    path("draws/<int:pk>/execute/", views.draw_execute, name="draw_execute"),
    path("draws/<int:pk>/record.json", views.draw_record_json, name="draw_record_json"),
    path("draws/<int:pk>/manifest.json", views.draw_manifest_json, name="draw_manifest_json"),
    path("draws/<int:pk>/record.pdf", views.draw_pdf, name="draw_pdf"),
    path("draws/<int:pk>/record-status/", views.draw_pdf_status, name="draw_pdf_status"),
    path(
        "selections/<int:pk>/substitute/",
        views.substitution_request,
        name="substitution_request",
    ),
    path("substitutions/<int:pk>/decide/", views.substitution_decide, name="substitution_decide"),
    path("verify_draw.py", views.verify_script, name="verify_script"),
    path("quotas/", views.quota_overview, name="quota_overview"),
    path("approvals/", views.approvals, name="approvals"),
]
