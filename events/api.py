"""Partner API endpoints of the events app: published events, and opportunities — every
published one to read, and the partner's own to post, change and close."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cohort.api import ERRORS
from cohort.models import ApiScope, NHSRegion, Profession, Sector, VentureStage
from cohort.partner_api import (
    ErrorSerializer,
    IdempotentCreateMixin,
    PartnerViewSet,
    StrictInputSerializer,
    choice_param,
    date_param,
    model_errors,
    validated,
)

from .models import Event, Opportunity
from .selectors import event_counts
from .services import OPPORTUNITY_FIELDS, opportunity_close, opportunity_publish, opportunity_save

WRITE_ERRORS = {400: ErrorSerializer, **ERRORS}


class EventOut(serializers.ModelSerializer):
    places_left = serializers.SerializerMethodField(
        help_text="Places still free, or null when the event has no limit."
    )

    class Meta:
        model = Event
        fields = [
            "uuid",
            "kind",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "time_zone",
            "is_online",
            "venue_name",
            "venue_address",
            "region",
            "capacity",
            "places_left",
        ]

    def get_places_left(self, event) -> int | None:
        if event.capacity is None:
            return None
        return max(event.capacity - (event.places_taken or 0), 0)


@extend_schema_view(
    list=extend_schema(
        summary="Published events",
        description="The programme's published events, soonest first. Filter by `kind`, "
        "`region`, `from` and `to` (dates, YYYY-MM-DD, on the event's start). Times are ISO "
        "8601 in UTC; `time_zone` is the zone the event is held in. Scope: `events:read`.",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(Event.Kind.values)),
            OpenApiParameter("region", OpenApiTypes.STR, enum=list(NHSRegion.values)),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
        ],
        responses={200: EventOut(many=True), 400: ErrorSerializer, **ERRORS},
    ),
    retrieve=extend_schema(summary="A published event", responses={200: EventOut, **ERRORS}),
)
class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = EventOut
    required_scopes = (ApiScope.EVENTS_READ,)
    cursor_ordering = ("starts_at", "id")
    ordering_choices = ("starts_at", "-starts_at")

    def get_queryset(self):
        events = event_counts(
            Event.objects.filter(programme=self.programme, status=Event.Status.PUBLISHED)
        )
        request = self.request
        kind = choice_param(request, "kind", Event.Kind.choices)
        region = choice_param(request, "region", NHSRegion.choices)
        start, end = date_param(request, "from"), date_param(request, "to")
        if start and end and end < start:
            raise exceptions.ValidationError({"to": ["`to` must be on or after `from`."]})
        if kind:
            events = events.filter(kind=kind)
        if region:
            events = events.filter(region=region)
        if start:
            events = events.filter(starts_at__date__gte=start)
        if end:
            events = events.filter(starts_at__date__lte=end)
        return events


class OpportunityOut(serializers.ModelSerializer):
    organisation = serializers.SerializerMethodField(help_text="Who offers it, if named.")
    yours = serializers.SerializerMethodField(
        help_text="True when your organisation posted it (you may change and close it)."
    )

    class Meta:
        model = Opportunity
        # What staff fill in (events.services.OPPORTUNITY_FIELDS), and where it stands.
        fields = ["uuid", *OPPORTUNITY_FIELDS, "status", "closed_at", "created_at", "yours"]

    def get_organisation(self, opportunity) -> dict | None:
        org = opportunity.organisation
        return {"uuid": str(org.uuid), "name": org.name} if org else None

    def get_yours(self, opportunity) -> bool:
        return opportunity.organisation_id == self.context["view"].organisation.pk


class OpportunityIn(StrictInputSerializer):
    """What a partner sends to post or change an opportunity. `amount` is free text (such as
    "Up to £50,000"); dates are YYYY-MM-DD."""

    kind = serializers.ChoiceField(choices=Opportunity.Kind.choices)
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=5000)
    url = serializers.URLField(max_length=500, help_text="Where fellows apply or read more.")
    funding = serializers.ChoiceField(
        choices=Opportunity.Funding.choices, required=False, allow_blank=True
    )
    amount = serializers.CharField(max_length=100, required=False, allow_blank=True)
    opens_on = serializers.DateField(required=False, allow_null=True)
    deadline = serializers.DateField(required=False, allow_null=True)
    eligibility = serializers.CharField(max_length=3000, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=12, required=False
    )
    professions = serializers.ListField(
        child=serializers.ChoiceField(choices=Profession.choices), required=False
    )
    sectors = serializers.ListField(
        child=serializers.ChoiceField(choices=Sector.choices), required=False
    )
    stages = serializers.ListField(
        child=serializers.ChoiceField(choices=VentureStage.choices), required=False
    )
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=NHSRegion.choices), required=False
    )

    def validate(self, data):
        for name in ("opens_on", "deadline"):
            day = data.get(name)
            if day and not 2000 <= day.year <= 2100:
                raise exceptions.ValidationError({name: ["Give a date between 2000 and 2100."]})
        return data


class OpportunityPatchIn(OpportunityIn):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class CloseIn(StrictInputSerializer):
    reason = serializers.CharField(max_length=1000, help_text="Why it is closing.")


@extend_schema_view(
    list=extend_schema(
        summary="Opportunities",
        description="Every published opportunity, and your organisation's own in any status "
        "(draft, published, closed), newest first. Filter by `kind`, or `mine=true` for your "
        "own only. Scope: `events:read` or `opportunities:write`.",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(Opportunity.Kind.values)),
            OpenApiParameter("mine", OpenApiTypes.BOOL),
        ],
        responses={200: OpportunityOut(many=True), 400: ErrorSerializer, **ERRORS},
    ),
    retrieve=extend_schema(summary="An opportunity", responses={200: OpportunityOut, **ERRORS}),
    create=extend_schema(
        summary="Post an opportunity",
        description="Posts an opportunity offered by your organisation; it is published to "
        "fellows at once (staff can close it). Send an `Idempotency-Key` header to make a "
        "retry safe. Scope: `opportunities:write`.",
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        request=OpportunityIn,
        responses={201: OpportunityOut, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change one of your opportunities",
        description="Only the fields sent change. Scope: `opportunities:write`.",
        request=OpportunityPatchIn,
        responses={200: OpportunityOut, **WRITE_ERRORS},
    ),
    close=extend_schema(
        summary="Close one of your opportunities",
        description="Takes it down before its deadline, with the reason. Scope: "
        "`opportunities:write`.",
        request=CloseIn,
        responses={200: OpportunityOut, **WRITE_ERRORS},
    ),
)
class OpportunityViewSet(
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    PartnerViewSet,
):
    serializer_class = OpportunityOut
    required_scopes = (ApiScope.EVENTS_READ, ApiScope.OPPORTUNITIES_WRITE)
    action_scopes = {
        "create": (ApiScope.OPPORTUNITIES_WRITE,),
        "partial_update": (ApiScope.OPPORTUNITIES_WRITE,),
        "close": (ApiScope.OPPORTUNITIES_WRITE,),
    }
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        mine = Q(organisation=self.organisation)
        opportunities = (
            Opportunity.objects.filter(programme=self.programme)
            .filter(Q(status=Opportunity.Status.PUBLISHED) | mine)
            .select_related("organisation")
        )
        kind = choice_param(self.request, "kind", Opportunity.Kind.choices)
        if kind:
            opportunities = opportunities.filter(kind=kind)
        if self.request.query_params.get("mine") in ("true", "1"):
            opportunities = opportunities.filter(mine)
        return opportunities

    def _own(self) -> Opportunity:
        return get_object_or_404(
            Opportunity,
            programme=self.programme,
            organisation=self.organisation,
            uuid=self.kwargs["uuid"],
        )

    def _saved(self, opportunity, code=status.HTTP_200_OK):
        opportunity.refresh_from_db()
        return Response(self.get_serializer(opportunity).data, status=code)

    def perform_idempotent_create(self, request):
        data = validated(OpportunityIn, request.data)
        data["organisation"] = self.organisation
        try:
            # Saved and published together or not at all: publishing refuses a deadline that
            # has passed, and that 400 must not leave the draft it was made from behind.
            with transaction.atomic():
                opportunity = opportunity_save(
                    programme=self.programme, actor=None, data=data, via="api"
                )
                opportunity_publish(opportunity=opportunity, actor=None, via="api")
        except DjangoValidationError as error:
            raise model_errors(error) from None
        return self._saved(opportunity, status.HTTP_201_CREATED)

    def partial_update(self, request, uuid=None):
        opportunity = self._own()
        data = validated(OpportunityPatchIn, request.data)
        try:
            opportunity_save(
                programme=self.programme,
                actor=None,
                data=data,
                opportunity=opportunity,
                via="api",
            )
        except DjangoValidationError as error:
            raise model_errors(error) from None
        return self._saved(opportunity)

    @action(detail=True, methods=["post"])
    def close(self, request, uuid=None):
        opportunity = self._own()
        data = validated(CloseIn, request.data)
        try:
            opportunity_close(opportunity=opportunity, actor=None, reason=data["reason"], via="api")
        except DjangoValidationError as error:
            raise model_errors(error) from None
        return self._saved(opportunity)
