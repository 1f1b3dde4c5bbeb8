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
    # The year's meetings (issue #5).
    path("meetings/", views.meetings_home_view, name="meetings"),
    path("meetings/mentees/", views.mentees_view, name="mentees"),
    path("meetings/overview/", views.meetings_overview_view, name="meetings_overview"),
    path(
        "meetings/windows/<uuid:cohort_uuid>/",
        views.meeting_windows_view,
        name="meeting_windows",
    ),
    path(
        "mentorships/<uuid:mentorship_uuid>/meetings/",
        views.mentorship_year_view,
        name="mentorship_year",
    ),
    path(
        "mentorships/<uuid:mentorship_uuid>/meetings/<int:number>/start/",
        views.meeting_start_view,
        name="meeting_start",
    ),
    path(
        "mentorships/<uuid:mentorship_uuid>/record.pdf",
        views.year_record_pdf_view,
        name="year_record_pdf",
    ),
    path("meetings/<uuid:meeting_uuid>/", views.meeting_view, name="meeting"),
    path("meetings/<uuid:meeting_uuid>/edit/", views.meeting_edit_view, name="meeting_edit"),
    path(
        "meetings/<uuid:meeting_uuid>/milestones/",
        views.milestone_add_view,
        name="milestone_add",
    ),
    path(
        "meetings/<uuid:meeting_uuid>/reviews/<uuid:milestone_uuid>/",
        views.review_save_view,
        name="review_save",
    ),
    path("meetings/<uuid:meeting_uuid>/submit/", views.meeting_submit_view, name="meeting_submit"),
    path("meetings/<uuid:meeting_uuid>/return/", views.meeting_return_view, name="meeting_return"),
    path("meetings/<uuid:meeting_uuid>/sign/", views.meeting_sign_view, name="meeting_sign"),
    path("meetings/<uuid:meeting_uuid>/reopen/", views.meeting_reopen_view, name="meeting_reopen"),
    path("meetings/<uuid:meeting_uuid>/verify/", views.meeting_verify_view, name="meeting_verify"),
    path(
        "meetings/<uuid:meeting_uuid>/history/", views.meeting_history_view, name="meeting_history"
    ),
    path(
        "sign-offs/<uuid:sign_off_uuid>/",
        views.sign_off_view,
        name="sign_off",
    ),
    path(
        "milestones/<uuid:milestone_uuid>/remove/",
        views.milestone_remove_view,
        name="milestone_remove",
    ),
    path(
        "milestones/<uuid:milestone_uuid>/sign/",
        views.milestone_sign_view,
        name="milestone_sign",
    ),
    path("network/", views.network_view, name="network"),
    path("network/connect/<uuid:user_uuid>/", views.connect_view, name="connect"),
    path(
        "network/<uuid:connection_uuid>/respond/",
        views.connection_respond_view,
        name="connection_respond",
    ),
]
