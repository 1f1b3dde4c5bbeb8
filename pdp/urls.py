from django.urls import path

from . import views

app_name = "pdp"

# Mounted under /p/<programme_slug>/ ; ProgrammeMiddleware has checked membership already.
urlpatterns = [
    path("pdp/", views.my_pdp_view, name="mine"),
    path("pdp/plans/", views.pdp_list_view, name="list"),
    path("pdp/fellows/<uuid:fellow_uuid>/", views.fellow_pdp_view, name="fellow"),
    path("pdp/<uuid:pdp_uuid>/", views.pdp_detail_view, name="detail"),
    path("pdp/<uuid:pdp_uuid>/history/", views.pdp_history_view, name="history"),
    path("pdp/<uuid:pdp_uuid>/submit/", views.pdp_submit_view, name="submit"),
    path("pdp/<uuid:pdp_uuid>/review/", views.pdp_review_view, name="review"),
    path("pdp/<uuid:pdp_uuid>/objectives/new/", views.objective_edit_view, name="objective_new"),
    path(
        "pdp/<uuid:pdp_uuid>/objectives/<uuid:objective_uuid>/",
        views.objective_edit_view,
        name="objective_edit",
    ),
    path(
        "pdp/objectives/<uuid:objective_uuid>/status/",
        views.objective_status_view,
        name="objective_status",
    ),
    path("pdp/objectives/<uuid:objective_uuid>/actions/", views.action_add_view, name="action_add"),
    path(
        "pdp/objectives/<uuid:objective_uuid>/evidence/",
        views.evidence_add_view,
        name="evidence_add",
    ),
    path("pdp/actions/<uuid:action_uuid>/toggle/", views.action_toggle_view, name="action_toggle"),
    path(
        "pdp/evidence/<uuid:evidence_uuid>/file/",
        views.evidence_file_view,
        name="evidence_file",
    ),
    path("framework/", views.framework_view, name="framework"),
    path("framework/<uuid:domain_uuid>/", views.domain_edit_view, name="domain_edit"),
    path("framework/<uuid:domain_uuid>/remove/", views.domain_remove_view, name="domain_remove"),
    path("pdp/<uuid:pdp_uuid>/pdf/", views.pdp_pdf_view, name="pdf"),
]
