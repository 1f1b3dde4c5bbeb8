"""The Django admin, model by model: programme staff see and change only their programmes' rows.

The models come from the admin site's registry, so a newly registered tenant-owned model is
tried here as soon as it is registered (and fails until it has a sample row below). Staff of
programme B aim at a row of programme A through the changelist, the change, delete and history
views and a forged POST; staff of A open the same row, to show the row and the URLs are real.
"""

from collections.abc import Callable
from datetime import date

import pytest
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import IdempotentRequest, PartnerKeyUse, PeopleImport, Programme, Review, Role
from cohort.services import audit_log
from events.models import (
    CalendarFeed,
    EventDomain,
    EventResource,
    OpportunityInterest,
    ResourceDomain,
    ResourceObjective,
)
from mentoring.models import Connection, MatchPair, MeetingReminder, MeetingWindow
from metrics.models import (
    CompanyRecord,
    ForecastInput,
    ForecastRun,
    ForecastSettings,
    FundingRecord,
    JobsRecord,
    MetricRun,
    MetricSnapshot,
    MetricTarget,
    OutcomeUpdate,
    PartnershipRecord,
    PatientReachRecord,
    ProgrammeReport,
)
from notifications.models import AnnouncementReceipt, Preference
from pdp.models import PDP, Action, CompetencyDomain, Evidence, Objective, PDPChange

from ..factories import (
    AnnouncementFactory,
    ApplicationFactory,
    ApplicationQuestionFactory,
    CohortFactory,
    EventFactory,
    FellowFactory,
    InvitationFactory,
    MembershipFactory,
    MentorFactory,
    MentorshipFactory,
    NotificationFactory,
    OpportunityFactory,
    OrganisationFactory,
    OutboxMessageFactory,
    PartnerKeyFactory,
    RecruitmentCallFactory,
    RegistrationFactory,
    ResourceFactory,
    ReviewCriterionFactory,
    VentureFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from .conftest import A_NON_STAFF
from .meetings import meeting_year
from .support import assert_unchanged, form_data, programme_fk, programme_snapshot

pytestmark = pytest.mark.django_db


# Individual answers that programme staff must never see one by one (DESIGN §5, EDI data):
# their admin is for platform operators only.
OPERATOR_ONLY_MODELS = sorted(
    (m for m in admin.site._registry if m._meta.label in {"cohort.EqualityData"}),
    key=lambda m: m._meta.label,
)
SCOPED_MODELS = sorted(
    (
        m
        for m in admin.site._registry
        if (m is Programme or programme_fk(m) is not None) and m not in OPERATOR_ONLY_MODELS
    ),
    key=lambda m: m._meta.label,
)
UNSCOPED_MODELS = sorted(
    (m for m in admin.site._registry if m not in SCOPED_MODELS), key=lambda m: m._meta.label
)


def _member_user(programme, role):
    # The admin offers only members of the staff's programmes as users, so a fellow or mentor
    # row needs its person to be a member, as it would be in real life.
    return MembershipFactory(programme=programme, role=role).user


def _audit_event(programme, staff):
    with scope(programme=programme):
        return audit_log(programme=programme, actor=staff, action="isolation.admin_sample")


def _plan(programme):
    """A fellow's plan with one objective, in the given programme."""
    fellow = FellowFactory(programme=programme, user=_member_user(programme, Role.FELLOW))
    pdp = PDP.objects.create(programme=programme, fellow=fellow)
    domain = CompetencyDomain.objects.create(programme=programme, name=f"Domain {fellow.pk}")
    objective = Objective.objects.create(
        programme=programme,
        pdp=pdp,
        domain=domain,
        title="Lead a team",
        measure="A team of three",
        target_date="2027-01-01",
    )
    return pdp, objective


def _year(programme):
    """A fellow's year of meetings with their mentor, at every stage (see meetings.py)."""
    return meeting_year(
        programme, _member_user(programme, Role.FELLOW), _member_user(programme, Role.MENTOR)
    )


def _review(programme):
    with scopes_disabled():
        return _year(programme).reviewed.reviews.first()


def _outcome(model, programme):
    """An outcome record of each kind, with the fields its kind needs."""
    fellow = FellowFactory(programme=programme, user=_member_user(programme, Role.FELLOW))
    fields = {
        "FundingRecord": {"kind": "grant", "amount": 1000, "source": "A grant"},
        "PartnershipRecord": {"kind": "academic", "partner_name": "A university"},
        "PatientReachRecord": {"patients": 12, "period_start": date(2026, 1, 1)},
        "CompanyRecord": {"company_name": "A company"},
        "JobsRecord": {"jobs": 2},
    }[model.__name__]
    day = date(2026, 2, 1)
    dates = {
        "FundingRecord": "received_on",
        "PartnershipRecord": "started_on",
        "PatientReachRecord": "period_end",
        "CompanyRecord": "incorporated_on",
        "JobsRecord": "counted_on",
    }
    return model.objects.create(
        programme=programme, fellow=fellow, **fields, **{dates[model.__name__]: day}
    )


# Model label -> a row of that model in the given programme (staff is a staff member there).
SAMPLES: dict[str, Callable[[Programme, object], models.Model]] = {
    "cohort.Programme": lambda programme, staff: programme,
    "cohort.Membership": lambda programme, staff: MembershipFactory(
        programme=programme, role=Role.MENTOR
    ),
    "cohort.Invitation": lambda programme, staff: InvitationFactory(
        programme=programme, email="admin-sample@alpha.example", role=Role.STAFF
    ),
    "cohort.Cohort": lambda programme, staff: CohortFactory(programme=programme),
    "cohort.Organisation": lambda programme, staff: OrganisationFactory(programme=programme),
    "cohort.Fellow": lambda programme, staff: FellowFactory(
        programme=programme, user=_member_user(programme, Role.FELLOW)
    ),
    "cohort.Mentor": lambda programme, staff: MentorFactory(
        programme=programme, user=_member_user(programme, Role.MENTOR)
    ),
    "cohort.AuditEvent": _audit_event,
    "cohort.Venture": lambda programme, staff: VentureFactory(
        programme=programme,
        fellow=FellowFactory(programme=programme, user=_member_user(programme, Role.FELLOW)),
    ),
    "cohort.RecruitmentCall": lambda programme, staff: RecruitmentCallFactory(programme=programme),
    "cohort.PeopleImport": lambda programme, staff: PeopleImport.objects.create(
        programme=programme, kind="fellows", filename="people.csv", created_by=staff
    ),
    "cohort.ApplicationQuestion": lambda programme, staff: ApplicationQuestionFactory(
        call=RecruitmentCallFactory(programme=programme)
    ),
    "cohort.ReviewCriterion": lambda programme, staff: ReviewCriterionFactory(programme=programme),
    "cohort.Application": lambda programme, staff: ApplicationFactory(
        call=RecruitmentCallFactory(programme=programme)
    ),
    "cohort.Review": lambda programme, staff: Review.objects.create(
        programme=programme,
        application=ApplicationFactory(call=RecruitmentCallFactory(programme=programme)),
        reviewer=staff,
        scores={},
        score=3,
    ),
    "mentoring.Mentorship": lambda programme, staff: MentorshipFactory(
        fellow=FellowFactory(programme=programme, user=_member_user(programme, Role.FELLOW))
    ),
    "mentoring.MatchPair": lambda programme, staff: MatchPair.objects.create(
        programme=programme,
        cohort=(fellow := FellowFactory(programme=programme)).cohort,
        fellow=fellow,
        mentor=MentorFactory(programme=programme),
    ),
    "pdp.CompetencyDomain": lambda programme, staff: CompetencyDomain.objects.create(
        programme=programme, name="Admin sample domain"
    ),
    "pdp.PDP": lambda programme, staff: _plan(programme)[0],
    "pdp.Objective": lambda programme, staff: _plan(programme)[1],
    "pdp.Action": lambda programme, staff: Action.objects.create(
        programme=programme, objective=_plan(programme)[1], text="A step"
    ),
    "pdp.Evidence": lambda programme, staff: Evidence.objects.create(
        programme=programme, objective=_plan(programme)[1], kind="note", title="A note", note="x"
    ),
    "pdp.PDPChange": lambda programme, staff: PDPChange.objects.create(
        programme=programme, pdp=_plan(programme)[0], action="x", summary="A change"
    ),
    "mentoring.Connection": lambda programme, staff: Connection.objects.create(
        programme=programme, requester=_member_user(programme, Role.FELLOW), addressee=staff
    ),
    "mentoring.MeetingWindow": lambda programme, staff: MeetingWindow.objects.create(
        programme=programme,
        cohort=(cohort := CohortFactory(programme=programme)),
        number=2,
        opens_on=cohort.starts_on,
        closes_on=cohort.ends_on,
    ),
    "mentoring.Meeting": lambda programme, staff: _year(programme).signed,
    "mentoring.Milestone": lambda programme, staff: _year(programme).achieved,
    "mentoring.MilestoneReview": lambda programme, staff: _review(programme),
    "mentoring.SignOff": lambda programme, staff: _year(programme).sign_off,
    "mentoring.MeetingReminder": lambda programme, staff: MeetingReminder.objects.create(
        programme=programme,
        mentorship=_year(programme).mentorship,
        kind=MeetingReminder.Kind.DUE_SOON,
        key="2",
    ),
    "notifications.Notification": lambda programme, staff: NotificationFactory(
        programme=programme, recipient=staff
    ),
    "notifications.OutboxMessage": lambda programme, staff: OutboxMessageFactory(
        programme=programme, status="failed"
    ),
    "notifications.Preference": lambda programme, staff: Preference.objects.create(
        programme=programme,
        user=_member_user(programme, Role.FELLOW),
        kind="announcement",
        delivery="digest",
    ),
    "notifications.Announcement": lambda programme, staff: AnnouncementFactory(
        programme=programme, author=staff
    ),
    "notifications.WebhookEndpoint": lambda programme, staff: WebhookEndpointFactory(
        programme=programme
    ),
    "notifications.WebhookDelivery": lambda programme, staff: WebhookDeliveryFactory(
        programme=programme
    ),
    "notifications.AnnouncementReceipt": lambda programme, staff: (
        AnnouncementReceipt.objects.create(
            programme=programme,
            announcement=AnnouncementFactory(programme=programme),
            user=staff,
        )
    ),
    # events: events and registrations
    "events.Event": lambda programme, staff: EventFactory(programme=programme),
    "events.Registration": lambda programme, staff: RegistrationFactory(
        event=EventFactory(programme=programme), user=_member_user(programme, Role.FELLOW)
    ),
    "events.CalendarFeed": lambda programme, staff: CalendarFeed.objects.create(
        programme=programme, user=staff
    ),
    "events.EventDomain": lambda programme, staff: EventDomain.objects.create(
        programme=programme,
        event=EventFactory(programme=programme),
        domain=CompetencyDomain.objects.create(programme=programme, name="Event domain"),
    ),
    "events.EventResource": lambda programme, staff: EventResource.objects.create(
        programme=programme,
        event=EventFactory(programme=programme),
        resource=ResourceFactory(programme=programme),
    ),
    # events: resources and opportunities
    "events.Resource": lambda programme, staff: ResourceFactory(programme=programme),
    "events.Opportunity": lambda programme, staff: OpportunityFactory(programme=programme),
    "events.OpportunityInterest": lambda programme, staff: OpportunityInterest.objects.create(
        programme=programme,
        opportunity=OpportunityFactory(programme=programme),
        user=_member_user(programme, Role.FELLOW),
        note="A bookmark",
    ),
    "events.ResourceDomain": lambda programme, staff: ResourceDomain.objects.create(
        programme=programme,
        resource=ResourceFactory(programme=programme),
        domain=CompetencyDomain.objects.create(programme=programme, name="Library sample"),
    ),
    "events.ResourceObjective": lambda programme, staff: ResourceObjective.objects.create(
        programme=programme,
        resource=ResourceFactory(programme=programme),
        objective=_plan(programme)[1],
        linked_by=staff,
    ),
    # metrics: outcome records
    "metrics.FundingRecord": lambda programme, staff: _outcome(FundingRecord, programme),
    "metrics.PartnershipRecord": lambda programme, staff: _outcome(PartnershipRecord, programme),
    "metrics.PatientReachRecord": lambda programme, staff: _outcome(PatientReachRecord, programme),
    "metrics.CompanyRecord": lambda programme, staff: _outcome(CompanyRecord, programme),
    "metrics.JobsRecord": lambda programme, staff: _outcome(JobsRecord, programme),
    "metrics.OutcomeUpdate": lambda programme, staff: OutcomeUpdate.objects.create(
        programme=programme,
        fellow=FellowFactory(programme=programme, user=_member_user(programme, Role.FELLOW)),
        quarter_start=date(2026, 10, 1),
    ),
    # metrics: the Patient Impact forecast
    "metrics.ForecastSettings": lambda programme, staff: ForecastSettings.objects.create(
        programme=programme, seed=7
    ),
    "metrics.ForecastInput": lambda programme, staff: ForecastInput.objects.create(
        programme=programme,
        venture=VentureFactory(
            programme=programme,
            fellow=FellowFactory(programme=programme, user=_member_user(programme, Role.FELLOW)),
        ),
        assumptions="A sample",
    ),
    "metrics.ForecastRun": lambda programme, staff: ForecastRun.objects.create(
        programme=programme, scope="programme", trigger="demo", seed=7, fingerprint="x" * 64
    ),
    "metrics.MetricRun": lambda programme, staff: MetricRun.objects.create(
        programme=programme, trigger="on_demand"
    ),
    "metrics.MetricSnapshot": lambda programme, staff: MetricSnapshot.objects.create(
        programme=programme,
        key="funding_raised",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        value=1000,
    ),
    "cohort.PartnerKey": lambda programme, staff: PartnerKeyFactory(programme=programme),
    "cohort.PartnerKeyUse": lambda programme, staff: PartnerKeyUse.objects.create(
        programme=programme,
        key=PartnerKeyFactory(programme=programme),
        method="GET",
        path="/api/v1/",
        status=200,
    ),
    "cohort.IdempotentRequest": lambda programme, staff: IdempotentRequest.objects.create(
        programme=programme,
        key=PartnerKeyFactory(programme=programme),
        idempotency_key="sample",
        request_hash="0" * 64,
        status=201,
    ),
    "metrics.ProgrammeReport": lambda programme, staff: ProgrammeReport.objects.create(
        programme=programme, cohort=CohortFactory(programme=programme), status="done"
    ),
    "metrics.MetricTarget": lambda programme, staff: MetricTarget.objects.create(
        programme=programme,
        cohort=CohortFactory(programme=programme),
        key="events_attended",
        value=100,
    ),
}

# Model label -> (form field, new value): the edit the forged POST tries to make.
EDITS: dict[str, tuple[str, str]] = {
    "cohort.Programme": ("name", "Taken over"),
    "cohort.Membership": ("role", Role.PARTNER),
    "cohort.Invitation": ("message", "Taken over"),
    "cohort.Cohort": ("name", "Taken over"),
    "cohort.Organisation": ("name", "Taken over"),
    "cohort.Fellow": ("specialty", "Taken over"),
    "cohort.Mentor": ("job_title", "Taken over"),
    "cohort.AuditEvent": ("action", "taken.over"),
    "cohort.Venture": ("name", "Taken over"),
    "cohort.RecruitmentCall": ("introduction", "Taken over"),
    "cohort.PeopleImport": ("filename", "taken-over.csv"),
    "cohort.ApplicationQuestion": ("text", "Taken over"),
    "cohort.ReviewCriterion": ("name", "Taken over"),
    "cohort.Application": ("full_name", "Taken over"),
    "cohort.Review": ("comment", "Taken over"),
    "mentoring.Mentorship": ("end_reason", "Taken over"),
    "mentoring.MatchPair": ("state", "excluded"),
    "pdp.CompetencyDomain": ("name", "Taken over"),
    "pdp.PDP": ("mentor_comments", "Taken over"),
    "pdp.Objective": ("title", "Taken over"),
    "pdp.Action": ("text", "Taken over"),
    "pdp.Evidence": ("title", "Taken over"),
    "pdp.PDPChange": ("summary", "Taken over"),
    "mentoring.Connection": ("message", "Taken over"),
    "mentoring.MeetingWindow": ("opens_on", "2026-10-01"),
    "mentoring.Meeting": ("discussion", "Taken over"),
    "mentoring.Milestone": ("title", "Taken over"),
    "mentoring.MilestoneReview": ("comment", "Taken over"),
    "mentoring.SignOff": ("reopen_reason", "Taken over"),
    "mentoring.MeetingReminder": ("key", "taken-over"),
    "notifications.Notification": ("title", "Taken over"),
    "notifications.OutboxMessage": ("subject", "Taken over"),
    "notifications.Preference": ("delivery", "in_app"),
    "notifications.Announcement": ("title", "Taken over"),
    "notifications.AnnouncementReceipt": ("read_at", "2026-01-01 00:00:00"),
    "notifications.WebhookEndpoint": ("url", "https://taken.example/over"),
    "notifications.WebhookDelivery": ("last_error", "Taken over"),
    # events: events and registrations
    "events.Event": ("title", "Taken over"),
    "events.Registration": ("status", "cancelled"),
    "events.CalendarFeed": ("revoked_at", "2026-01-01 00:00:00"),
    "events.EventDomain": ("event", ""),
    "events.EventResource": ("event", ""),
    # events: resources and opportunities
    "events.Resource": ("title", "Taken over"),
    "events.Opportunity": ("title", "Taken over"),
    "events.OpportunityInterest": ("note", "Taken over"),
    "events.ResourceDomain": ("domain", "999999"),
    "events.ResourceObjective": ("linked_at", "2026-01-01 00:00:00"),
    # metrics: outcome records
    "metrics.FundingRecord": ("source", "Taken over"),
    "metrics.PartnershipRecord": ("partner_name", "Taken over"),
    "metrics.PatientReachRecord": ("how_counted", "Taken over"),
    "metrics.CompanyRecord": ("company_name", "Taken over"),
    "metrics.JobsRecord": ("evidence", "Taken over"),
    "metrics.OutcomeUpdate": ("nothing_new", "on"),
    # metrics: the Patient Impact forecast
    "metrics.ForecastSettings": ("draws", "1000"),
    "metrics.ForecastInput": ("assumptions", "Taken over"),
    "metrics.ForecastRun": ("trigger", "nightly"),
    "metrics.MetricRun": ("current_step", "Taken over"),
    "metrics.MetricSnapshot": ("key", "taken_over"),
    "metrics.MetricTarget": ("note", "Taken over"),
    "metrics.ProgrammeReport": ("problem", "Taken over"),
    "cohort.PartnerKey": ("name", "Taken over"),
    "cohort.PartnerKeyUse": ("path", "/taken-over/"),
    "cohort.IdempotentRequest": ("idempotency_key", "taken-over"),
}

REFUSED = {302, 403, 404}


def sample_row(model, programme, staff):
    label = model._meta.label
    if label not in SAMPLES:
        pytest.fail(
            f"{label} is registered in the admin and belongs to a programme: add a sample for "
            f"{label} to SAMPLES in tests/isolation/test_admin_isolation.py."
        )
    with scopes_disabled():
        return SAMPLES[label](programme, staff)


def admin_url(model, view, obj=None) -> str:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return reverse(name, args=[obj.pk] if obj is not None else [])


def still_there(obj, programme) -> bool:
    with scopes_disabled():
        fresh = type(obj)._base_manager.filter(pk=obj.pk).first()
    if fresh is None:
        return False
    return (fresh.pk if isinstance(fresh, Programme) else fresh.programme_id) == programme.pk


def refused(response) -> bool:
    if response.status_code not in REFUSED:
        return False
    # A redirect must not land on the object itself (the admin sends strays to its index).
    return response.status_code != 302 or "/change/" not in response["Location"]


@pytest.fixture
def row(request, populated_a, staff_a):
    return sample_row(request.param, populated_a, staff_a)


def by_model(models_):
    return pytest.mark.parametrize(
        ("model", "row"),
        [pytest.param(m, m, id=m._meta.label) for m in models_],
        indirect=["row"],
    )


def test_the_admin_registers_tenant_models():
    # Guards the generator: an empty list would make every test below pass vacuously.
    labels = {m._meta.label for m in SCOPED_MODELS}
    assert {"cohort.Programme", "cohort.Invitation", "cohort.AuditEvent"} <= labels


@by_model(SCOPED_MODELS)
def test_changelist_hides_rows_of_other_programmes(client, staff_b, populated_a, model, row):
    client.force_login(staff_b)
    lookups = [{}, {"q": str(row)[:20]}]
    if model is not Programme:
        lookups.append({"programme__id__exact": populated_a.pk})
    for params in lookups:
        response = client.get(admin_url(model, "changelist"), params)
        if params and response.status_code == 302:  # a refused filter: redirect with ?e=1
            continue
        assert response.status_code == 200, f"{model._meta.label} changelist {params}"
        changelist = response.context["cl"]
        with scopes_disabled():
            shown = {obj.pk for obj in changelist.result_list}
            reachable = set(changelist.queryset.values_list("pk", flat=True))
        assert row.pk not in shown | reachable, (
            f"The {model._meta.label} changelist {params} lists {row!r} of programme A to "
            "staff of programme B."
        )
        assert admin_url(model, "change", row) not in response.content.decode()


@by_model(SCOPED_MODELS)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_object_views_refuse_rows_of_other_programmes(
    client, staff_b, populated_a, model, row, view
):
    client.force_login(staff_b)
    response = client.get(admin_url(model, view, row))
    assert refused(response), (
        f"GET {admin_url(model, view, row)} ({model._meta.label} of programme A) as staff of "
        f"programme B answered {response.status_code}"
    )


@by_model(SCOPED_MODELS)
def test_forged_posts_cannot_change_rows_of_other_programmes(
    client, staff_a, staff_b, programme_b, populated_a, model, row
):
    label = model._meta.label
    if label not in EDITS:
        pytest.fail(f"Add an edit for {label} to EDITS in tests/isolation/test_admin_isolation.py.")
    field, value = EDITS[label]
    change_url = admin_url(model, "change", row)

    # What staff of A would submit, read from their own change form.
    client.force_login(staff_a)
    page = client.get(change_url)
    assert page.status_code == 200, f"staff of A cannot open their own {label}: {page}"
    can_change = page.context["has_change_permission"]
    data = form_data(page.content.decode(), f"{model._meta.model_name}_form")
    if can_change:
        assert field in data, f"{label} change form has no field {field!r}: {sorted(data)}"
    data[field] = [value]

    # Staff of B submit it, with the row moved into their own programme for good measure.
    forged = {**data, "programme": [str(programme_b.pk)]} if model is not Programme else data
    client.force_login(staff_b)
    before = programme_snapshot(populated_a)
    for url, payload in [
        (change_url, forged),
        (admin_url(model, "delete", row), {"post": "yes"}),
        (
            admin_url(model, "changelist"),
            {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
        ),
    ]:
        response = client.post(url, payload)
        assert response.status_code in {200, *REFUSED}, f"POST {url}: {response.status_code}"
        assert_unchanged(before, programme_snapshot(populated_a), f"POST {url} as staff of B")
    assert still_there(row, populated_a)

    # The control: the same submission by staff of A goes through (or is refused to them too
    # when the model is read-only, as the audit log is).
    client.force_login(staff_a)
    response = client.post(change_url, data)
    with scopes_disabled():
        fresh = model._base_manager.get(pk=row.pk)
    if can_change:
        assert response.status_code == 302, (
            f"staff of A could not save their own {label}; the forged POST proved nothing: "
            f"{response.context['adminform'].form.errors if response.context else response}"
        )
        assert str(getattr(fresh, field)) == value
    else:
        assert response.status_code == 403
        assert str(getattr(fresh, field)) != value


@by_model([m for m in SCOPED_MODELS if m is not Programme])
def test_add_view_refuses_a_row_for_another_programme(
    client, staff_a, staff_b, populated_a, model, row
):
    label = model._meta.label
    field, value = EDITS[label]
    # A new row for A, built from A's change form: edited, and given a person (staff of A)
    # who holds no such row yet, so that the unique constraints let it through.
    client.force_login(staff_a)
    page = client.get(admin_url(model, "change", row))
    data = form_data(page.content.decode(), f"{model._meta.model_name}_form")
    data.update({field: [value], "programme": [str(populated_a.pk)]})
    if "user" in data:
        data["user"] = [str(staff_a.pk)]
    client.force_login(staff_b)
    before = programme_snapshot(populated_a)

    response = client.post(admin_url(model, "add"), data)

    assert response.status_code in {200, 403}, response.status_code  # form error or refusal
    assert_unchanged(before, programme_snapshot(populated_a), f"admin add {label} as staff of B")

    # The control: staff of A can add exactly this row, so B was refused for the programme.
    client.force_login(staff_a)
    control = client.post(admin_url(model, "add"), data)
    if response.status_code == 403 and control.status_code == 403:
        return  # a model nobody adds through the admin, such as the audit log
    assert control.status_code == 302, (
        f"staff of A could not add the {label}, so refusing B proved nothing: "
        f"{control.context['adminform'].form.errors if control.context else control}"
    )


@by_model(SCOPED_MODELS)
def test_staff_of_a_see_their_own_row(client, staff_a, model, row):
    # The control for the tests above: the same URLs answer 200 to the row's own staff.
    client.force_login(staff_a)
    assert client.get(admin_url(model, "change", row)).status_code == 200
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    with scopes_disabled():
        assert row.pk in {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize("model", UNSCOPED_MODELS, ids=lambda m: m._meta.label)
def test_staff_cannot_open_models_that_belong_to_no_programme(client, staff_b, populated_a, model):
    # Accounts, email addresses, authenticators and groups span programmes: operators only.
    client.force_login(staff_b)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code in {302, 403}, (
        f"{model._meta.label} is not tenant-owned, yet its changelist answers "
        f"{response.status_code} to programme staff."
    )


@pytest.mark.parametrize("who", A_NON_STAFF)
def test_members_without_staff_role_are_kept_out_of_the_admin(
    client, resolve_actor, populated_a, who
):
    client.force_login(resolve_actor(who))
    for url in [reverse("admin:index"), *(admin_url(m, "changelist") for m in SCOPED_MODELS)]:
        response = client.get(url)
        assert response.status_code in {302, 403}, f"GET {url} as {who}: {response.status_code}"
        followed = client.get(url, follow=True)
        assert followed.status_code != 200 or "admin/" not in " ".join(
            t.name or "" for t in followed.templates
        ), f"GET {url} as {who} ends on an admin page"


@pytest.mark.parametrize("model", OPERATOR_ONLY_MODELS, ids=lambda m: m._meta.label)
def test_staff_cannot_open_operator_only_models_even_in_their_programme(
    client, staff_a, populated_a, model
):
    assert OPERATOR_ONLY_MODELS, "the operator-only list is empty"
    client.force_login(staff_a)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 403
