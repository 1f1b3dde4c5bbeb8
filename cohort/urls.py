from django.urls import path

from . import views

app_name = "cohort"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.
urlpatterns = [
    path("", views.programme_home, name="home"),
    path("people/", views.member_list, name="members"),
    path(
        "people/<uuid:membership_uuid>/remove/",
        views.membership_remove_view,
        name="membership_remove",
    ),
    path("people/<uuid:person_uuid>/erase/", views.person_erase_view, name="person_erase"),
    path("invitations/", views.invitation_list_view, name="invitations"),
    path(
        "invitations/<uuid:invitation_uuid>/revoke/",
        views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path(
        "invitations/<uuid:invitation_uuid>/resend/",
        views.invitation_resend_view,
        name="invitation_resend",
    ),
    path("audit/", views.audit_log_view, name="audit"),
    path("cohorts/", views.cohort_list_view, name="cohorts"),
    path("cohorts/new/", views.cohort_edit_view, name="cohort_create"),
    path("cohorts/<uuid:cohort_uuid>/", views.cohort_edit_view, name="cohort_edit"),
    path("directory/", views.directory_view, name="directory"),
    path("directory/fellows/<uuid:fellow_uuid>/", views.fellow_profile_view, name="fellow"),
    path("directory/mentors/<uuid:mentor_uuid>/", views.mentor_profile_view, name="mentor"),
    path("profile/", views.my_profile_view, name="my_profile"),
    # recruitment
    path("recruitment/", views.recruitment_view, name="recruitment"),
    path("recruitment/funnel/", views.funnel_view, name="funnel"),
    path(
        "recruitment/criteria/<uuid:criterion_uuid>/remove/",
        views.criterion_remove_view,
        name="criterion_remove",
    ),
    path("recruitment/<uuid:cohort_uuid>/call/", views.call_edit_view, name="call"),
    path(
        "recruitment/questions/<uuid:question_uuid>/remove/",
        views.question_remove_view,
        name="question_remove",
    ),
    path(
        "recruitment/<uuid:cohort_uuid>/applications/",
        views.application_list_view,
        name="applications",
    ),
    path(
        "recruitment/<uuid:cohort_uuid>/shortlist/",
        views.call_shortlist_view,
        name="call_shortlist",
    ),
    path(
        "applications/<uuid:application_uuid>/",
        views.application_detail_view,
        name="application",
    ),
    path(
        "applications/<uuid:application_uuid>/review/",
        views.application_review_view,
        name="application_review",
    ),
    path(
        "applications/<uuid:application_uuid>/shortlist/",
        views.application_shortlist_view,
        name="application_shortlist",
    ),
    path(
        "applications/<uuid:application_uuid>/interview/",
        views.application_interview_view,
        name="application_interview",
    ),
    path(
        "applications/<uuid:application_uuid>/decide/",
        views.application_decide_view,
        name="application_decide",
    ),
    # bulk import and export
    path("people/import/", views.people_import_view, name="people_import"),
    path("partners/keys/", views.partner_keys_view, name="partner_keys"),
    path("partners/keys/<uuid:key_uuid>/", views.partner_key_view, name="partner_key"),
    path(
        "partners/keys/<uuid:key_uuid>/revoke/",
        views.partner_key_revoke_view,
        name="partner_key_revoke",
    ),
    path(
        "people/import/<uuid:import_uuid>/",
        views.people_import_job_view,
        name="people_import_job",
    ),
    path(
        "people/import/template/<str:kind>/",
        views.people_import_template_view,
        name="people_import_template",
    ),
    path(
        "people/export/<str:kind>/<str:fmt>/",
        views.people_export_view,
        name="people_export",
    ),
]
