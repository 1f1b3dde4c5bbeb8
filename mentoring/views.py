"""Pages of the mentoring app: matching a cohort (staff) and the mentorships list."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from cohort.models import Cohort, Fellow, Membership, Mentor, Role
from cohort.views import PAGE_SIZE, ensure_errors_shown, role_required

from .forms import EndMentorshipForm, MentorshipFilterForm, PinForm
from .models import Connection, MatchPair, Mentorship
from .services import (
    connection_request,
    connection_respond,
    match_pair_change,
    match_pin,
    matching_publish,
    matching_run,
    mentor_places,
    mentorship_end,
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
