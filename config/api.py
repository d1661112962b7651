"""The API root. Each app registers its viewsets on this one router."""

from rest_framework.routers import DefaultRouter

from core.api import OrganisationViewSet

router = DefaultRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
