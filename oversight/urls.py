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
]
