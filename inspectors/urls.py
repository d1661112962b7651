"""执法检查人员名录库: certified inspectors, experts, availability, conflicts."""

from django.urls import path

from inspectors import views

app_name = "inspectors"
urlpatterns = [
    path("", views.inspector_list, name="inspector_list"),
    path("export.xlsx", views.inspector_export, name="inspector_export"),
    path("new/", views.inspector_create, name="inspector_create"),
    path("<int:pk>/", views.inspector_detail, name="inspector_detail"),
    path("<int:pk>/edit/", views.inspector_edit, name="inspector_edit"),
    path(
        "<int:pk>/deactivate/",
        views.inspector_set_active,
        {"active": False},
        name="inspector_deactivate",
    ),
    path(
        "<int:pk>/reactivate/",
        views.inspector_set_active,
        {"active": True},
        name="inspector_reactivate",
    ),
    path("<int:pk>/unavailability/", views.unavailability_add, name="unavailability_add"),
    path(
        "<int:pk>/unavailability/<int:period_pk>/remove/",
        views.unavailability_remove,
        name="unavailability_remove",
    ),
    path("<int:pk>/conflicts/", views.conflict_declare, name="conflict_declare"),
    path(
        "<int:pk>/conflicts/<int:conflict_pk>/withdraw/",
        views.conflict_withdraw,
        name="conflict_withdraw",
    ),
]
