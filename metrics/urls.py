from django.urls import path

from . import forecast_views, views

app_name = "metrics"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.
urlpatterns = [
    path("metrics/", views.dashboard_view, name="dashboard"),
    path("metrics/targets/", views.metric_targets_view, name="targets"),
    path("metrics/export.csv", views.metrics_csv_view, name="export"),
    path("metrics/reports/", views.reports_view, name="reports"),
    path("metrics/reports/<uuid:report_uuid>/", views.report_view, name="report"),
    path(
        "metrics/reports/<uuid:report_uuid>/report.pdf",
        views.report_download_view,
        name="report_download",
    ),
    path("metrics/runs/", views.metric_run_create_view, name="run_create"),
    path("metrics/runs/<uuid:run_uuid>/", views.metric_run_view, name="run"),
    path("metrics/<slug:key>/", views.metric_detail_view, name="metric"),
    path("metrics/<slug:key>/rows/", views.metric_rows_view, name="metric_rows"),
    path("metrics/<slug:key>/export.csv", views.metric_csv_view, name="metric_export"),
    path("outcomes/", views.outcomes_view, name="outcomes"),
    path("outcomes/quarter/", views.outcome_quarter_view, name="outcome_quarter"),
    path("outcomes/verification/", views.queue_view, name="queue"),
    path("outcomes/<slug:kind>/new/", views.outcome_report_view, name="outcome_report"),
    path("outcomes/<slug:kind>/<uuid:record_uuid>/", views.outcome_edit_view, name="outcome_edit"),
    path(
        "outcomes/<slug:kind>/<uuid:record_uuid>/withdraw/",
        views.outcome_withdraw_view,
        name="outcome_withdraw",
    ),
    path(
        "outcomes/<slug:kind>/<uuid:record_uuid>/verify/",
        views.outcome_verify_view,
        name="outcome_verify",
    ),
    path(
        "outcomes/<slug:kind>/<uuid:record_uuid>/reject/",
        views.outcome_reject_view,
        name="outcome_reject",
    ),
]

# The Patient Impact forecast (DESIGN §8).
urlpatterns += [
    path("forecast/", forecast_views.programme_forecast_view, name="forecast"),
    path("forecast/recompute/", forecast_views.forecast_recompute_view, name="forecast_recompute"),
    path("forecast/settings/", forecast_views.forecast_settings_view, name="forecast_settings"),
    path("forecast/review/", forecast_views.forecast_review_view, name="forecast_review"),
    path(
        "forecast/ventures/<uuid:venture_uuid>/",
        forecast_views.venture_forecast_view,
        name="forecast_venture",
    ),
    path(
        "forecast/ventures/<uuid:venture_uuid>/preview/",
        forecast_views.venture_forecast_preview_view,
        name="forecast_preview",
    ),
    path(
        "forecast/ventures/<uuid:venture_uuid>/accept/",
        forecast_views.forecast_accept_view,
        name="forecast_accept",
    ),
    path(
        "forecast/ventures/<uuid:venture_uuid>/return/",
        forecast_views.forecast_return_view,
        name="forecast_return",
    ),
]
