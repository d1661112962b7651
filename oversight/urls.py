"""Oversight pages. The dashboard itself is served at the quota overview's path
(``/lottery/quotas/``, see config/urls.py), so old links and ``lottery:quota_overview`` lead to it."""

from django.urls import path

from oversight import views

app_name = "oversight"
urlpatterns = [
    path("", views.index, name="index"),
    path("province/", views.province, name="province"),
    path("bureau/", views.bureau, name="bureau"),
    path("units/<int:pk>/<slug:metric>/", views.drill, name="drill"),
    path("tasks/<int:pk>/typical/", views.typical_case_mark, name="typical_case_mark"),
    path("filings/", views.filings, name="filings"),
    path("filings/draws/<int:pk>/", views.draw_file, name="draw_file"),
    path("archives/", views.archives, name="archives"),
    path("archives/request/", views.archive_request, name="archive_request"),
    path("archives/<int:pk>/download/", views.archive_download, name="archive_download"),
    path("reports/", views.reports, name="reports"),
    path("reports/request/", views.report_request, name="report_request"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/status/", views.report_status, name="report_status"),
    path("reports/<int:pk>/<str:what>/", views.report_download, name="report_download"),
]
