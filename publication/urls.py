"""The public portal (no login)."""

from django.urls import path

from publication import views

app_name = "publication"
urlpatterns = [
    path("draws/", views.draw_list, name="draw_list"),
    path("draws/<int:pk>/", views.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/manifest.json", views.draw_manifest, name="draw_manifest"),
    path("draws/<int:pk>/record.json", views.draw_record_json, name="draw_record"),
    path("verify_draw.py", views.verify_script, name="verify_script"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("check-items/", views.checkitem_list, name="checkitem_list"),
    path("check-items.xlsx", views.checkitem_export, name="checkitem_export"),
    path("audit-checkpoints/", views.audit_checkpoints, name="audit_checkpoints"),
    path("audit-checkpoints.json", views.audit_checkpoints_json, name="audit_checkpoints_json"),
]
