from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api import router
from core import views as core_views
from core.api import me
from core.auth import login_view
from core.token_views import ObtainExpiringToken
from oversight import views as oversight_views
from publication import views as publication_views

urlpatterns = [
    path("", publication_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path(
        "accounts/login/",
        login_view(),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("core/", include("core.urls")),
    path("core/", include("exchange.urls")),  # the import pages kept their addresses
    path("registry/", include("registry.urls")),
    path("inspectors/", include("inspectors.urls")),
    # The inspector's tasks moved from the lottery to the inspections app: old links still work.
    path(
        "lottery/my-tasks/",
        RedirectView.as_view(pattern_name="inspections:my_tasks"),
        name="legacy_my_draw_tasks",
    ),
    # The city's oversight dashboard grew out of the quota overview and keeps its path: served
    # here, before the lottery's own pattern, so ``lottery:quota_overview`` leads to it.
    path("lottery/quotas/", oversight_views.dashboard, name="oversight_dashboard"),
    path("lottery/", include("lottery.urls")),
    path("inspections/", include("inspections.urls")),
    path("public/", include("publication.urls")),
    path("deadlines/", include("deadlines.urls")),
    path("oversight/", include("oversight.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/me/", me, name="api-me"),
    path("api/v1/token/", ObtainExpiringToken.as_view(), name="api-token"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler403 = "core.views.error_403"
handler404 = "core.views.error_404"
handler500 = "core.views.error_500"
