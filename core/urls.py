from django.urls import path

from core import import_views, views

app_name = "core"
urlpatterns = [
    path("calendar/", views.calendar_view, name="calendar"),
    path("audit/", views.audit_view, name="audit"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_new, name="import_new"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/commit/", import_views.import_commit, name="import_commit"),
    path(
        "imports/<int:pk>/errors.xlsx", import_views.import_error_report, name="import_error_report"
    ),
    path("imports/template/<str:kind>/", import_views.import_template, name="import_template"),
    path("exports/<str:kind>/", import_views.registry_export_new, name="registry_export"),
    path(
        "exports/requests/<int:pk>/",
        import_views.registry_export_detail,
        name="registry_export_detail",
    ),
    path(
        "exports/requests/<int:pk>/status/",
        import_views.registry_export_status,
        name="registry_export_status",
    ),
    path(
        "exports/requests/<int:pk>/download/",
        import_views.registry_export_download,
        name="registry_export_download",
    ),
]
