from django.urls import path

from deadlines import views

app_name = "deadlines"
urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notification_read, name="notification_read"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
    path("obligations/", views.obligation_list, name="obligation_list"),
]
