"""The public portal (no login)."""

from django.urls import path

from lottery.views import verify_script
from publication import manage_views, results_views, views

app_name = "publication"
urlpatterns = [
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/manifest.json", views.draw_manifest, name="draw_manifest"),
    path("draws/<int:pk>/record.json", views.draw_record_json, name="draw_record"),
    # The script is lottery/engine.py itself: one view serves it here and on the staff pages.
    path("verify_draw.py", verify_script, name="verify_script"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("check-items/", views.checkitem_list, name="checkitem_list"),
    path("check-items.xlsx", views.checkitem_export, name="checkitem_export"),
    path("results/", results_views.result_list, name="result_list"),
    path("results/<int:pk>/", results_views.result_detail, name="result_detail"),
    path("results.csv", results_views.results_csv, name="results_csv"),
    path("results.xlsx", results_views.results_xlsx, name="results_xlsx"),
    path("results.json", results_views.results_json, name="results_json"),
    path("results/feed/", results_views.ResultFeed(), name="results_feed"),
    path("disclosure/", results_views.disclosure, name="disclosure"),
    path("manage/", manage_views.manage, name="manage"),
    path("manage/<int:pk>/publish/", manage_views.publish, name="manage_publish"),
    path("manage/<int:pk>/withhold/", manage_views.withhold, name="manage_withhold"),
    path("manage/<int:pk>/withdraw/", manage_views.withdraw, name="manage_withdraw"),
    path("manage/national-export/", manage_views.national_export, name="national_export"),
    path(
        "manage/national-export/<int:pk>/",
        manage_views.national_export_download,
        name="national_export_download",
    ),
    path("audit-checkpoints/", views.audit_checkpoints, name="audit_checkpoints"),
    path("audit-checkpoints.json", views.audit_checkpoints_json, name="audit_checkpoints_json"),
]
