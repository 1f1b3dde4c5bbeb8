from django.urls import path

from . import views

app_name = "mentoring"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.
urlpatterns = [
    path("matching/", views.matching_overview_view, name="matching"),
    path("matching/<uuid:cohort_uuid>/", views.matching_cohort_view, name="matching_cohort"),
    path("matching/<uuid:cohort_uuid>/run/", views.matching_run_view, name="matching_run"),
    path(
        "matching/<uuid:cohort_uuid>/publish/",
        views.matching_publish_view,
        name="matching_publish",
    ),
    path("matching/pairs/<uuid:pair_uuid>/", views.match_pair_view, name="match_pair"),
    path("mentorships/", views.mentorship_list_view, name="mentorships"),
    path(
        "mentorships/<uuid:mentorship_uuid>/end/",
        views.mentorship_end_view,
        name="mentorship_end",
    ),
    path("network/", views.network_view, name="network"),
    path("network/connect/<uuid:user_uuid>/", views.connect_view, name="connect"),
    path(
        "network/<uuid:connection_uuid>/respond/",
        views.connection_respond_view,
        name="connection_respond",
    ),
]
