"""The import and export pages. Mounted under ``core/`` in ``config/urls.py``: their addresses
did not change when the engine moved out of core (issue 11)."""

from django.urls import path

from exchange import views

app_name = "exchange"
urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/commit/", views.import_commit, name="import_commit"),
    path("imports/<int:pk>/errors.xlsx", views.import_error_report, name="import_error_report"),
    path("imports/template/<str:kind>/", views.import_template, name="import_template"),
    path("exports/<str:kind>/", views.registry_export_new, name="registry_export"),
    path(
        "exports/requests/<int:pk>/",
        views.registry_export_detail,
        name="registry_export_detail",
    ),
    path(
        "exports/requests/<int:pk>/status/",
        views.registry_export_status,
        name="registry_export_status",
    ),
    path(
        "exports/requests/<int:pk>/download/",
        views.registry_export_download,
        name="registry_export_download",
    ),
]
