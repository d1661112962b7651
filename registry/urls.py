"""检查对象名录库 and 抽查事项清单: staff pages."""

from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("sources/", views.source_list, name="source_list"),
    path("sources/export/", views.source_export, name="source_export"),
    path("sources/new/", views.source_create, name="source_create"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("sources/<int:pk>/status/", views.source_status, name="source_status"),
    path("items/", views.checkitem_list, name="checkitem_list"),
    path("items/export/", views.checkitem_export, name="checkitem_export"),
    path("items/new/", views.checkitem_create, name="checkitem_create"),
    path("items/publish/", views.checkitem_publish_year, name="checkitem_publish_year"),
    path("items/<int:pk>/", views.checkitem_detail, name="checkitem_detail"),
    path("items/<int:pk>/edit/", views.checkitem_edit, name="checkitem_edit"),
    path("items/<int:pk>/publish/", views.checkitem_publish, name="checkitem_publish"),
]
