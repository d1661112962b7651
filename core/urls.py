from django.urls import path

from core import views

app_name = "core"
urlpatterns = [
    path("calendar/", views.calendar_view, name="calendar"),
    path("audit/", views.audit_view, name="audit"),
]
