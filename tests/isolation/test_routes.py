"""Every route of the site, generated from the URL conf, against every outsider (DESIGN §4).

The matrix is (route x actor x method). Routes come from walking the root resolver, so a new
route under /p/<slug>/ is tried by programme B's members and by anonymous visitors the day it
is added, and a new route anywhere else fails the suite until someone classifies it below.
Each request is wrapped in a snapshot of programme A, so "nothing of A changed" is checked
as well as the status code.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.urls import resolve, reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from cohort.models import Invitation, Membership, Programme, Role
from config.api import router as api_router

from ..factories import (
    PASSWORD,
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
    OutboxMessageFactory,
    PartnerKeyFactory,
    RecruitmentCallFactory,
    ResourceFactory,
    ReviewCriterionFactory,
    WebhookDeliveryFactory,
)
from .conftest import A_NON_STAFF, B_MEMBERS
from .meetings import MeetingYear, meeting_year, mentorship_of
from .support import PROGRAMME_PREFIX, Route, all_routes, assert_unchanged, programme_snapshot

pytestmark = pytest.mark.django_db

ROUTES = all_routes()
PROGRAMME_ROUTES = [r for r in ROUTES if r.is_programme_route]
OTHER_ROUTES = [r for r in ROUTES if not r.is_programme_route]
METHODS = ("GET", "POST")
OUTSIDERS = (*B_MEMBERS, "anonymous")


# --- Registries: what the suite must be told about each route ---------------------------------


@dataclass(frozen=True)
class Sample:
    """How to address a record of a programme in a URL argument, and a value that matches
    no record at all (to check that "not yours" and "does not exist" get the same answer)."""

    make: Callable[[Programme], Any]
    missing: Callable[[], Any]
    # False for an argument that picks a variant of a page (a kind of people, a file format)
    # rather than a record: every programme has the same values, so there is no record of A
    # for programme B's members to aim at.
    names_a_record: bool = True


# URL argument name -> a record of the given programme. A route with an argument missing here
# fails every test that needs it, with a message saying to add it.
def _staff_of(programme: Programme):
    """The programme's first staff member (one is made if the test has none yet)."""
    with scopes_disabled():
        membership = Membership.objects.filter(programme=programme, role=Role.STAFF).first()
        if membership is None:
            membership = MembershipFactory(programme=programme, role=Role.STAFF)
        return membership.user


def _announcement_for_everyone(programme: Programme):
    from notifications.services import announcement_publish

    with scope(programme=programme):
        return announcement_publish(
            programme=programme,
            author=_staff_of(programme),
            title="For everyone",
            body="Read me.",
            audience="programme",
        )


def _people_import(programme: Programme):
    from cohort.models import PeopleImport

    with scopes_disabled():
        return PeopleImport.objects.create(programme=programme, kind="fellows", filename="a.csv")


def _staff_plan(programme: Programme):
    """A plan whose fellow is the programme's first staff member, mentored by themselves, so
    staff hold every relation to it (owner, mentor, staff) and reach every plan route."""
    from pdp.models import PDP, CompetencyDomain, Objective

    staff = _staff_of(programme)
    fellow = mentorship_of(programme, staff, staff).fellow
    with scopes_disabled():
        pdp, _ = PDP.objects.get_or_create(fellow=fellow, defaults={"programme": programme})
        domain, _ = CompetencyDomain.objects.get_or_create(programme=programme, name="Leadership")
        objective = pdp.objectives.first() or Objective.objects.create(
            programme=programme,
            pdp=pdp,
            domain=domain,
            title="Lead a team",
            measure="A team of three",
            target_date="2027-01-01",
        )
    return pdp, objective


def _plan_action(programme: Programme):
    with scopes_disabled():
        return _staff_plan(programme)[1].actions.get_or_create(programme=programme, text="A step")[
            0
        ]


def _plan_file(programme: Programme):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from pdp.services import evidence_add

    objective = _staff_plan(programme)[1]
    with scope(programme=programme):
        return evidence_add(
            objective=objective,
            actor=None,
            data={
                "kind": "file",
                "title": "A file",
                "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
            },
        )


def _connection(programme: Programme):
    from mentoring.models import Connection

    with scopes_disabled():
        return Connection.objects.create(
            programme=programme,
            requester=MembershipFactory(programme=programme, role=Role.FELLOW).user,
            addressee=_staff_of(programme),
        )


def _match_pair(programme: Programme):
    from mentoring.models import MatchPair

    fellow = FellowFactory(programme=programme)
    return MatchPair.objects.create(
        programme=programme,
        cohort=fellow.cohort,
        fellow=fellow,
        mentor=MentorFactory(programme=programme),
    )


def _sample_event(programme: Programme):
    """The programme's event under way (it began ten minutes ago), open to everyone in it:
    members open it and check in with its code, staff mark attendance; registering for it is
    refused with a message, as it has started."""
    from events.models import Event

    with scopes_disabled():
        event = Event.objects.filter(programme=programme, title="Isolation event").first()
        if event is None:
            starts = timezone.now() - timedelta(minutes=10)
            event = EventFactory(
                programme=programme,
                title="Isolation event",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
            )
    return event


def _staff_registration(programme: Programme):
    """The staff member's own place at the event (they are a fellow too, as for the plan below),
    attended, so the evidence route acts for its owner."""
    from events.models import Registration

    _staff_plan(programme)
    with scopes_disabled():
        return Registration.objects.get_or_create(
            programme=programme,
            event=_sample_event(programme),
            user=_staff_of(programme),
            defaults={"status": "attended", "attended_at": timezone.now()},
        )[0]


def _checkin_code(programme: Programme) -> str:
    from events.services import checkin_code

    return checkin_code(_sample_event(programme))


def _metric_run(programme: Programme):
    """A finished computation of the programme's figures."""
    from metrics.models import MetricRun

    with scopes_disabled():
        return MetricRun.objects.create(
            programme=programme, trigger=MetricRun.Trigger.ON_DEMAND, status="done"
        )


def _programme_report(programme: Programme):
    """A finished annual report of the programme's first cohort."""
    from metrics.models import ProgrammeReport

    with scopes_disabled():
        cohort = CohortFactory(programme=programme)
        return ProgrammeReport.objects.create(
            programme=programme, cohort=cohort, status="done", pdf=b"%PDF-1.7 sample", size=15
        )


def _staff_outcome(programme: Programme):
    """A funding record of the staff member's own (they are a fellow too, as for the plan),
    waiting for verification."""
    from metrics.models import FundingRecord

    fellow = _staff_plan(programme)[0].fellow
    with scopes_disabled():
        record = FundingRecord.objects.filter(programme=programme, fellow=fellow).first()
        if record is None:
            record = FundingRecord.objects.create(
                programme=programme,
                fellow=fellow,
                kind="grant",
                amount="1000",
                source="A sample grant",
                received_on=timezone.localdate() - timedelta(days=10),
            )
    return record


def _staff_venture(programme: Programme):
    """A venture of the staff member's own fellowship, its forecast inputs sent for review."""
    from cohort.models import Venture
    from metrics.models import ForecastInput

    fellow = _staff_plan(programme)[0].fellow
    with scopes_disabled():
        venture = Venture.objects.filter(programme=programme, fellow=fellow).first()
        if venture is None:
            venture = Venture.objects.create(
                programme=programme,
                fellow=fellow,
                name="Sample venture",
                summary="A sample.",
                stage="pilot",
                sector="digital",
            )
            ForecastInput.objects.create(
                programme=programme,
                venture=venture,
                status="submitted",
                submitted_at=timezone.now(),
                **{
                    f"{prefix}_{part}": value
                    for prefix, values in (
                        ("launch_delay", (0, 1, 2)),
                        ("market_potential", (5, 10, 20)),
                        ("patients_per_site", (100, 200, 400)),
                    )
                    for part, value in zip(("low", "likely", "high"), values, strict=True)
                },
            )
    return venture


def _staff_year(programme: Programme) -> MeetingYear:
    """The year of the staff member's own mentorship (they are its fellow and its mentor, as for
    the plan above, so staff hold every relation to its records and reach every meeting route),
    with a record at each stage. The milestone achieved is tied to their PDP objective."""
    staff = _staff_of(programme)
    return meeting_year(programme, staff, staff, objective=_staff_plan(programme)[1])


# Which record of a year a meeting route is aimed at, by URL argument: by default the draft
# meeting and its open milestone; a route that acts on a record in another state gets one in
# that state (below), so that a write which got through would change something.
YEAR_PICKS: dict[str, Callable[[MeetingYear], Any]] = {
    "mentorship_uuid": lambda year: year.mentorship.uuid,
    "meeting_uuid": lambda year: year.draft.uuid,
    "milestone_uuid": lambda year: year.open.uuid,
    "sign_off_uuid": lambda year: year.sign_off.uuid,
    "number": lambda year: 1,
}
YEAR_ROUTE_PICKS: dict[tuple[str, str], Callable[[MeetingYear], Any]] = {
    ("mentoring:meeting_return", "meeting_uuid"): lambda year: year.submitted.uuid,
    ("mentoring:meeting_sign", "meeting_uuid"): lambda year: year.submitted.uuid,
    ("mentoring:meeting_reopen", "meeting_uuid"): lambda year: year.signed.uuid,
    ("mentoring:meeting_verify", "meeting_uuid"): lambda year: year.signed.uuid,
    ("mentoring:milestone_remove", "milestone_uuid"): lambda year: year.drafted.uuid,
    ("mentoring:milestone_sign", "milestone_uuid"): lambda year: year.achieved.uuid,
}


def year_pick(year: MeetingYear, route_name: str | None, kwarg: str) -> Any:
    return YEAR_ROUTE_PICKS.get((route_name or "", kwarg), YEAR_PICKS[kwarg])(year)


SAMPLES: dict[str, Sample] = {
    "invitation_uuid": Sample(
        make=lambda programme: InvitationFactory(programme=programme, role=Role.STAFF).uuid,
        missing=uuid.uuid4,
    ),
    # A notification belongs to one person: here, the programme's first staff member.
    "notification_uuid": Sample(
        make=lambda programme: (
            NotificationFactory(programme=programme, recipient=_staff_of(programme)).uuid
        ),
        missing=uuid.uuid4,
    ),
    "announcement_uuid": Sample(
        make=lambda programme: _announcement_for_everyone(programme).uuid,
        missing=uuid.uuid4,
    ),
    # The sample fellow agreed to share with partners, so every member role may open it.
    "membership_uuid": Sample(
        make=lambda programme: MembershipFactory(programme=programme, role=Role.MENTOR).uuid,
        missing=uuid.uuid4,
    ),
    "cohort_uuid": Sample(
        make=lambda programme: CohortFactory(programme=programme).uuid,
        missing=uuid.uuid4,
    ),
    "fellow_uuid": Sample(
        make=lambda programme: FellowFactory(programme=programme, consent_to_share=True).uuid,
        missing=uuid.uuid4,
    ),
    "mentor_uuid": Sample(
        make=lambda programme: MentorFactory(programme=programme).uuid,
        missing=uuid.uuid4,
    ),
    "criterion_uuid": Sample(
        make=lambda programme: ReviewCriterionFactory(programme=programme).uuid,
        missing=uuid.uuid4,
    ),
    "question_uuid": Sample(
        make=lambda programme: (
            ApplicationQuestionFactory(call=RecruitmentCallFactory(programme=programme)).uuid
        ),
        missing=uuid.uuid4,
    ),
    "application_uuid": Sample(
        make=lambda programme: (
            ApplicationFactory(call=RecruitmentCallFactory(programme=programme)).uuid
        ),
        missing=uuid.uuid4,
    ),
    "import_uuid": Sample(
        make=lambda programme: _people_import(programme).uuid,
        missing=uuid.uuid4,
    ),
    "pdp_uuid": Sample(make=lambda programme: _staff_plan(programme)[0].uuid, missing=uuid.uuid4),
    "objective_uuid": Sample(
        make=lambda programme: _staff_plan(programme)[1].uuid, missing=uuid.uuid4
    ),
    "action_uuid": Sample(make=lambda programme: _plan_action(programme).uuid, missing=uuid.uuid4),
    "domain_uuid": Sample(
        make=lambda programme: _staff_plan(programme)[1].domain.uuid, missing=uuid.uuid4
    ),
    "evidence_uuid": Sample(make=lambda programme: _plan_file(programme).uuid, missing=uuid.uuid4),
    # A fellow of the programme, to connect with.
    "user_uuid": Sample(
        make=lambda programme: MembershipFactory(programme=programme, role=Role.FELLOW).user.uuid,
        missing=uuid.uuid4,
    ),
    # A fellow of the programme, whose data staff may erase.
    "person_uuid": Sample(
        make=lambda programme: FellowFactory(programme=programme).user.uuid,
        missing=uuid.uuid4,
    ),
    # A request to connect addressed to the programme's staff member (the owner).
    "connection_uuid": Sample(
        make=lambda programme: _connection(programme).uuid, missing=uuid.uuid4
    ),
    "pair_uuid": Sample(
        make=lambda programme: _match_pair(programme).uuid,
        missing=uuid.uuid4,
    ),
    "mentorship_uuid": Sample(
        make=lambda programme: MentorshipFactory(fellow=FellowFactory(programme=programme)).uuid,
        missing=uuid.uuid4,
    ),
    "message_uuid": Sample(
        make=lambda programme: OutboxMessageFactory(programme=programme, status="failed").uuid,
        missing=uuid.uuid4,
    ),
    "delivery_uuid": Sample(
        make=lambda programme: WebhookDeliveryFactory(programme=programme).uuid,
        missing=uuid.uuid4,
    ),
    # The year's meeting records: the staff member's own (see _staff_year and YEAR_PICKS).
    "meeting_uuid": Sample(
        make=lambda programme: _staff_year(programme).draft.uuid, missing=uuid.uuid4
    ),
    "milestone_uuid": Sample(
        make=lambda programme: _staff_year(programme).open.uuid, missing=uuid.uuid4
    ),
    "sign_off_uuid": Sample(
        make=lambda programme: _staff_year(programme).sign_off.uuid, missing=uuid.uuid4
    ),
    # events: events and registrations
    "event_uuid": Sample(make=lambda programme: _sample_event(programme).uuid, missing=uuid.uuid4),
    "registration_uuid": Sample(
        make=lambda programme: _staff_registration(programme).uuid, missing=uuid.uuid4
    ),
    # The event's current check-in code (the event is a record already).
    "code": Sample(make=_checkin_code, missing=lambda: "not-a-code", names_a_record=False),
    # metrics: outcome records (the staff member's own funding record; "kind" is picked per
    # route in ROUTE_SAMPLES below, as the people import uses the same argument name).
    "record_uuid": Sample(
        make=lambda programme: _staff_outcome(programme).uuid, missing=uuid.uuid4
    ),
    # metrics: the forecast of a venture of the staff member's own (they are its fellow, as for
    # the plan), with inputs waiting for review, so accepting or returning them changes them.
    "venture_uuid": Sample(
        make=lambda programme: _staff_venture(programme).uuid, missing=uuid.uuid4
    ),
    "key_uuid": Sample(
        make=lambda programme: PartnerKeyFactory(programme=programme).uuid, missing=uuid.uuid4
    ),
    "run_uuid": Sample(make=lambda programme: _metric_run(programme).uuid, missing=uuid.uuid4),
    "report_uuid": Sample(
        make=lambda programme: _programme_report(programme).uuid, missing=uuid.uuid4
    ),
    # Which metric (a name, the same in every programme).
    "key": Sample(
        make=lambda programme: "funding_raised", missing=lambda: "nonsense", names_a_record=False
    ),
    # Which meeting of the year to start (there is no meeting 99 in any programme).
    "number": Sample(make=lambda programme: 1, missing=lambda: 99, names_a_record=False),
    # Bulk import and export: which people, and in which file format.
    "kind": Sample(
        make=lambda programme: "fellows", missing=lambda: "nothing", names_a_record=False
    ),
    "fmt": Sample(make=lambda programme: "csv", missing=lambda: "nothing", names_a_record=False),
    # events: resources and opportunities. A published resource and an open opportunity, so
    # every member reaches them; linking a resource aims at the staff member's own objective
    # ("objective_uuid" above).
    "resource_uuid": Sample(
        make=lambda programme: ResourceFactory(programme=programme).uuid, missing=uuid.uuid4
    ),
    "opportunity_uuid": Sample(
        make=lambda programme: OpportunityFactory(programme=programme).uuid, missing=uuid.uuid4
    ),
}

# Route name -> URL argument -> a record of the given programme, where the route needs one in
# a particular state rather than SAMPLES' (signing a submitted meeting, reopening a signed one).
ROUTE_SAMPLES: dict[str, dict[str, Callable[[Programme], Any]]] = {}
for (_route, _kwarg), _pick in YEAR_ROUTE_PICKS.items():
    ROUTE_SAMPLES.setdefault(_route, {})[_kwarg] = lambda programme, pick=_pick: pick(
        _staff_year(programme)
    )

# metrics: the outcome routes name a kind of outcome where the people import names a kind of
# person.
for _route in [
    "metrics:outcome_report",
    "metrics:outcome_edit",
    "metrics:outcome_withdraw",
    "metrics:outcome_verify",
    "metrics:outcome_reject",
]:
    ROUTE_SAMPLES.setdefault(_route, {})["kind"] = lambda programme: "funding"

# Routes addressing a record of a programme (a route whose arguments only pick a variant of a
# page is covered by the outsider and role tests, but has no record of A to aim at).
RECORD_ROUTES = [
    r
    for r in PROGRAMME_ROUTES
    if any(name not in SAMPLES or SAMPLES[name].names_a_record for name in r.record_kwargs)
]


def _email_of(kwargs) -> str:
    from django.contrib.auth import get_user_model

    person = get_user_model().objects.filter(uuid=kwargs["person_uuid"]).first()
    return person.email if person else ""


def _in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _record_form(kwargs) -> dict[str, Any]:
    """The meeting record's form as its editor would send it: at the record's current version,
    so that an edit that got through would be saved, not refused as stale."""
    from mentoring.models import Meeting

    with scopes_disabled():
        meeting = Meeting.objects.filter(uuid=kwargs["meeting_uuid"]).first()
    return {
        "version": meeting.version if meeting else 1,
        "held_on": _in_days(-1),
        "format": "phone",
        "discussion": "Taken over",
        "fellow_reflection": "Taken over",
        "mentor_advice": "Taken over",
    }


def _review_form(kwargs) -> dict[str, Any]:
    """A review of the milestone at the meeting (its form fields carry the milestone's uuid)."""
    from mentoring.models import MilestoneReview

    with scopes_disabled():
        review = MilestoneReview.objects.filter(
            meeting__uuid=kwargs["meeting_uuid"], milestone__uuid=kwargs["milestone_uuid"]
        ).first()
    prefix = f"r-{kwargs['milestone_uuid']}"
    return {
        f"{prefix}-version": review.version if review else "",
        f"{prefix}-outcome": "missed",
        f"{prefix}-comment": "Taken over",
        f"{prefix}-new_due_on": "",
        f"{prefix}-evidence": "",
    }


def _windows_form(kwargs) -> dict[str, Any]:
    """The cohort's meeting windows with the second one opening a day later."""
    from cohort.models import Cohort

    with scopes_disabled():
        cohort = Cohort.objects.filter(uuid=kwargs["cohort_uuid"]).first()
    if cohort is None:
        return {}
    data = {}
    for number, opens, closes in cohort.meeting_windows():
        if number == 2:
            opens += timedelta(days=1)
        data[f"opens_{number}"], data[f"closes_{number}"] = opens.isoformat(), closes.isoformat()
    return data


def _event_form() -> dict[str, Any]:
    """A complete event as staff would write it (no version: a save would go straight in)."""
    return {
        "kind": "webinar",
        "title": "Taken over",
        "starts_on": _in_days(20),
        "starts_time": "14:00",
        "ends_time": "15:00",
        "time_zone": "Europe/London",
        "is_online": "True",
        "online_url": "https://intruder.example/join",
        "audience": "programme",
        "publish": "",
    }


# A plausible form for routes that take a POST; anything else gets an empty POST. A callable
# builds it from the URL's arguments, as the page would (a record's current version, say).
POST_PAYLOADS: dict[str, dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]] = {
    "cohort:invitations": {
        "email": "intruder@bravo.example",
        "role": Role.STAFF,
        "message": "Let me in.",
    },
    "cohort:members": {"q": "", "role": ""},
    "cohort:cohort_create": {
        "name": "Smuggled cohort",
        "starts_on": "2030-09-01",
        "ends_on": "2031-08-31",
    },
    "cohort:cohort_edit": {"name": "Renamed", "starts_on": "2030-09-01", "ends_on": "2031-08-31"},
    "cohort:recruitment": {"name": "Smuggled criterion"},
    "cohort:call": {
        "call-opens_on": "2030-01-01",
        "call-closes_on": "2030-02-01",
        "call-reviews_required": "2",
        "call-shortlist_threshold": "3",
        "call-max_score_spread": "1",
    },
    "cohort:application_decide": {"decision": "declined", "reason": "Intruder"},
    "cohort:application_shortlist": {"reason": "Intruder"},
    "mentoring:match_pair": {"action": "exclude"},
    "pdp:framework": {"name": "Smuggled domain"},
    "pdp:domain_edit": {"name": "Taken over"},
    "pdp:objective_new": {
        "title": "Smuggled",
        "measure": "x",
        "target_date": "2027-01-01",
    },
    "pdp:review": {"decision": "return", "comments": "Intruder"},
    "mentoring:mentorship_end": {"reason": "Ended by an intruder"},
    "notifications:preferences": {
        "announcement": "in_app",
        "membership": "in_app",
        "mentorship": "in_app",
        "connection": "in_app",
        "reminder": "in_app",
        "event": "in_app",
        "outcome": "in_app",
    },
    # A confirmation of a preview token that is not in the poster's session.
    "cohort:people_import": {"import_token": "not-a-preview-of-yours"},
    # The whole form, the person's own address typed, so an erasure that got through would
    # change programme A's rows.
    "cohort:person_erase": lambda kwargs: {
        "reason": "Intruder",
        "confirm_email": _email_of(kwargs),
    },
    "notifications:announcement_create": {
        "title": "Posted by an intruder",
        "body": "Let me in.",
        "audience": "programme",
    },
    "mentoring:meeting_windows": _windows_form,
    "mentoring:meeting_edit": _record_form,
    "mentoring:milestone_add": lambda kwargs: {
        "title": "Smuggled milestone",
        "measure": "x",
        "due_on": _in_days(60),
        "objective": "",
    },
    "mentoring:review_save": _review_form,
    "mentoring:meeting_return": {"comments": "Returned by an intruder"},
    # The sample records' mentor is a factory-made person, whose password this is.
    "mentoring:meeting_sign": {"secret": PASSWORD},
    "mentoring:milestone_sign": {"secret": PASSWORD},
    "mentoring:meeting_reopen": {"reason": "Reopened by an intruder"},
    # events: events and registrations
    "events:create": lambda kwargs: _event_form(),
    "events:edit": lambda kwargs: _event_form(),
    "events:cancel_event": {"reason": "Cancelled by an intruder"},
    "events:attendance": {"attended": "no"},
    "metrics:outcome_reject": {"reason": "Returned by an intruder"},
    "metrics:forecast_return": {"reason": "Returned by an intruder"},
    "metrics:forecast_venture": {
        "launch_delay_low": "0",
        "launch_delay_likely": "0",
        "launch_delay_high": "0",
        "market_potential_low": "9999",
        "market_potential_likely": "9999",
        "market_potential_high": "9999",
        "patients_per_site_low": "1",
        "patients_per_site_likely": "1",
        "patients_per_site_high": "1",
        "assumptions": "Taken over",
        "action": "submit",
    },
    "metrics:forecast_settings": {
        "probability_idea": "1",
        "probability_prototype": "1",
        "probability_pilot": "1",
        "probability_evidence": "1",
        "probability_scaling": "1",
        "bass_p": "0.5",
        "bass_q": "0.5",
        "draws": "1000",
        "horizon_years": "2",
        "cost_discount_rate": "0",
        "health_discount_rate": "0",
        "qaly_value": "1",
        "nice_threshold_low": "1",
        "nice_threshold_high": "1",
    },
    "metrics:targets": {"events_attended": "1"},
    "cohort:partner_keys": lambda kwargs: {
        "name": "Smuggled key",
        "scopes": ["metrics:read"],
        "expires_on": "2027-06-01",
    },
    "metrics:outcome_edit": {
        "kind": "equity",
        "amount": "999999",
        "source": "Taken over",
        "received_on": "2026-01-01",
    },
    # events: resources and opportunities
    "events:resource_new": {"kind": "video", "title": "Smuggled", "url": "https://example.org/"},
    "events:resource_edit": {"kind": "video", "title": "Taken over", "url": "https://x.org/"},
    "events:opportunity_new": {
        "kind": "funding",
        "title": "Smuggled",
        "summary": "Posted by an intruder.",
        "url": "https://example.org/",
    },
    "events:opportunity_edit": {
        "kind": "funding",
        "title": "Taken over",
        "summary": "Changed by an intruder.",
        "url": "https://example.org/",
    },
    "events:opportunity_close": {"reason": "Closed by an intruder"},
    "events:opportunity_applied": {"note": "Applied by an intruder"},
}

# Who inside a programme may use each of its routes. "staff": programme staff only; every
# other role gets 403 (or 404). "members": every member of the programme. "member-action": a
# POST-only action any member may take (GET answers 405). "own": a record that belongs to one
# person (the sample's owner is the programme's staff member); anyone else gets 404. For the
# year's meetings "own" means the records of one mentorship: its fellow, its mentor and staff
# reach them, anyone else gets 404 (fellow_a, mentor_a and partner_a have no part in the
# samples' mentorships; test_a_fellow_cannot_reach_another_fellows_meeting_records, at the
# end, tries a fellow who shares the mentor).
STAFF, MEMBERS, MEMBER_ACTION, OWN = "staff", "members", "member-action", "own"
# Staff and mentors (a mentor sees only their mentees there); fellows and partners are refused.
STAFF_AND_MENTORS = "staff-and-mentors"
# Mentors only (their own mentees): everyone else, staff included, is refused with 403.
MENTORS = "mentors"
# Every member, but the page may send them on to their own view of it: 200, or a redirect to
# another page of the same programme.
MEMBERS_DISPATCH = "members-dispatch"
ROUTE_ACCESS: dict[str, str] = {
    "cohort:home": MEMBERS,
    "cohort:members": STAFF,
    "cohort:membership_remove": STAFF,
    "cohort:invitations": STAFF,
    "cohort:invitation_revoke": STAFF,
    "cohort:invitation_resend": STAFF,
    "cohort:audit": STAFF,
    "cohort:cohorts": STAFF,
    "cohort:cohort_create": STAFF,
    "cohort:cohort_edit": STAFF,
    "cohort:directory": MEMBERS,
    "cohort:fellow": MEMBERS,
    "cohort:mentor": MEMBERS,
    "cohort:my_profile": MEMBERS,
    "cohort:people_import_job": STAFF,
    # Erasing a person's data: staff of every programme the person is in (the page says so).
    "cohort:person_erase": STAFF,
    "cohort:recruitment": STAFF,
    "cohort:funnel": STAFF,
    "cohort:criterion_remove": STAFF,
    "cohort:call": STAFF,
    "cohort:question_remove": STAFF,
    "cohort:applications": STAFF,
    "cohort:call_shortlist": STAFF,
    "cohort:application": STAFF,
    "cohort:application_review": STAFF,
    "cohort:application_shortlist": STAFF,
    "cohort:application_interview": STAFF,
    "cohort:application_decide": STAFF,
    "pdp:mine": MEMBERS,
    "pdp:list": STAFF_AND_MENTORS,
    "pdp:fellow": STAFF,
    "pdp:detail": STAFF,
    "pdp:history": STAFF,
    "pdp:submit": STAFF,
    "pdp:review": STAFF,
    "pdp:objective_new": STAFF,
    "pdp:objective_edit": STAFF,
    "pdp:objective_status": STAFF,
    "pdp:action_add": STAFF,
    "pdp:evidence_add": STAFF,
    "pdp:action_toggle": STAFF,
    "pdp:evidence_file": STAFF,
    "pdp:framework": STAFF,
    "pdp:domain_edit": STAFF,
    "pdp:domain_remove": STAFF,
    "pdp:pdf": STAFF,
    "mentoring:matching": STAFF,
    "mentoring:matching_cohort": STAFF,
    "mentoring:matching_run": STAFF,
    "mentoring:matching_publish": STAFF,
    "mentoring:match_pair": STAFF,
    "mentoring:mentorships": MEMBERS,
    "mentoring:mentorship_end": STAFF,
    "mentoring:network": MEMBERS,
    "mentoring:connect": MEMBER_ACTION,
    "mentoring:connection_respond": OWN,
    "notifications:list": MEMBERS,
    "notifications:read_all": MEMBER_ACTION,
    "notifications:preferences": MEMBERS,
    "notifications:deliveries": STAFF,
    "notifications:delivery_retry": STAFF,
    "notifications:webhook_deliveries": STAFF,
    "notifications:webhook_send_again": STAFF,
    "notifications:open": OWN,
    "notifications:read": OWN,
    "notifications:announcements": STAFF,
    "notifications:announcement_create": STAFF,
    "notifications:announcement": MEMBERS,
    "notifications:announcement_dismiss": MEMBER_ACTION,
    "cohort:people_import": STAFF,
    "cohort:people_import_template": STAFF,
    "cohort:people_export": STAFF,
    "mentoring:meetings": MEMBERS_DISPATCH,
    "mentoring:mentees": MENTORS,
    "mentoring:meetings_overview": STAFF,
    "mentoring:meeting_windows": STAFF,
    "mentoring:mentorship_year": OWN,
    "mentoring:meeting_start": OWN,
    "mentoring:year_record_pdf": OWN,
    "mentoring:meeting": OWN,
    "mentoring:meeting_edit": OWN,
    "mentoring:milestone_add": OWN,
    "mentoring:review_save": OWN,
    "mentoring:meeting_submit": OWN,
    "mentoring:meeting_return": OWN,
    "mentoring:meeting_sign": OWN,
    "mentoring:meeting_verify": OWN,
    "mentoring:sign_off": OWN,
    "mentoring:milestone_remove": OWN,
    "mentoring:milestone_sign": OWN,
    # Staff only: the record's own fellow and mentor get 403, anyone else the 404 of a record
    # that is not theirs.
    "mentoring:meeting_reopen": STAFF,
    "mentoring:meeting_history": STAFF,
    # events: events and registrations
    "events:list": MEMBERS,
    "events:create": STAFF,
    "events:event": MEMBERS,
    "events:edit": STAFF,
    "events:publish": STAFF,
    "events:cancel_event": STAFF,
    "events:register": MEMBER_ACTION,
    "events:unregister": MEMBER_ACTION,
    "events:register_list": STAFF,
    "events:register_export": STAFF,
    "events:attendance": STAFF,
    "events:attendance_evidence": OWN,
    "events:checkin_code": STAFF,
    "events:checkin": MEMBERS,
    # events: calendars. Each event's .ics is for every member who may see the event; the
    # calendar page is every member's own, and its actions act only on their own feed.
    "events:event_ics": MEMBERS,
    "events:calendar": MEMBERS,
    "events:calendar_create": MEMBER_ACTION,
    "events:calendar_reset": MEMBER_ACTION,
    "events:calendar_revoke": MEMBER_ACTION,
    # events: resources and opportunities. Linking a resource to an objective is the plan's
    # fellow's (and staff's): anyone else gets the 404 of an objective that does not exist.
    # Bookmarks and "I have applied" are fellows' own; others are told so (a redirect).
    "events:resources": MEMBERS,
    "events:resource": MEMBERS,
    "events:resource_new": STAFF,
    "events:resource_edit": STAFF,
    "events:resource_unpublish": STAFF,
    "events:resource_publish": STAFF,
    "events:resource_link": OWN,
    "events:resource_unlink": OWN,
    "events:opportunities": MEMBERS,
    "events:opportunity": MEMBERS,
    "events:opportunity_new": STAFF,
    "events:opportunity_edit": STAFF,
    "events:opportunity_publish": STAFF,
    "events:opportunity_close": STAFF,
    "events:opportunity_bookmark": MEMBER_ACTION,
    "events:opportunity_unbookmark": MEMBER_ACTION,
    "events:opportunity_applied": MEMBER_ACTION,
    "events:opportunity_applied_undo": MEMBER_ACTION,
    # metrics: outcome records. A fellow's outcomes are their own; anyone who is not a fellow
    # is sent on (staff to the verification queue). Verifying and returning are for staff.
    "metrics:outcomes": MEMBERS_DISPATCH,
    "metrics:outcome_quarter": MEMBER_ACTION,
    "metrics:outcome_report": MEMBERS_DISPATCH,
    "metrics:queue": STAFF,
    "metrics:outcome_edit": OWN,
    "metrics:outcome_withdraw": OWN,
    "metrics:outcome_verify": STAFF,
    "metrics:outcome_reject": STAFF,
    # metrics: the Patient Impact forecast. A venture's forecast is its fellow's (her mentor
    # reads it) and staff's: anyone else gets the 404 of a venture that does not exist. The
    # programme page shows staff everything, a fellow her cohort's totals, a mentor the
    # mentees' ventures, and sends a partner home.
    "metrics:forecast": MEMBERS_DISPATCH,
    "metrics:forecast_recompute": STAFF,
    "metrics:forecast_settings": STAFF,
    "metrics:forecast_review": STAFF,
    "metrics:forecast_venture": OWN,
    "metrics:forecast_preview": OWN,
    "metrics:forecast_accept": STAFF,
    "metrics:forecast_return": STAFF,
    # metrics: the programme's figures are for staff only (a fellow sees her own on her home).
    # The partner API's keys are made and revoked by staff only.
    "cohort:partner_keys": STAFF,
    "cohort:partner_key": STAFF,
    "cohort:partner_key_revoke": STAFF,
    "metrics:dashboard": STAFF,
    "metrics:targets": STAFF,
    "metrics:run_create": STAFF,
    "metrics:run": STAFF,
    "metrics:metric": STAFF,
    "metrics:metric_rows": STAFF,
    "metrics:export": STAFF,
    "metrics:reports": STAFF,
    "metrics:report": STAFF,
    "metrics:report_download": STAFF,
    "metrics:metric_export": STAFF,
}

# Every route outside /p/<slug>/ and outside the admin, with why it is safe. A route missing
# here fails test_every_route_outside_programmes_is_classified.
NON_PROGRAMME_ROUTES: dict[str, str] = {
    "healthz": "liveness probe, touches nothing",
    "readyz": "readiness probe, reads no rows",
    "home": "programme picker: lists only the signed-in person's memberships",
    "invitation_accept": "the secret token is the credential; the email must match to accept",
    "apply_programme": "public by design: names a programme's open calls, reads nothing else",
    "apply": "public by design: the expression-of-interest form of one call (by UUID); it "
    "only creates an application in that call",
    "application_continue": "the secret token in the applicant's email is the credential; it "
    "shows and changes only that one application",
    "account_personal_data": "the signed-in person's own data only: every exporter filters to "
    "request.user (accounts.personal_data; tests/accounts/test_personal_data.py)",
    "notifications_unsubscribe": "a signed token is the credential; it only switches that "
    "person's optional emails of one kind to in-app",
    # allauth: the signed-in person's own account.
    "account_login": "allauth",
    "account_logout": "allauth",
    "account_inactive": "allauth",
    "account_signup": "allauth",
    "account_reauthenticate": "allauth",
    "account_email": "allauth",
    "account_email_verification_sent": "allauth",
    "account_change_password": "allauth",
    "account_set_password": "allauth",
    "account_reset_password": "allauth",
    "account_confirm_login_code": "allauth",
    "account_confirm_email": "allauth",
    "account_reset_password_from_key_done": "allauth",
    "account_reset_password_from_key": "allauth",
    "account_reset_password_done": "allauth",
    "mfa_index": "allauth MFA",
    "mfa_authenticate": "allauth MFA",
    "mfa_reauthenticate": "allauth MFA",
    "mfa_activate_totp": "allauth MFA",
    "mfa_deactivate_totp": "allauth MFA",
    "mfa_view_recovery_codes": "allauth MFA",
    "mfa_generate_recovery_codes": "allauth MFA",
    "mfa_download_recovery_codes": "allauth MFA",
    # The partner API: the API key names the tenant (cohort.partner_api), not the path.
    "api:webhook-list": "partner API: a key's own organisation's webhook endpoints in the "
    "key's programme only; any other endpoint answers 404 (tests/notifications/test_webhooks.py)",
    "api:webhook-detail": "partner API: as api:webhook-list, one endpoint; DELETE disables it",
    "api:webhook-deliveries": "partner API: the deliveries of one of the key's organisation's "
    "endpoints",
    "calendar_feed": "a person's calendar feed for their calendar app: the secret token (32 "
    "random bytes) is the credential; it shows only that person's events and meetings in the "
    "feed's own programme, read inside that programme's scope, and writes nothing but the "
    "feed's last-read time; a wrong token answers 404, a revoked one 410, a former member's 404",
    "api:schema": "the partner API's OpenAPI schema: public, describes endpoints, reads no rows",
    "api:docs": "the partner API's documentation, drawn from the schema: reads no rows",
    # The partner API: the API key is the credential and names the tenant (its programme), so
    # there is no slug to check; tests/api/test_api_isolation.py tries every one of these
    # routes, read from the same router, with no key, wrong, revoked and expired keys, a key
    # without the scope, a key of programme B and a key of another partner in programme A.
    **{
        f"api:{url.name}": "partner API, tenant from the key: see tests/api/"
        for url in api_router.get_urls()
    },
}


# Admin routes beyond the standard ones of the site and of each registered ModelAdmin.
EXTRA_ADMIN_ROUTES: dict[str, str] = {
    "admin:auth_user_password_change": "UserAdmin, operators only (tests/isolation/"
    "test_admin_isolation.py checks staff cannot open unscoped models)",
}


# --- Helpers ------------------------------------------------------------------------------------


def record_kwargs(route: Route, programme: Programme) -> dict[str, Any]:
    values = {}
    for name in route.record_kwargs:
        if name not in SAMPLES:
            pytest.fail(
                f"Route {route.key} ({route.pattern}) takes the URL argument {name!r}: "
                f"add a sample for kwarg {name!r} to the registry SAMPLES in "
                "tests/isolation/test_routes.py so the isolation suite can build its URL."
            )
        make = ROUTE_SAMPLES.get(route.name or "", {}).get(name, SAMPLES[name].make)
        values[name] = make(programme)
    return values


def missing_kwargs(route: Route) -> dict[str, Any]:
    return {name: SAMPLES[name].missing() for name in route.record_kwargs}


def url_for(route: Route, slug: str, values: dict[str, Any]) -> str:
    if not route.name:
        pytest.fail(f"Give the route {route.pattern} a name, so the suite can reverse it.")
    return reverse(route.name, kwargs={"programme_slug": slug, **values})


def send(client, method: str, url: str, route: Route):
    if method == "GET":
        return client.get(url)
    payload = POST_PAYLOADS.get(route.name or "", {})
    if callable(payload):
        payload = payload(resolve(urlsplit(url).path).kwargs)
    return client.post(url, payload)


def describe(response) -> str:
    where = response.get("Location", "")
    return f"{response.status_code}{' -> ' + where if where else ''}"


def login_redirect_target(response) -> str | None:
    """The `next` of a redirect to the sign-in page, or None if it is not one."""
    if response.status_code != 302:
        return None
    location = urlsplit(response["Location"])
    if location.path != reverse("account_login"):
        return None
    return parse_qs(location.query).get("next", [None])[0]


def by_method(routes, methods=METHODS):
    """(route, method) cases; each test tries every actor in turn on the same fixtures, which
    is several times quicker than building programme A again for each actor."""
    return [
        pytest.param(route, method, id=f"{route.key}-{method}")
        for route in routes
        for method in methods
    ]


# --- The shape of the URL conf ------------------------------------------------------------------


def test_the_url_conf_has_programme_routes():
    # Guards the generator itself: an empty matrix would pass vacuously.
    assert len(PROGRAMME_ROUTES) >= 6, [r.key for r in PROGRAMME_ROUTES]
    assert {"cohort:home", "cohort:invitation_revoke"} <= {r.key for r in PROGRAMME_ROUTES}


@pytest.mark.parametrize("route", PROGRAMME_ROUTES, ids=str)
def test_programme_routes_live_under_the_middlewares_prefix(route):
    # ProgrammeMiddleware checks membership only for /p/<slug>/...; a route that takes a
    # programme slug anywhere else would skip the check and the scope.
    assert route.pattern.startswith(PROGRAMME_PREFIX), (
        f"{route.key} takes programme_slug but is mounted at {route.pattern!r}, outside "
        f"{PROGRAMME_PREFIX!r}, where ProgrammeMiddleware never checks membership."
    )


def test_every_route_under_p_takes_the_programme_slug():
    stray = [r.pattern for r in OTHER_ROUTES if r.pattern.startswith("p/")]
    assert not stray, f"Routes under p/ without programme_slug: {stray}"


@pytest.mark.parametrize("route", PROGRAMME_ROUTES, ids=str)
def test_every_programme_route_argument_has_a_sample(route, programme_a):
    assert route.name, f"Give the route {route.pattern} a name, so the suite can reverse it."
    for name in route.record_kwargs:
        assert name in SAMPLES, (
            f"Route {route.key} takes the URL argument {name!r}: add a sample for kwarg "
            f"{name!r} to the registry SAMPLES in tests/isolation/test_routes.py."
        )


@pytest.mark.parametrize("route", PROGRAMME_ROUTES, ids=str)
def test_every_programme_route_says_who_may_use_it(route):
    assert route.name in ROUTE_ACCESS, (
        f"Classify the route {route.key} in ROUTE_ACCESS (tests/isolation/test_routes.py): "
        "'staff', 'staff-and-mentors', 'members', 'member-action' or 'own' "
        "(see the comment above ROUTE_ACCESS)."
    )


def test_route_access_has_no_stale_entries():
    stale = set(ROUTE_ACCESS) - {r.name for r in PROGRAMME_ROUTES}
    assert not stale, f"ROUTE_ACCESS names routes that no longer exist: {sorted(stale)}"


def _expected_admin_routes() -> set[str]:
    expected = {
        "admin:index",
        "admin:login",
        "admin:logout",
        "admin:password_change",
        "admin:password_change_done",
        "admin:autocomplete",
        "admin:jsi18n",
        "admin:view_on_site",
        "admin:app_list",
        "admin/(?P<url>.*)$",  # the catch-all that answers 404 (final_catch_all_view)
        *EXTRA_ADMIN_ROUTES,
    }
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        expected |= {
            f"admin:{app}_{name}_{view}" for view in ("changelist", "add", "history", "delete")
        }
        expected.add(f"admin:{app}_{name}_change")
        expected.add(f"admin/{app}/{name}/<path:object_id>/")  # redirect to the change view
    return expected


def test_every_route_outside_programmes_is_classified():
    actual = {r.key for r in OTHER_ROUTES if not r.is_admin}
    unknown = actual - set(NON_PROGRAMME_ROUTES)
    stale = set(NON_PROGRAMME_ROUTES) - actual
    assert not unknown, (
        f"New routes outside /p/<slug>/: {sorted(unknown)}. Decide whether they belong under "
        "/p/<slug>/ (where the middleware checks membership) and, if not, add them with the "
        "reason they are safe to NON_PROGRAMME_ROUTES in tests/isolation/test_routes.py."
    )
    assert not stale, f"NON_PROGRAMME_ROUTES lists routes that no longer exist: {sorted(stale)}"


def test_every_admin_route_is_a_standard_one():
    # Standard ModelAdmin views are covered model by model in test_admin_isolation.py; a
    # custom admin view (ModelAdmin.get_urls) would not be, so it must be looked at first.
    actual = {r.key for r in OTHER_ROUTES if r.is_admin}
    unknown = actual - _expected_admin_routes()
    assert not unknown, (
        f"Custom admin routes {sorted(unknown)}: check they filter to the staff's programmes "
        "and add them to EXTRA_ADMIN_ROUTES in tests/isolation/test_routes.py."
    )


# --- Programme B's members and anonymous visitors against programme A ------------------------


@pytest.mark.parametrize(("route", "method"), by_method(PROGRAMME_ROUTES))
def test_outsiders_cannot_reach_programme_a(
    client, resolve_actor, populated_a, programme_b, route, method
):
    url = url_for(route, populated_a.slug, record_kwargs(route, populated_a))
    for who in OUTSIDERS:
        client.logout()
        _outsider_is_refused(
            client, resolve_actor, populated_a, programme_b, route, method, url, who
        )


def _outsider_is_refused(client, resolve_actor, populated_a, programme_b, route, method, url, who):
    user = resolve_actor(who)
    if user is not None:
        client.force_login(user)
    before = programme_snapshot(populated_a)

    response = send(client, method, url, route)

    assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as {who}")
    if user is None:
        assert login_redirect_target(response) == url, (
            f"{method} {url} as an anonymous visitor: expected a redirect to sign in, "
            f"got {describe(response)}"
        )
    else:
        assert response.status_code == 404, (
            f"{method} {url} as {who} (a member of {programme_b.slug} only): expected 404, "
            f"got {describe(response)}"
        )


@pytest.mark.parametrize(("route", "method"), by_method(RECORD_ROUTES))
def test_own_programme_slug_with_a_record_of_a(
    client, resolve_actor, populated_a, programme_b, route, method
):
    """/p/bravo/invitations/<A's uuid>/revoke/: B's slug passes the middleware, so only the
    view's own lookup stands between B's member and A's record."""
    a_values = record_kwargs(route, populated_a)
    # B has records of its own, so the route is live in B; only A's are being aimed at.
    record_kwargs(route, programme_b)
    url = url_for(route, programme_b.slug, a_values)
    missing_url = url_for(route, programme_b.slug, missing_kwargs(route))
    for who in B_MEMBERS:
        _b_member_cannot_aim_at_a(
            client, resolve_actor, populated_a, route, method, url, missing_url, who
        )


def _b_member_cannot_aim_at_a(
    client, resolve_actor, populated_a, route, method, url, missing_url, who
):
    client.force_login(resolve_actor(who))
    before = programme_snapshot(populated_a)

    response = send(client, method, url, route)

    assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as {who}")
    missing = send(client, method, missing_url, route)
    # 405 answers the method before any lookup, 403 the role: neither says A's record exists.
    allowed = {404, 405} if who == "staff_b" else {403, 404, 405}
    assert response.status_code in allowed, (
        f"{method} {url} as {who}: expected {sorted(allowed)}, got {describe(response)}"
    )
    assert response.status_code == missing.status_code, (
        f"{method} {url} as {who}: A's record answers {describe(response)} but a record that "
        f"does not exist answers {describe(missing)}; the difference confirms A's record exists."
    )


@pytest.mark.parametrize("method", METHODS)
def test_invitation_link_of_a_does_not_admit_staff_of_b(client, staff_b, populated_a, method):
    with scopes_disabled():
        invitation = InvitationFactory(
            programme=populated_a, email="newstaff@alpha.example", role=Role.STAFF
        )
    client.force_login(staff_b)
    before = programme_snapshot(populated_a)
    with scopes_disabled():
        memberships_before = Membership.objects.count()

    url = invitation.get_accept_url()
    response = client.get(url) if method == "GET" else client.post(url)

    assert response.status_code < 500, describe(response)
    assert_unchanged(before, programme_snapshot(populated_a), f"{method} invitation link")
    with scopes_disabled():
        assert Membership.objects.count() == memberships_before
        assert not Membership.objects.filter(programme=populated_a, user=staff_b).exists()
        invitation = Invitation.objects.get(pk=invitation.pk)
    assert invitation.accepted_at is None and invitation.accepted_by is None
    assert client.get(f"/p/{populated_a.slug}/").status_code == 404


@pytest.mark.parametrize(
    "route",
    [r for r in OTHER_ROUTES if not r.is_admin and r.name and not r.kwargs],
    ids=str,
)
def test_pages_outside_programmes_show_nothing_of_a(client, staff_b, populated_a, route):
    client.force_login(staff_b)
    before = programme_snapshot(populated_a)

    response = client.get(reverse(route.name))

    assert_unchanged(before, programme_snapshot(populated_a), f"GET {route.key} as staff_b")
    assert response.status_code < 500, describe(response)
    body = response.content.decode(errors="replace")
    assert populated_a.name not in body
    assert f"/p/{populated_a.slug}/" not in body


# --- Inside programme A: roles -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "method"),
    [
        pytest.param(r, m, id=f"{r.key}-staff_a-{m}")
        for r in PROGRAMME_ROUTES
        if ROUTE_ACCESS.get(r.name or "") != MENTORS
        for m in METHODS
    ],
)
def test_staff_of_a_reach_every_route_of_a(client, staff_a, populated_a, route, method):
    # The control: the URLs built above are real pages of A, so the 404s are not vacuous.
    url = url_for(route, populated_a.slug, record_kwargs(route, populated_a))
    client.force_login(staff_a)
    response = send(client, method, url, route)
    assert response.status_code not in {403, 404}, f"{method} {url}: {describe(response)}"
    assert response.status_code < 500, f"{method} {url}: {describe(response)}"


@pytest.mark.parametrize(
    ("route", "method"),
    [
        pytest.param(r, m, id=f"{r.key}-mentor_a-{m}")
        for r in PROGRAMME_ROUTES
        if ROUTE_ACCESS.get(r.name or "") == MENTORS
        for m in METHODS
    ],
)
def test_mentors_of_a_reach_their_own_routes(client, mentor_a, staff_a, populated_a, route, method):
    # The control for the mentors' pages, which staff (who hold no mentor role) cannot open.
    url = url_for(route, populated_a.slug, record_kwargs(route, populated_a))
    client.force_login(mentor_a)
    response = send(client, method, url, route)
    assert response.status_code not in {403, 404}, f"{method} {url}: {describe(response)}"
    assert response.status_code < 500, f"{method} {url}: {describe(response)}"
    client.force_login(staff_a)
    refused = send(client, method, url, route)
    assert refused.status_code == 403, f"{method} {url} as staff: {describe(refused)}"


@pytest.mark.parametrize(("route", "method"), by_method(PROGRAMME_ROUTES))
def test_roles_inside_programme_a(client, resolve_actor, populated_a, route, method):
    access = ROUTE_ACCESS.get(route.name or "")
    if access is None:
        pytest.fail(f"Classify the route {route.key} in ROUTE_ACCESS (see its test).")
    url = url_for(route, populated_a.slug, record_kwargs(route, populated_a))
    for who in A_NON_STAFF:
        _role_gets_what_it_may(client, resolve_actor, populated_a, route, method, url, access, who)


def _role_gets_what_it_may(client, resolve_actor, populated_a, route, method, url, access, who):
    client.force_login(resolve_actor(who))
    before = programme_snapshot(populated_a)

    response = send(client, method, url, route)

    assert response.status_code < 500, f"{method} {url} as {who}: {describe(response)}"
    if access == MEMBERS:
        if method == "GET":
            assert response.status_code == 200, f"GET {url} as {who}: {describe(response)}"
        return
    if access == STAFF_AND_MENTORS and who == "mentor_a":
        assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as {who}")
        return
    if access == MENTORS and who == "mentor_a":
        assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as {who}")
        if method == "GET":
            assert response.status_code == 200, f"GET {url} as {who}: {describe(response)}"
        return
    if access == MEMBERS_DISPATCH:
        assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as {who}")
        if method == "GET":
            target = response.get("Location", "") if response.status_code == 302 else ""
            assert response.status_code == 200 or target.startswith(f"/p/{populated_a.slug}/"), (
                f"GET {url} as {who}: {describe(response)}"
            )
        return
    if access == MEMBER_ACTION:
        expected = {405} if method == "GET" else {302, 303}
        assert response.status_code in expected, f"{method} {url} as {who}: {describe(response)}"
        return
    if access == OWN:
        # Someone else's record: the same 404 as a record that does not exist (405 for a GET
        # of a POST-only action, which is answered before any lookup).
        assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as {who}")
        assert response.status_code in {404, 405}, (
            f"{method} {url} is someone else's, but {who} got {describe(response)}"
        )
        return
    assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as {who}")
    if response.status_code == 405:
        # Only acceptable when the method is refused to staff as well (a POST-only action).
        client.force_login(resolve_actor("staff_a"))
        staff_response = send(client, method, url, route)
        assert staff_response.status_code == 405, (
            f"{method} {url}: {who} got 405 but staff got {describe(staff_response)}"
        )
    else:
        assert response.status_code in {403, 404}, (
            f"{method} {url} is for programme staff, but {who} got {describe(response)}"
        )


# --- Inside programme A: another fellow's meeting records --------------------------------------

# Routes that address a mentorship's records (its year, meetings, milestones and sign-offs).
MEETING_RECORD_ROUTES = [
    r
    for r in PROGRAMME_ROUTES
    if r.record_kwargs
    and set(r.record_kwargs) <= set(YEAR_PICKS)
    and any(SAMPLES[k].names_a_record for k in r.record_kwargs)
]


def test_meeting_record_routes_are_found():
    # Guards the generator: an empty list would make the test below pass vacuously.
    names = {r.name for r in MEETING_RECORD_ROUTES}
    assert {"mentoring:meeting", "mentoring:meeting_sign", "mentoring:sign_off"} <= names


@pytest.fixture
def sibling_year(programme_a, fellow_a, mentor_a, populated_a):
    """Another fellow's year, mentored by fellow_a's own mentor: fellow_a has a mentorship with
    mentor_a too, so the two fellows differ only in whose records these are."""
    mentorship_of(programme_a, fellow_a, mentor_a)
    other = MembershipFactory(programme=programme_a, role=Role.FELLOW).user
    return meeting_year(programme_a, other, mentor_a)


@pytest.mark.parametrize(
    ("route", "method"),
    [pytest.param(r, m, id=f"{r.key}-{m}") for r in MEETING_RECORD_ROUTES for m in METHODS],
)
def test_a_fellow_cannot_reach_another_fellows_meeting_records(
    client, fellow_a, populated_a, sibling_year, route, method
):
    """DESIGN §5: another fellow's meetings are private, even to a fellow of the same mentor."""
    values = {name: year_pick(sibling_year, route.name, name) for name in route.record_kwargs}
    url = url_for(route, populated_a.slug, values)
    missing_url = url_for(route, populated_a.slug, missing_kwargs(route))
    client.force_login(fellow_a)
    before = programme_snapshot(populated_a)

    response = send(client, method, url, route)

    assert_unchanged(before, programme_snapshot(populated_a), f"{method} {url} as fellow_a")
    missing = send(client, method, missing_url, route)
    assert response.status_code in {403, 404, 405}, (
        f"{method} {url} is another fellow's, but fellow_a got {describe(response)}"
    )
    assert response.status_code == missing.status_code, (
        f"{method} {url} as fellow_a: the other fellow's record answers {describe(response)} "
        f"but a record that does not exist answers {describe(missing)}."
    )
    # The control: the records are real, and the fellow they belong to reaches them.
    client.force_login(sibling_year.mentorship.fellow.user)
    own = send(client, method, url, route)
    assert own.status_code != 404 and own.status_code < 500, (
        f"{method} {url} as the fellow whose record it is: {describe(own)}"
    )
