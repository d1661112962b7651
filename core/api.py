"""Core API: who am I, and the organisations I may see."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from core.models import Organisation
from core.roles import ROLE_CAPABILITIES
from core.selectors import organisations_visible_to


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind", "division_code", "parent"]


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganisationSerializer
    filterset_fields = ["kind", "division_code", "parent"]

    def get_queryset(self):
        return organisations_visible_to(self.request.user).order_by("division_code", "kind")


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.CharField()
    organisation = OrganisationSerializer(allow_null=True)
    capabilities = serializers.ListField(child=serializers.CharField())


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The signed-in user, their organisation and what their role may do."""
    user = request.user
    return Response(
        MeSerializer(
            {
                "username": user.username,
                "display_name": str(user),
                "role": user.role,
                "organisation": user.organisation,
                "capabilities": sorted(ROLE_CAPABILITIES.get(user.role, ())),
            }
        ).data
    )


def register(router) -> None:
    router.register("organisations", OrganisationViewSet, basename="organisation")
