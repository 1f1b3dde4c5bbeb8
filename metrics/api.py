"""Partner API endpoints of the metrics app: the metric definitions with the programme's
figures, the snapshots behind them as a time series, the equality tables (suppressed), and the
Patient Impact forecast of the programme, its cohorts and consented ventures. Aggregates only:
no endpoint here names a person."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from cohort.api import ERRORS, LIST_ERRORS
from cohort.models import ApiScope, Cohort
from cohort.partner_api import ErrorSerializer, PartnerViewSet, date_param, uuid_param

from .definitions import METRICS
from .models import ForecastRun, MetricSnapshot
from .reports import edi_table
from .selectors import cohort_figures

AMOUNT = "Decimal string (exact); pounds for unit `gbp`, a percentage for unit `percent`."


class MetricOut(serializers.Serializer):
    key = serializers.CharField(help_text="Stable identifier, used to filter snapshots.")
    label = serializers.CharField()
    definition = serializers.CharField(help_text="Exactly what is counted.")
    unit = serializers.ChoiceField(choices=["count", "gbp", "percent", "days", "patients", "jobs"])
    kind = serializers.ChoiceField(
        choices=["sum", "rate", "mean"],
        help_text="How `value` is made of `numerator` and `denominator`.",
    )
    family = serializers.ChoiceField(
        choices=["period", "cohort", "edi"],
        help_text="`period`: monthly snapshots; `cohort`: one per cohort; `edi`: equality "
        "tables, read at /metrics/equality/.",
    )
    value = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text="All time. " + AMOUNT
    )
    numerator = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    denominator = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)


class SnapshotOut(serializers.ModelSerializer):
    metric = serializers.CharField(source="key")
    cohort = serializers.SerializerMethodField(help_text="The cohort's uuid; null: the programme.")
    value = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text=AMOUNT
    )
    numerator = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    denominator = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)

    class Meta:
        model = MetricSnapshot
        fields = [
            "uuid",
            "metric",
            "cohort",
            "period_start",
            "period_end",
            "value",
            "numerator",
            "denominator",
            "breakdown",
            "computed_at",
        ]

    def get_cohort(self, snapshot) -> str | None:
        return str(self.context["cohorts"][snapshot.cohort_id]) if snapshot.cohort_id else None


class EqualityRowOut(serializers.Serializer):
    cohort = serializers.CharField(help_text="The cohort's name, or 'All cohorts'.")
    cells = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Fellows per answer; null where a small number is suppressed.",
    )
    total = serializers.IntegerField(allow_null=True)


class EqualityOut(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()
    rows = EqualityRowOut(many=True)


class BandOut(serializers.Serializer):
    mean = serializers.ListField(child=serializers.FloatField())
    p10 = serializers.ListField(child=serializers.FloatField())
    p50 = serializers.ListField(child=serializers.FloatField())
    p90 = serializers.ListField(child=serializers.FloatField())


class ForecastOut(serializers.ModelSerializer):
    cohort = serializers.SerializerMethodField(help_text="The cohort's uuid, for a cohort's run.")
    venture = serializers.SerializerMethodField(help_text="The venture's uuid, for a venture's.")
    years = serializers.SerializerMethodField(help_text="Forecast years, 1 = the next 12 months.")
    patients = serializers.SerializerMethodField(help_text="Patients reached in each year.")
    draws = serializers.SerializerMethodField()

    class Meta:
        model = ForecastRun
        fields = [
            "uuid",
            "scope",
            "cohort",
            "venture",
            "created_at",
            "seed",
            "draws",
            "ventures_count",
            "years",
            "patients",
        ]

    def get_cohort(self, run) -> str | None:
        return str(run.cohort.uuid) if run.cohort_id else None

    def get_venture(self, run) -> str | None:
        return str(run.venture.uuid) if run.venture_id else None

    def get_years(self, run) -> list[int]:
        return run.outputs.get("years", [])

    def get_draws(self, run) -> int | None:
        return run.outputs.get("draws")

    @extend_schema_field(BandOut)
    def get_patients(self, run) -> dict:
        band = run.outputs.get("patients") or {}
        return {name: band.get(name, []) for name in ("mean", "p10", "p50", "p90")}


@extend_schema_view(
    list=extend_schema(
        summary="Metrics",
        description="Every programme metric with its definition and the programme's figure "
        "over all time, from the latest computation. Scope: `metrics:read`.",
        responses={200: MetricOut(many=True), **ERRORS},
    ),
    snapshots=extend_schema(
        summary="Metric snapshots (time series)",
        description="The computed figures month by month (period metrics) or per cohort "
        "(cohort metrics): filter by `metric` (key), `cohort` (uuid, or `programme` for the "
        "programme's own figures) and `from`/`to` (YYYY-MM-DD, on the period's start). "
        "Equality figures are not here: see /metrics/equality/. Scope: `metrics:read`.",
        parameters=[
            OpenApiParameter(
                "metric",
                OpenApiTypes.STR,
                enum=[k for k, m in METRICS.items() if m.family != "edi"],
            ),
            OpenApiParameter("cohort", OpenApiTypes.STR),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
        ],
        responses={200: SnapshotOut(many=True), 400: ErrorSerializer, **ERRORS},
    ),
    equality=extend_schema(
        summary="Equality, diversity and inclusion",
        description="Fellows appointed by gender, ethnic group, disability and age band, per "
        "cohort and in all: counts from 1 to 4 are null (suppressed), and a further figure is "
        "suppressed wherever a total would reveal one. Scope: `metrics:read`.",
        responses={200: EqualityOut(many=True), **ERRORS},
    ),
)
class MetricViewSet(PartnerViewSet):
    required_scopes = (ApiScope.METRICS_READ,)
    serializer_class = SnapshotOut
    cursor_ordering = ("period_start", "id")
    unpaginated_actions = ("list", "equality")

    def list(self, request):
        figures = cohort_figures(self.programme).get(None, {})
        from .selectors import period_series

        series = period_series(self.programme)
        rows = []
        for metric in METRICS.values():
            if metric.family == "period":
                n = sum((Decimal(v[0] or 0) for v in series[metric.key].values()), Decimal(0))
                d = sum((Decimal(v[1] or 0) for v in series[metric.key].values()), Decimal(0))
            else:
                figure = figures.get(metric.key)
                n, d = (figure.numerator, figure.denominator) if figure else (None, None)
            rows.append(
                {
                    "key": metric.key,
                    "label": metric.label,
                    "definition": metric.definition,
                    "unit": metric.unit,
                    "kind": metric.kind,
                    "family": metric.family,
                    "value": metric.value_of(n, d) if n is not None else None,
                    "numerator": n,
                    "denominator": d or None,
                }
            )
        return Response(MetricOut(rows, many=True).data)

    @action(detail=False)
    def snapshots(self, request):
        cohorts = dict(Cohort.objects.filter(programme=self.programme).values_list("pk", "uuid"))
        snapshots = MetricSnapshot.objects.filter(programme=self.programme).exclude(
            key__startswith="edi_"
        )
        params = request.query_params
        metric = params.get("metric")
        if metric:
            if metric not in METRICS or METRICS[metric].family == "edi":
                raise exceptions.ValidationError({"metric": ["No such metric: see /metrics/."]})
            snapshots = snapshots.filter(key=metric)
        cohort = params.get("cohort")
        if cohort == "programme":
            snapshots = snapshots.filter(cohort__isnull=True)
        elif cohort:
            snapshots = snapshots.filter(cohort__uuid=uuid_param("cohort", cohort))
        for name, lookup in (("from", "gte"), ("to", "lte")):
            day = date_param(request, name)
            if day:
                snapshots = snapshots.filter(**{f"period_start__{lookup}": day})
        page = self.paginate_queryset(snapshots)
        data = SnapshotOut(page, many=True, context={"cohorts": cohorts}).data
        return self.get_paginated_response(data)

    @action(detail=False)
    def equality(self, request):
        cohorts = list(Cohort.objects.filter(programme=self.programme).order_by("starts_on"))
        by_cohort = cohort_figures(self.programme)
        tables = []
        for metric in METRICS.values():
            if metric.family != "edi":
                continue
            table = edi_table(metric, cohorts, by_cohort)
            keys = list(metric.breakdown_labels)
            rows = [
                {
                    "cohort": row["cohort"].name,
                    "cells": dict(zip(keys, row["cells"], strict=True)),
                    "total": row["total"],
                }
                for row in table["rows"]
            ]
            if rows:
                rows.append(
                    {
                        "cohort": "All cohorts",
                        "cells": dict(zip(keys, table["totals"], strict=True)),
                        "total": table["grand_total"],
                    }
                )
            tables.append({"metric": metric.key, "label": metric.label, "rows": rows})
        return Response(EqualityOut(tables, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Patient Impact forecast",
        description="The latest forecast of the programme and of each cohort (reviewed inputs "
        "only; draws summed venture by venture before percentiles): patients reached in each "
        "of the next years, mean and P10/P50/P90. Scope: `metrics:read`.",
        responses={200: ForecastOut(many=True), **ERRORS},
    ),
    ventures=extend_schema(
        summary="Patient Impact forecast of consented ventures",
        description="The latest forecast of each venture whose fellow consented to share "
        "their profile with partners. Scope: `metrics:read`.",
        responses={200: ForecastOut(many=True), **LIST_ERRORS},
    ),
)
class ForecastViewSet(PartnerViewSet):
    required_scopes = (ApiScope.METRICS_READ,)
    serializer_class = ForecastOut
    cursor_ordering = ("-created_at", "-id")
    unpaginated_actions = ("list",)

    def list(self, request):
        from . import forecasting as fc

        runs = [fc.latest_run(programme=self.programme, scope=ForecastRun.Scope.PROGRAMME)]
        runs += fc.latest_cohort_runs(programme=self.programme)
        return Response(ForecastOut([r for r in runs if r], many=True).data)

    @action(detail=False)
    def ventures(self, request):
        from django.db.models import OuterRef, Subquery

        latest = (
            ForecastRun.objects.filter(
                programme=self.programme,
                scope=ForecastRun.Scope.VENTURE,
                venture=OuterRef("venture"),
                input_status="reviewed",
            )
            .order_by("-created_at", "-id")
            .values("pk")[:1]
        )
        runs = (
            ForecastRun.objects.filter(
                programme=self.programme,
                scope=ForecastRun.Scope.VENTURE,
                venture__fellow__consent_to_share=True,
                input_status="reviewed",
            )
            .filter(pk=Subquery(latest))
            .select_related("venture", "cohort")
        )
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(ForecastOut(page, many=True).data)
