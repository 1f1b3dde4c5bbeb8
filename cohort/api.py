"""Partner API endpoints of the cohort app: the programme, its cohorts, the partner's own
mentors and their mentorships' status, and the fellows (and ventures) who consented to share
their profile with partners. Output and input serializers are separate; reads only here."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.response import Response

from .models import ApiScope, Cohort, Fellow, Mentor, Sector, Venture, VentureStage
from .partner_api import ErrorSerializer, PartnerViewSet, uuid_param

ERRORS = {
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    429: ErrorSerializer,
}
# A paginated list also answers 400: a cursor that was tampered with, an unknown `ordering`,
# a malformed filter.
LIST_ERRORS = {400: ErrorSerializer, **ERRORS}


class OrganisationRefOut(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()


# One object, although the route is the router's "list" (the key has exactly one programme):
# without many=False the schema would promise an array.
@extend_schema_serializer(many=False)
class ProgrammeOut(serializers.Serializer):
    uuid = serializers.UUIDField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    cohorts = serializers.IntegerField(help_text="How many cohorts the programme has had.")
    fellows = serializers.IntegerField(help_text="Fellows appointed, all cohorts.")
    mentors = serializers.IntegerField(help_text="Mentors, all organisations.")
    organisation = OrganisationRefOut(help_text="The partner organisation the key belongs to.")


class CohortOut(serializers.ModelSerializer):
    fellows = serializers.IntegerField(
        source="fellow_count", help_text="Fellows appointed to the cohort."
    )

    class Meta:
        model = Cohort
        fields = ["uuid", "name", "starts_on", "ends_on", "fellows"]


class MentorshipStatusOut(serializers.Serializer):
    uuid = serializers.UUIDField()
    cohort = serializers.CharField(source="cohort.name", help_text="The cohort's name.")
    fellow = serializers.SerializerMethodField(
        help_text="The mentee's name, only if they consented to share their profile; else null."
    )
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    meetings_held = serializers.IntegerField(
        help_text="Meetings recorded as held (submitted, returned or signed off)."
    )
    meetings_signed_off = serializers.IntegerField()
    milestones_signed_off = serializers.IntegerField(
        help_text="Milestones achieved and signed off by the mentor."
    )

    def get_fellow(self, mentorship) -> str | None:
        fellow = mentorship.fellow
        return fellow.user.display_name if fellow.consent_to_share else None


class MentorOut(serializers.ModelSerializer):
    name = serializers.CharField(source="user.display_name")
    mentorships = MentorshipStatusOut(many=True, source="api_mentorships")

    class Meta:
        model = Mentor
        fields = ["uuid", "name", "job_title", "expertise", "sectors", "capacity", "mentorships"]


class VentureOut(serializers.ModelSerializer):
    fellow = serializers.UUIDField(source="fellow.uuid", help_text="The fellow's uuid.")

    class Meta:
        model = Venture
        fields = ["uuid", "name", "summary", "stage", "sector", "company_number", "fellow"]


class FellowVentureOut(serializers.ModelSerializer):
    class Meta:
        model = Venture
        fields = ["uuid", "name", "summary", "stage", "sector", "company_number"]


class CohortRefOut(serializers.ModelSerializer):
    class Meta:
        model = Cohort
        fields = ["uuid", "name"]


class FellowOut(serializers.ModelSerializer):
    name = serializers.CharField(source="user.display_name")
    cohort = CohortRefOut()
    ventures = FellowVentureOut(many=True)

    class Meta:
        model = Fellow
        fields = [
            "uuid",
            "name",
            "profession",
            "grade",
            "specialty",
            "region",
            "cohort",
            "ventures",
        ]


@extend_schema_view(
    list=extend_schema(
        summary="The programme",
        description="The programme the API key belongs to, with its size. Scope: any.",
        responses={200: ProgrammeOut, **ERRORS},
    )
)
class ProgrammeViewSet(PartnerViewSet):
    required_scopes = ()
    pagination_class = None

    def list(self, request):
        programme = self.programme
        summary = {
            "uuid": programme.uuid,
            "slug": programme.slug,
            "name": programme.name,
            "description": programme.description,
            "cohorts": Cohort.objects.filter(programme=programme).count(),
            "fellows": Fellow.objects.filter(programme=programme).count(),
            "mentors": Mentor.objects.filter(programme=programme).count(),
            "organisation": self.organisation,
        }
        return Response(ProgrammeOut(summary).data)


@extend_schema_view(
    list=extend_schema(
        summary="Cohorts",
        description="The programme's cohorts, newest first. Scope: `metrics:read` or "
        "`people:read`.",
        responses={200: CohortOut(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary="A cohort", responses={200: CohortOut, **ERRORS}),
)
class CohortViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = CohortOut
    required_scopes = (ApiScope.METRICS_READ, ApiScope.PEOPLE_READ)
    cursor_ordering = ("-starts_on", "-id")

    def get_queryset(self):
        return Cohort.objects.filter(programme=self.programme).annotate(
            fellow_count=Count("fellows")
        )


def _mentorships(programme):
    from mentoring.models import Meeting, Mentorship

    held = [Meeting.Status.SUBMITTED, Meeting.Status.RETURNED, Meeting.Status.SIGNED]
    return (
        Mentorship.objects.filter(programme=programme)
        .select_related("cohort", "fellow__user")
        .annotate(
            meetings_held=Count("meetings", filter=Q(meetings__status__in=held), distinct=True),
            meetings_signed_off=Count(
                "meetings", filter=Q(meetings__status=Meeting.Status.SIGNED), distinct=True
            ),
            milestones_signed_off=Coalesce(
                Subquery(
                    Mentorship.objects.filter(pk=OuterRef("pk"))
                    .annotate(
                        n=Count("milestones", filter=Q(milestones__confirmed_at__isnull=False))
                    )
                    .values("n")[:1]
                ),
                0,
            ),
        )
        .order_by("-started_on", "-id")
    )


@extend_schema_view(
    list=extend_schema(
        summary="Your mentors",
        description="The mentors of the key's organisation, each with their mentorships' "
        "status: meetings held and signed off, milestones signed off. Never meeting notes. "
        "A mentee is named only if they consented to share their profile. Scope: "
        "`people:read`.",
        responses={200: MentorOut(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary="One of your mentors", responses={200: MentorOut, **ERRORS}),
)
class MentorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = MentorOut
    required_scopes = (ApiScope.PEOPLE_READ,)

    def get_queryset(self):
        return (
            Mentor.objects.filter(programme=self.programme, organisation=self.organisation)
            .select_related("user")
            .prefetch_related(
                Prefetch(
                    "mentorships", queryset=_mentorships(self.programme), to_attr="api_mentorships"
                )
            )
        )

    cursor_ordering = ("uuid",)


def consented_fellows(programme):
    """Fellows who agreed to share their profile with partners: the only people the API
    names. Withdrawing consent takes them out of every answer at once."""
    return Fellow.objects.filter(programme=programme, consent_to_share=True)


@extend_schema_view(
    list=extend_schema(
        summary="Consented fellows",
        description="Fellows who consented to share their profile with partners, with their "
        "ventures. Filter by `cohort` (uuid). Scope: `people:read`.",
        parameters=[OpenApiParameter("cohort", OpenApiTypes.UUID)],
        responses={200: FellowOut(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary="A consented fellow", responses={200: FellowOut, **ERRORS}),
)
class FellowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = FellowOut
    required_scopes = (ApiScope.PEOPLE_READ,)

    def get_queryset(self):
        fellows = (
            consented_fellows(self.programme)
            .select_related("user", "cohort")
            .prefetch_related("ventures")
        )
        cohort = self.request.query_params.get("cohort")
        if cohort:
            fellows = fellows.filter(cohort__uuid=uuid_param("cohort", cohort))
        return fellows

    cursor_ordering = ("uuid",)


@extend_schema_view(
    list=extend_schema(
        summary="Consented ventures",
        description="The ventures of fellows who consented to share their profile. Filter by "
        "`stage` or `sector`. Scope: `people:read`.",
        parameters=[
            OpenApiParameter("stage", OpenApiTypes.STR, enum=list(VentureStage.values)),
            OpenApiParameter("sector", OpenApiTypes.STR, enum=list(Sector.values)),
        ],
        responses={200: VentureOut(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary="A consented venture", responses={200: VentureOut, **ERRORS}),
)
class VentureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = VentureOut
    required_scopes = (ApiScope.PEOPLE_READ,)

    def get_queryset(self):
        ventures = Venture.objects.filter(
            programme=self.programme, fellow__consent_to_share=True
        ).select_related("fellow")
        for name in ("stage", "sector"):
            value = self.request.query_params.get(name)
            if value:
                ventures = ventures.filter(**{name: value})
        return ventures

    cursor_ordering = ("uuid",)
