"""Pages of the mentoring app: matching a cohort (staff), the mentorships list, the year's
meetings with their milestones and sign-offs, and networking."""

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cohort.models import AuditEvent, Cohort, Fellow, Membership, Mentor, Role
from cohort.services import audit_log
from cohort.views import PAGE_SIZE, ensure_errors_shown, role_required

from . import records
from .forms import (
    CredentialForm,
    EndMentorshipForm,
    MeetingForm,
    MentorshipFilterForm,
    MilestoneForm,
    OverviewFilterForm,
    PinForm,
    ReopenForm,
    ReturnForm,
    ReviewForm,
    SignForm,
    WindowsForm,
)
from .models import Connection, MatchPair, Meeting, Mentorship, Milestone, MilestoneReview, SignOff
from .selectors import mentorship_rows
from .services import (
    MEETING_FIELDS,
    StaleEdit,
    cohort_windows,
    connection_request,
    connection_respond,
    match_pair_change,
    match_pin,
    matching_publish,
    matching_run,
    meeting_fields_for,
    meeting_reopen,
    meeting_return,
    meeting_save,
    meeting_sign,
    meeting_start,
    meeting_submit,
    meeting_windows_save,
    mentor_places,
    mentorship_end,
    milestone_add,
    milestone_remove,
    milestone_sign,
    open_milestones,
    review_save,
    submission_problems,
    unmatched_fellows,
)


@role_required(Role.STAFF)
def matching_overview_view(request, programme_slug):
    programme = request.programme
    cohorts = Cohort.objects.filter(programme=programme).annotate(
        fellow_count=Count("fellows", distinct=True),
        matched=Count("mentorships", filter=Q(mentorships__ended_on__isnull=True), distinct=True),
        pending=Count(
            "match_pairs",
            filter=Q(match_pairs__state__in=[MatchPair.State.PROPOSED, MatchPair.State.LOCKED]),
            distinct=True,
        ),
    )
    places = mentor_places(programme=programme).values()
    return TemplateResponse(
        request,
        "mentoring/matching_overview.html",
        {
            "cohorts": cohorts,
            "mentor_count": len(places),
            "free_places": sum(max(p["free"], 0) for p in places),
        },
    )


def _matching_page(request, cohort, *, pin_form=None, status=200):
    programme = request.programme
    pairs = list(
        MatchPair.objects.filter(cohort=cohort)
        .select_related("fellow__user", "mentor__user", "mentor__organisation")
        .order_by("state", "fellow__user__full_name", "pk")
    )
    places = list(mentor_places(programme=programme, cohort=cohort).values())
    places.sort(key=lambda p: (-p["free"], str(p["mentor"])))
    waiting = list(unmatched_fellows(cohort=cohort))
    matched = Mentorship.objects.filter(cohort=cohort, ended_on__isnull=True).count()
    active = [p for p in pairs if p.state != MatchPair.State.EXCLUDED]
    return TemplateResponse(
        request,
        "mentoring/matching_cohort.html",
        {
            "cohort": cohort,
            "pairs": active,
            "excluded": [p for p in pairs if p.state == MatchPair.State.EXCLUDED],
            "locked_count": sum(p.state == MatchPair.State.LOCKED for p in active),
            "unmatched": waiting,
            "matched_count": matched,
            "places": places,
            "free_total": sum(max(p["free"], 0) for p in places),
            "pin_form": pin_form
            or PinForm(fellows=waiting, mentors=[p for p in places if p["free"] > 0]),
        },
        status=status,
    )


def _cohort_or_404(request, cohort_uuid):
    return get_object_or_404(Cohort, programme=request.programme, uuid=cohort_uuid)


@role_required(Role.STAFF)
def matching_cohort_view(request, programme_slug, cohort_uuid):
    """Propose, adjust and publish the matching of a cohort's fellows with mentors."""
    cohort = _cohort_or_404(request, cohort_uuid)
    if request.method != "POST":
        return _matching_page(request, cohort)
    # A POST here is staff choosing a fellow's mentor themselves.
    waiting = list(unmatched_fellows(cohort=cohort))
    places = list(mentor_places(programme=request.programme, cohort=cohort).values())
    form = PinForm(request.POST, fellows=waiting, mentors=places)
    if form.is_valid():
        fellow = Fellow.objects.get(cohort=cohort, uuid=form.cleaned_data["fellow"])
        mentor = Mentor.objects.get(programme=request.programme, uuid=form.cleaned_data["mentor"])
        try:
            match_pin(cohort=cohort, fellow=fellow, mentor=mentor, actor=request.user)
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"{fellow} is paired with {mentor} and the pair is locked.")
            return redirect(
                "mentoring:matching_cohort", programme_slug=programme_slug, cohort_uuid=cohort.uuid
            )
    return _matching_page(request, cohort, pin_form=form, status=400)


@require_POST
@role_required(Role.STAFF)
def matching_run_view(request, programme_slug, cohort_uuid):
    cohort = _cohort_or_404(request, cohort_uuid)
    result = matching_run(cohort=cohort, actor=request.user)
    if not result.proposals and not result.unmatched:
        messages.info(request, f"Every fellow of {cohort.name} has a mentor or a locked pair.")
    else:
        text = f"Proposed {len(result.proposals)} pair{'s' if len(result.proposals) != 1 else ''}"
        text += f" with a total fit of {result.total_fit}."
        if result.unmatched:
            text += (
                f" {len(result.unmatched)} fellow{'s' if len(result.unmatched) != 1 else ''} "
                "could not be matched: there are not enough free mentor places (or every "
                "remaining pair is excluded). Add mentors or raise their capacity, then run again."
            )
        messages.success(request, text)
    return redirect(
        "mentoring:matching_cohort", programme_slug=programme_slug, cohort_uuid=cohort.uuid
    )


@require_POST
@role_required(Role.STAFF)
def matching_publish_view(request, programme_slug, cohort_uuid):
    cohort = _cohort_or_404(request, cohort_uuid)
    try:
        mentorships = matching_publish(cohort=cohort, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Published {len(mentorships)} mentorship{'s' if len(mentorships) != 1 else ''}. "
            "Each fellow and mentor has been told who they are working with.",
        )
    return redirect(
        "mentoring:matching_cohort", programme_slug=programme_slug, cohort_uuid=cohort.uuid
    )


@require_POST
@role_required(Role.STAFF)
def match_pair_view(request, programme_slug, pair_uuid):
    """Lock, unlock, exclude or allow again one pair (the button says which)."""
    pair = get_object_or_404(
        MatchPair.objects.select_related("cohort", "fellow__user", "mentor__user"),
        programme=request.programme,
        uuid=pair_uuid,
    )
    action = request.POST.get("action", "")
    try:
        match_pair_change(pair=pair, actor=request.user, action=action)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = {
            "lock": "is locked: re-running keeps it",
            "unlock": "is unlocked: re-running may change it",
            "exclude": "is excluded: matching will not propose it again",
            "allow": "may be proposed again",
        }[action]
        messages.success(request, f"The pair {pair.fellow} and {pair.mentor} {done}.")
    return redirect(
        "mentoring:matching_cohort", programme_slug=programme_slug, cohort_uuid=pair.cohort.uuid
    )


def _visible_mentorships(request):
    """Staff see every mentorship; a mentor sees their mentees'; a fellow sees their own."""
    qs = Mentorship.objects.filter(programme=request.programme).select_related(
        "cohort", "fellow__user", "mentor__user", "mentor__organisation", "ended_by"
    )
    if Role.STAFF in request.roles:
        return qs
    mine = Q(pk__in=[])
    if Role.MENTOR in request.roles:
        mine |= Q(mentor__user=request.user)
    if Role.FELLOW in request.roles:
        mine |= Q(fellow__user=request.user)
    return qs.filter(mine)


def mentorship_list_view(request, programme_slug):
    programme = request.programme
    is_staff = Role.STAFF in request.roles
    cohorts = list(Cohort.objects.filter(programme=programme)) if is_staff else []
    filters = MentorshipFilterForm(request.GET or None, cohorts=cohorts)
    qs = _visible_mentorships(request).order_by("ended_on", "fellow__user__full_name", "pk")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            qs = qs.filter(
                Q(fellow__user__full_name__icontains=data["q"])
                | Q(mentor__user__full_name__icontains=data["q"])
            )
        if data["cohort"]:
            qs = qs.filter(cohort__uuid=data["cohort"])
        if data["state"] == "active":
            qs = qs.filter(ended_on__isnull=True)
        elif data["state"] == "ended":
            qs = qs.filter(ended_on__isnull=False)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "mentoring/mentorship_list.html",
        {
            "page": page,
            "filters": filters,
            "is_staff": is_staff,
            "querystring": query.urlencode(),
        },
    )


@role_required(Role.STAFF)
def mentorship_end_view(request, programme_slug, mentorship_uuid):
    mentorship = get_object_or_404(
        Mentorship.objects.select_related("cohort", "fellow__user", "mentor__user"),
        programme=request.programme,
        uuid=mentorship_uuid,
    )
    form = EndMentorshipForm(request.POST or None)
    if mentorship.ended_on:
        messages.info(request, "This mentorship has already ended.")
        return redirect("mentoring:mentorships", programme_slug=programme_slug)
    if request.method == "POST" and form.is_valid():
        try:
            mentorship_end(
                mentorship=mentorship, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request,
                f"The mentorship of {mentorship.fellow} with {mentorship.mentor} has ended. "
                f"Run matching for {mentorship.cohort.name} to propose a new mentor.",
            )
            return redirect(
                "mentoring:matching_cohort",
                programme_slug=programme_slug,
                cohort_uuid=mentorship.cohort.uuid,
            )
    return TemplateResponse(
        request,
        "mentoring/mentorship_end.html",
        {"mentorship": mentorship, "form": form},
        status=400 if request.method == "POST" else 200,
    )


# --- networking -------------------------------------------------------------------------------


def network_view(request, programme_slug):
    """My network: requests to answer, requests sent, and the people I am connected with."""
    mine = Connection.objects.filter(
        Q(requester=request.user) | Q(addressee=request.user), programme=request.programme
    ).select_related("requester", "addressee")
    incoming, outgoing, connected = [], [], []
    for connection in mine:
        other = (
            connection.addressee
            if connection.requester_id == request.user.pk
            else connection.requester
        )
        connection.other = other
        if connection.status == Connection.Status.ACCEPTED:
            connected.append(connection)
        elif connection.status == Connection.Status.PENDING:
            (outgoing if connection.requester_id == request.user.pk else incoming).append(
                connection
            )
    return TemplateResponse(
        request,
        "mentoring/network.html",
        {"incoming": incoming, "outgoing": outgoing, "connected": connected},
    )


@require_POST
def connect_view(request, programme_slug, user_uuid):
    member = (
        Membership.objects.filter(programme=request.programme, user__uuid=user_uuid)
        .select_related("user")
        .first()
    )
    if member is None:
        raise Http404("No such member.")
    try:
        connection_request(
            programme=request.programme,
            requester=request.user,
            addressee=member.user,
            message=request.POST.get("message", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Your request to connect has gone to {member.user}.")
    return redirect("mentoring:network", programme_slug=programme_slug)


@require_POST
def connection_respond_view(request, programme_slug, connection_uuid):
    connection = get_object_or_404(
        Connection.objects.select_related("requester"),
        programme=request.programme,
        uuid=connection_uuid,
        addressee=request.user,
    )
    accept = request.POST.get("decision") == "accept"
    try:
        connection_respond(connection=connection, actor=request.user, accept=accept)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"You are now connected with {connection.requester}."
            if accept
            else f"You declined {connection.requester}'s request.",
        )
    return redirect("mentoring:network", programme_slug=programme_slug)


# --- the year's meetings -----------------------------------------------------------------------

FELLOW, MENTOR, STAFF = "fellow", "mentor", "staff"


def _relations(request, mentorship) -> set[str]:
    """How the signed-in person stands to a mentorship's records: its fellow, its mentor,
    programme staff (one may be several). 404 for anyone else, so nothing is confirmed."""
    relations = set()
    if mentorship.fellow.user_id == request.user.pk:
        relations.add(FELLOW)
    if mentorship.mentor.user_id == request.user.pk:
        relations.add(MENTOR)
    if Role.STAFF in request.roles:
        relations.add(STAFF)
    if not relations:
        raise Http404("No meeting records here.")
    return relations


# The cohort's programme too: its meeting windows read programme.meetings_per_year, which
# would otherwise cost a query per cohort (a mentor's mentees span several cohorts).
MENTORSHIP_RELATED = [
    "cohort__programme",
    "fellow__user",
    "mentor__user",
    "mentor__organisation",
]


def _mentorship_or_404(request, mentorship_uuid):
    mentorship = get_object_or_404(
        Mentorship.objects.select_related(*MENTORSHIP_RELATED),
        programme=request.programme,
        uuid=mentorship_uuid,
    )
    return mentorship, _relations(request, mentorship)


def _meeting_or_404(request, meeting_uuid):
    meeting = get_object_or_404(
        Meeting.objects.select_related(
            *(f"mentorship__{r}" for r in MENTORSHIP_RELATED),
            "signed_by",
            "submitted_by",
            "updated_by",
        ),
        programme=request.programme,
        uuid=meeting_uuid,
    )
    return meeting, _relations(request, meeting.mentorship)


def meetings_home_view(request, programme_slug):
    """/meetings/: a fellow's own year; a mentor's mentees; staff's overview."""
    if Role.FELLOW in request.roles:
        mentorship = (
            Mentorship.objects.filter(programme=request.programme, fellow__user=request.user)
            .order_by("ended_on", "-started_on")
            .first()
        )
        if mentorship is not None:
            return redirect(
                "mentoring:mentorship_year",
                programme_slug=programme_slug,
                mentorship_uuid=mentorship.uuid,
            )
    # Staff who also mentor reach their mentees from their home page.
    if Role.STAFF in request.roles:
        return redirect("mentoring:meetings_overview", programme_slug=programme_slug)
    if Role.MENTOR in request.roles:
        return redirect("mentoring:mentees", programme_slug=programme_slug)
    return TemplateResponse(request, "mentoring/no_meetings.html", {})


def mentorship_year_view(request, programme_slug, mentorship_uuid):
    """A mentorship's year: the meetings (next, due, overdue) and every milestone."""
    mentorship, relations = _mentorship_or_404(request, mentorship_uuid)
    (row,) = mentorship_rows([mentorship])
    milestones = list(
        Milestone.objects.filter(mentorship=mentorship)
        .select_related("agreed_at", "objective")
        .order_by("agreed_at__number", "due_on", "pk")
    )
    can_start = mentorship.is_active and bool(relations)
    return TemplateResponse(
        request,
        "mentoring/mentorship_year.html",
        {
            "mentorship": mentorship,
            "row": row,
            "milestones": milestones,
            "relation": _main_relation(relations),
            "can_start": can_start,
            "today": timezone.localdate(),
        },
    )


def _party(relations: set[str]) -> str:
    """Whose voice an edit is in (services._is_party): the fellow's, the mentor's, or staff's."""
    return next(r for r in (FELLOW, MENTOR, STAFF) if r in relations)


def _main_relation(relations: set[str]) -> str:
    return next(r for r in (FELLOW, MENTOR, STAFF) if r in relations)


@require_POST
def meeting_start_view(request, programme_slug, mentorship_uuid, number):
    mentorship, _ = _mentorship_or_404(request, mentorship_uuid)
    try:
        meeting = meeting_start(mentorship=mentorship, number=number, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(
            "mentoring:mentorship_year",
            programme_slug=programme_slug,
            mentorship_uuid=mentorship.uuid,
        )
    return redirect("mentoring:meeting", programme_slug=programme_slug, meeting_uuid=meeting.uuid)


def _can_edit(meeting, relations) -> bool:
    if not meeting.mentorship.is_active:
        return False
    if meeting.is_editable:
        return True
    return meeting.status == Meeting.Status.SUBMITTED and MENTOR in relations


def _meeting_page(request, meeting, relations, *, bound=None, stale=None, status=200):
    """The meeting record with the forms the viewer may use. A form that failed comes back
    bound, with what was typed; `stale` is the record as someone else saved it meanwhile."""
    bound = bound or {}
    mentorship = meeting.mentorship
    can_edit = _can_edit(meeting, relations)
    editable = can_edit and meeting.is_editable
    record_form = bound.get("record")
    if record_form is None and can_edit:
        record_form = MeetingForm(
            initial={
                "version": meeting.version,
                **{f: getattr(meeting, f) for f in MEETING_FIELDS},
            },
            fields=meeting_fields_for(meeting, _party(relations)),
        )
    reviews = {
        r.milestone_id: r
        for r in meeting.reviews.select_related("milestone", "milestone__objective")
    }
    to_review = list(open_milestones(meeting))
    for milestone in to_review:
        milestone.review = reviews.get(milestone.pk)
        if editable:
            review = milestone.review
            milestone.review_form = bound.get(("review", milestone.pk)) or ReviewForm(
                prefix=f"r-{milestone.uuid}",
                initial={
                    "version": review.version if review else None,
                    "outcome": review.outcome if review else None,
                    "comment": review.comment if review else "",
                    "new_due_on": review.new_due_on if review else None,
                    "evidence": review.evidence if review else "",
                },
            )
    agreed = list(meeting.milestones_agreed.select_related("objective"))
    objectives = _fellow_objectives(mentorship)
    milestone_form = None
    if editable:
        milestone_form = bound.get("milestone") or MilestoneForm(objectives=objectives)
    is_fellow = FELLOW in relations
    is_mentor = MENTOR in relations and mentorship.is_active
    pdp = _fellow_pdp(mentorship) if meeting.number == 1 else None
    return TemplateResponse(
        request,
        "mentoring/meeting.html",
        {
            "meeting": meeting,
            "mentorship": mentorship,
            "relation": _main_relation(relations),
            "is_staff": STAFF in relations,
            "window": cohort_windows(mentorship.cohort).get(meeting.number),
            "record_form": record_form,
            "editable": editable,
            "to_review": to_review,
            "agreed": agreed,
            "milestone_form": milestone_form,
            "problems": submission_problems(meeting) if editable and is_fellow else [],
            "can_submit": editable and is_fellow and mentorship.is_active,
            "can_sign": is_mentor and meeting.status == Meeting.Status.SUBMITTED,
            "return_form": bound.get("return")
            or (ReturnForm() if is_mentor and meeting.status == Meeting.Status.SUBMITTED else None),
            "earlier": list(
                meeting.sign_offs.filter(kind=SignOff.Kind.MEETING, reopened_at__isnull=False)
                .select_related("reopened_by")
                .order_by("-signed_at")
            ),
            "live_sign_off": meeting.sign_offs.filter(
                kind=SignOff.Kind.MEETING, reopened_at__isnull=True
            ).first(),
            "pdp": pdp,
            "stale": stale,
            "failed_form": next((f for f in bound.values() if f is not None), None),
        },
        status=status,
    )


def _fellow_objectives(mentorship):
    from pdp.models import Objective

    return Objective.objects.filter(
        programme=mentorship.programme, pdp__fellow=mentorship.fellow
    ).exclude(status=Objective.Status.DROPPED)


def _fellow_pdp(mentorship):
    from pdp.models import PDP

    return PDP.objects.filter(fellow=mentorship.fellow).first()


def meeting_view(request, programme_slug, meeting_uuid):
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    return _meeting_page(request, meeting, relations)


def _back_to(meeting, anchor=""):
    return redirect(
        reverse(
            "mentoring:meeting",
            kwargs={"programme_slug": meeting.programme.slug, "meeting_uuid": meeting.uuid},
        )
        + anchor
    )


def _refuse_locked(request, meeting, relations):
    """A write to a record the viewer may not change (signed, submitted, ended): said on the
    page, nothing changed."""
    messages.error(
        request,
        "This record is signed off and locked. Only programme staff can reopen it, with a reason."
        if meeting.is_signed
        else "This record cannot be changed now: it is with the mentor for sign-off."
        if meeting.status == Meeting.Status.SUBMITTED
        else "This mentorship has ended; its meetings can no longer change.",
    )
    return _back_to(meeting)


@require_POST
def meeting_edit_view(request, programme_slug, meeting_uuid):
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    if not _can_edit(meeting, relations):
        return _refuse_locked(request, meeting, relations)
    form = MeetingForm(request.POST, fields=meeting_fields_for(meeting, _party(relations)))
    if form.is_valid():
        try:
            meeting_save(
                meeting=meeting,
                actor=request.user,
                data=form.cleaned_data,
                version=form.cleaned_data["version"],
            )
        except StaleEdit as stale:
            # Keep what they typed; let the next save replace what is there now, knowingly.
            data = request.POST.copy()
            data["version"] = stale.current.version
            form = MeetingForm(data, fields=meeting_fields_for(stale.current, _party(relations)))
            form.is_valid()
            meeting.refresh_from_db()
            return _meeting_page(
                request, meeting, relations, bound={"record": form}, stale=stale.current, status=409
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, "The record has been saved.")
            return _back_to(meeting)
    return _meeting_page(request, meeting, relations, bound={"record": form}, status=400)


@require_POST
def milestone_add_view(request, programme_slug, meeting_uuid):
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    if not (_can_edit(meeting, relations) and meeting.is_editable):
        return _refuse_locked(request, meeting, relations)
    form = MilestoneForm(request.POST, objectives=_fellow_objectives(meeting.mentorship))
    if form.is_valid():
        try:
            milestone = milestone_add(meeting=meeting, actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"The milestone “{milestone.title}” has been added.")
            return _back_to(meeting, "#milestones")
    return _meeting_page(request, meeting, relations, bound={"milestone": form}, status=400)


@require_POST
def milestone_remove_view(request, programme_slug, milestone_uuid):
    milestone = get_object_or_404(
        Milestone.objects.select_related("agreed_at"),
        programme=request.programme,
        uuid=milestone_uuid,
    )
    meeting, relations = _meeting_or_404(request, milestone.agreed_at.uuid)
    if not (_can_edit(meeting, relations) and meeting.is_editable):
        return _refuse_locked(request, meeting, relations)
    try:
        milestone_remove(milestone=milestone, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The milestone “{milestone.title}” has been removed.")
    return _back_to(meeting, "#milestones")


@require_POST
def review_save_view(request, programme_slug, meeting_uuid, milestone_uuid):
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    milestone = get_object_or_404(Milestone, mentorship=meeting.mentorship, uuid=milestone_uuid)
    if not (_can_edit(meeting, relations) and meeting.is_editable):
        return _refuse_locked(request, meeting, relations)
    form = ReviewForm(request.POST, prefix=f"r-{milestone.uuid}")
    stale = None
    if form.is_valid():
        try:
            review_save(
                meeting=meeting,
                milestone=milestone,
                actor=request.user,
                data=form.cleaned_data,
                version=form.cleaned_data["version"],
            )
        except StaleEdit as error:
            stale = error.current
            data = request.POST.copy()
            data[form.add_prefix("version")] = stale.version if stale else ""
            form = ReviewForm(data, prefix=f"r-{milestone.uuid}")
            form.is_valid()
            form.add_error(
                None,
                "Someone else reviewed this milestone since you opened the page. Your review "
                "is below, not saved; what is saved now is shown above it. Save again to "
                "replace it.",
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"Your review of “{milestone.title}” has been saved.")
            return _back_to(meeting, f"#milestone-{milestone.uuid}")
    return _meeting_page(
        request,
        meeting,
        relations,
        bound={("review", milestone.pk): form},
        status=409 if stale is not None else 400,
    )


@require_POST
def meeting_submit_view(request, programme_slug, meeting_uuid):
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    if FELLOW not in relations:
        raise PermissionDenied("Only the fellow submits the record of their meeting.")
    try:
        meeting_submit(meeting=meeting, actor=request.user)
    except ValidationError as error:
        messages.error(
            request,
            "The record has not been sent: " + " ".join(error.messages),
        )
    else:
        messages.success(
            request, f"The record has gone to {meeting.mentorship.mentor} to sign off."
        )
    return _back_to(meeting)


# A mentorship that has ended keeps its records as they are: a bookmarked or stale link to
# sign one off or return it gets this, not a bare "permission denied".
ENDED_MENTORSHIP = (
    "This mentorship has ended, so its records stay as they are and can no longer be signed "
    "off or returned. Contact the programme team if a record still needs your sign-off."
)


@require_POST
def meeting_return_view(request, programme_slug, meeting_uuid):
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    if MENTOR not in relations:
        raise PermissionDenied("Only the fellow's mentor returns this record.")
    if not meeting.mentorship.is_active:
        messages.info(request, ENDED_MENTORSHIP)
        return _back_to(meeting)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            meeting_return(
                meeting=meeting, actor=request.user, comments=form.cleaned_data["comments"]
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"The record has gone back to {meeting.mentorship.fellow}.")
            return _back_to(meeting)
    return _meeting_page(request, meeting, relations, bound={"return": form}, status=400)


def _achieved_here(meeting):
    return [
        r.milestone
        for r in meeting.reviews.select_related("milestone").filter(
            outcome=MilestoneReview.Outcome.ACHIEVED
        )
    ]


def meeting_sign_view(request, programme_slug, meeting_uuid):
    """The mentor reads the whole record and signs it with their password or a code."""
    from pdp.models import PDP

    meeting, relations = _meeting_or_404(request, meeting_uuid)
    if MENTOR not in relations:
        raise PermissionDenied("Only the fellow's mentor signs off this record.")
    if not meeting.mentorship.is_active:
        messages.info(request, ENDED_MENTORSHIP)
        return _back_to(meeting)
    if meeting.status != Meeting.Status.SUBMITTED:
        messages.info(
            request,
            "This record is already signed off."
            if meeting.is_signed
            else "This record has not been sent to you to sign off yet.",
        )
        return _back_to(meeting)
    pdp = _fellow_pdp(meeting.mentorship) if meeting.number == 1 else None
    offer_pdp = bool(pdp and pdp.status == PDP.Status.SUBMITTED)
    achieved = _achieved_here(meeting)
    form = SignForm(request.POST or None, achieved=achieved, offer_pdp=offer_pdp)
    status = 200
    if request.method == "POST":
        status = 400
        throttled = not ratelimit.consume(request, action="sign_off", key=str(request.user.uuid))
        if throttled:
            form.add_error(None, "Too many attempts to sign. Wait a few minutes and try again.")
            status = 429
        elif form.is_valid():
            try:
                sign_off = meeting_sign(
                    meeting=meeting,
                    actor=request.user,
                    secret=form.cleaned_data["secret"],
                    confirm=form.cleaned_data.get("confirm") or [],
                    agree_pdp=form.cleaned_data.get("agree_pdp", False),
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
            else:
                messages.success(
                    request,
                    f"You signed off meeting {meeting.number}. The record is locked; its "
                    f"SHA-256 digest is {sign_off.digest}.",
                )
                return _back_to(meeting)
    reviews = meeting.reviews.select_related("milestone")
    return TemplateResponse(
        request,
        "mentoring/meeting_sign.html",
        {
            "meeting": meeting,
            "mentorship": meeting.mentorship,
            "form": form,
            "reviews": reviews,
            "agreed": meeting.milestones_agreed.select_related("objective"),
            "pdp": pdp,
        },
        status=status,
    )


def milestone_sign_view(request, programme_slug, milestone_uuid):
    """The mentor signs off one milestone reviewed as achieved, on its own."""
    milestone = get_object_or_404(
        Milestone.objects.select_related(*(f"mentorship__{r}" for r in MENTORSHIP_RELATED)),
        programme=request.programme,
        uuid=milestone_uuid,
    )
    relations = _relations(request, milestone.mentorship)
    if MENTOR not in relations:
        raise PermissionDenied("Only the fellow's mentor signs off a milestone.")
    review = (
        milestone.reviews.filter(
            meeting__status=Meeting.Status.SIGNED, outcome=MilestoneReview.Outcome.ACHIEVED
        )
        .select_related("meeting")
        .order_by("-meeting__number")
        .first()
    )
    form = CredentialForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if not ratelimit.consume(request, action="sign_off", key=str(request.user.uuid)):
            form.add_error(None, "Too many attempts to sign. Wait a few minutes and try again.")
            status = 429
        elif form.is_valid():
            try:
                milestone_sign(
                    milestone=milestone, actor=request.user, secret=form.cleaned_data["secret"]
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
            else:
                messages.success(request, f"You signed off the milestone “{milestone.title}”.")
                return redirect(
                    "mentoring:mentorship_year",
                    programme_slug=programme_slug,
                    mentorship_uuid=milestone.mentorship.uuid,
                )
    return TemplateResponse(
        request,
        "mentoring/milestone_sign.html",
        {
            "milestone": milestone,
            "mentorship": milestone.mentorship,
            "review": review,
            "form": form,
        },
        status=status,
    )


def meeting_reopen_view(request, programme_slug, meeting_uuid):
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    if STAFF not in relations:
        raise PermissionDenied("Only programme staff reopen a signed record.")
    if not meeting.is_signed:
        messages.info(request, "Only a signed record can be reopened.")
        return _back_to(meeting)
    form = ReopenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting_reopen(meeting=meeting, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request,
                f"Meeting {meeting.number} is open again. The signed version stays readable, "
                "and the record needs a fresh sign-off.",
            )
            return _back_to(meeting)
    return TemplateResponse(
        request,
        "mentoring/meeting_reopen.html",
        {"meeting": meeting, "mentorship": meeting.mentorship, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def meeting_verify_view(request, programme_slug, meeting_uuid):
    """Recompute the digests of the record's signatures and say whether it is intact."""
    meeting, _ = _meeting_or_404(request, meeting_uuid)
    sign_offs = list(
        meeting.sign_offs.select_related("signed_by", "milestone", "reopened_by").order_by(
            "kind", "-signed_at"
        )
    )
    for sign_off in sign_offs:
        sign_off.meeting = meeting
        sign_off.result = records.verify(sign_off)
    live = [s for s in sign_offs if s.is_live]
    all_intact = bool(live) and all(s.result.intact for s in live)
    # Checking a record is itself recorded (DESIGN §11), with what it found.
    audit_log(
        programme=request.programme,
        actor=request.user,
        action="meeting.verified",
        target=meeting,
        changes={
            "intact": all_intact,
            "not_intact": [str(s.uuid) for s in live if not s.result.intact],
        },
    )
    return TemplateResponse(
        request,
        "mentoring/meeting_verify.html",
        {
            "meeting": meeting,
            "mentorship": meeting.mentorship,
            "live": live,
            "earlier": [s for s in sign_offs if not s.is_live],
            "all_intact": all_intact,
        },
    )


def sign_off_view(request, programme_slug, sign_off_uuid):
    """A signature as it was made: the content the mentor signed, readable after a reopen."""
    sign_off = get_object_or_404(
        SignOff.objects.select_related(
            "signed_by",
            "reopened_by",
            "milestone",
            *(f"meeting__mentorship__{r}" for r in MENTORSHIP_RELATED),
        ),
        programme=request.programme,
        uuid=sign_off_uuid,
    )
    _relations(request, sign_off.meeting.mentorship)
    content = sign_off.content
    return TemplateResponse(
        request,
        "mentoring/sign_off.html",
        {
            "sign_off": sign_off,
            "meeting": sign_off.meeting,
            "mentorship": sign_off.meeting.mentorship,
            "record": content.get("meeting"),
            "content": content,
            "canonical": records.canonical_json(content).decode(),
            "formats": dict(Meeting.Format.choices),
            "outcomes": dict(MilestoneReview.Outcome.choices),
        },
    )


def meeting_history_view(request, programme_slug, meeting_uuid):
    """Staff: the audit trail of one record — every edit, submission, sign-off and reopening."""
    meeting, relations = _meeting_or_404(request, meeting_uuid)
    if STAFF not in relations:
        raise PermissionDenied("The audit trail is for programme staff.")
    events = AuditEvent.objects.filter(
        programme=request.programme,
        target_type=ContentType.objects.get_for_model(Meeting),
        target_id=str(meeting.uuid),
    ).order_by("-occurred_at", "-pk")
    return TemplateResponse(
        request,
        "mentoring/meeting_history.html",
        {"meeting": meeting, "mentorship": meeting.mentorship, "events": events},
    )


@role_required(Role.MENTOR)
def mentees_view(request, programme_slug):
    """A mentor's mentees: meetings held and due, records waiting for their sign-off first."""
    mentorships = (
        Mentorship.objects.filter(programme=request.programme, mentor__user=request.user)
        .select_related(*MENTORSHIP_RELATED)
        .order_by("ended_on", "fellow__user__full_name", "pk")
    )
    rows = mentorship_rows(mentorships)
    rows.sort(key=lambda r: (not r["waiting"], not r["mentorship"].is_active, -r["overdue"]))
    return TemplateResponse(
        request,
        "mentoring/mentees.html",
        {"rows": rows, "waiting": sum(len(r["waiting"]) for r in rows)},
    )


@role_required(Role.STAFF)
def meetings_overview_view(request, programme_slug):
    """Staff: every mentorship of a cohort and how its meetings stand, with filters."""
    cohorts = list(
        Cohort.objects.filter(programme=request.programme)
        .annotate(active=Count("mentorships", filter=Q(mentorships__ended_on__isnull=True)))
        .filter(active__gt=0)
    )
    filters = OverviewFilterForm(request.GET or None, cohorts=cohorts)
    data = filters.cleaned_data if filters.is_valid() else {}
    cohort = next((c for c in cohorts if str(c.uuid) == data.get("cohort")), None)
    cohort = cohort or (cohorts[0] if cohorts else None)
    rows = []
    if cohort is not None:
        qs = Mentorship.objects.filter(cohort=cohort, ended_on__isnull=True).select_related(
            *MENTORSHIP_RELATED
        )
        if data.get("q"):
            qs = qs.filter(
                Q(fellow__user__full_name__icontains=data["q"])
                | Q(mentor__user__full_name__icontains=data["q"])
            )
        rows = mentorship_rows(qs.order_by("fellow__user__full_name", "pk"))
    totals = {key: sum(1 for r in rows if r[key]) for key in ("overdue", "submitted", "returned")}
    if data.get("state"):
        rows = [r for r in rows if r[data["state"]]]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "mentoring/meetings_overview.html",
        {
            "cohort": cohort,
            "filters": filters,
            "page": page,
            "totals": totals,
            "querystring": query.urlencode(),
        },
    )


@role_required(Role.STAFF)
def meeting_windows_view(request, programme_slug, cohort_uuid):
    """Staff set the dates of each meeting's window for a cohort."""
    cohort = get_object_or_404(Cohort, programme=request.programme, uuid=cohort_uuid)
    windows = cohort_windows(cohort)
    form = WindowsForm(request.POST or None, windows=windows)
    if request.method == "POST" and form.is_valid():
        try:
            meeting_windows_save(cohort=cohort, actor=request.user, windows=form.windows())
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"The meeting windows of {cohort.name} have been saved.")
            return redirect(
                "mentoring:meeting_windows", programme_slug=programme_slug, cohort_uuid=cohort.uuid
            )
    derived = {n: (o, c) for n, o, c in cohort.meeting_windows()}
    return TemplateResponse(
        request,
        "mentoring/meeting_windows.html",
        {
            "cohort": cohort,
            "form": form,
            "numbers": [
                {
                    "number": n,
                    "opens": form[f"opens_{n}"],
                    "closes": form[f"closes_{n}"],
                    "derived": derived[n],
                    "custom": windows[n] != derived[n],
                }
                for n in sorted(windows)
            ],
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def year_record_pdf_view(request, programme_slug, mentorship_uuid):
    """The year's record as a PDF: every meeting, milestone and sign-off with its digest."""
    mentorship, _ = _mentorship_or_404(request, mentorship_uuid)
    from .pdf import render_year_record_pdf, year_record_filename

    pdf = render_year_record_pdf(mentorship, actor=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{year_record_filename(mentorship)}"'
    response["Cache-Control"] = "private, no-store"
    return response
