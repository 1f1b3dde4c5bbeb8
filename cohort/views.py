"""Pages of the cohort app: the programme picker, home pages, members, invitations, audit."""

import secrets
import uuid
from functools import wraps

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_scopes import scope, scopes_disabled

from .adapters import INVITATION_SESSION_KEY
from .forms import (
    ApplicationFilterForm,
    ApplicationForm,
    CallForm,
    CohortForm,
    CriterionForm,
    DecisionForm,
    DirectoryFilterForm,
    EqualityForm,
    ExpressionOfInterestForm,
    FellowProfileForm,
    InterviewForm,
    InvitationForm,
    MemberFilterForm,
    MentorProfileForm,
    PartnerKeyForm,
    PeopleImportForm,
    PersonEraseForm,
    QuestionForm,
    ReviewForm,
    ShortlistForm,
    VentureFormSet,
)
from .importing import (
    COLUMN_HELP,
    COLUMNS,
    EXPORT_FORMATS,
    KINDS_WITH_COHORT,
    PeopleKind,
    import_preview,
    import_template,
    people_export,
    people_import_queue,
)
from .models import (
    Application,
    ApplicationQuestion,
    Cohort,
    EqualityData,
    Fellow,
    Invitation,
    Membership,
    Mentor,
    Organisation,
    PartnerKey,
    PartnerKeyUse,
    PeopleImport,
    Programme,
    RecruitmentCall,
    ReviewCriterion,
    Role,
    TrainingArrangement,
)
from .selectors import (
    application_list,
    audit_list,
    fellow_directory,
    fellow_for_user,
    invitation_list,
    membership_counts,
    membership_list,
    mentor_directory,
    open_invitation_count,
    recruitment_funnel,
    user_programmes,
)
from .services import (
    InvitationError,
    application_decide,
    application_express_interest,
    application_record_interview,
    application_shortlist,
    application_submit,
    call_closed_message,
    call_save,
    call_shortlist_by_rule,
    cohort_save,
    criterion_add,
    criterion_remove,
    fellow_profile_update,
    invitation_accept,
    invitation_accept_new_password,
    invitation_check_usable,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    meets_shortlist_rule,
    membership_revoke,
    mentor_profile_update,
    partner_key_create,
    partner_key_revoke,
    person_data_export,
    person_erase,
    person_erasure_problem,
    question_delete,
    question_save,
    review_submit,
    review_summary,
)

PAGE_SIZE = 50


def long_date(value) -> str:
    """A moment as the UK reads it: "22 November 2026" in Europe/London."""
    return formats.date_format(timezone.localtime(value), "DATE_FORMAT")


def role_required(*roles):
    """The view needs one of these roles in the current programme (set by the middleware)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not set(roles) & set(request.roles):
                raise PermissionDenied("Your role in this programme does not include this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def ensure_errors_shown(form, error: ValidationError):
    """Put a service's ValidationError on the form so the page shows it beside the field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Outside any programme --------------------------------------------------------------------


@login_required
def home(request):
    """Send a person to their only programme, or let them pick one."""
    programmes = user_programmes(user=request.user)
    if len(programmes) == 1:
        return redirect(programmes[0]["programme"].get_absolute_url())
    return TemplateResponse(request, "cohort/programme_picker.html", {"programmes": programmes})


def invitation_accept_view(request, token):
    """Where the link in an invitation email lands."""
    with scopes_disabled():
        invitation = Invitation.objects.select_related("programme").filter(token=token).first()
    if invitation is None:
        return TemplateResponse(
            request,
            "cohort/invitation_problem.html",
            {"problem": "This invitation link is not valid. Check that you copied all of it."},
            status=404,
        )
    try:
        invitation_check_usable(invitation)
    except InvitationError as error:
        return TemplateResponse(
            request,
            "cohort/invitation_problem.html",
            {"problem": str(error), "invitation": invitation},
            status=410,
        )
    programme = invitation.programme
    if not request.user.is_authenticated:
        with scopes_disabled():
            from django.contrib.auth import get_user_model

            account = get_user_model().objects.filter(email__iexact=invitation.email).first()
        if account is not None and not account.has_usable_password():
            # Made for them when they were appointed or imported: they choose a password here.
            return _accept_with_new_password(request, invitation, account)
        if account is not None:
            messages.info(
                request,
                f"You already have a Pitwall account. Sign in as {invitation.email} "
                f"to join {programme.name}.",
            )
            return redirect_to_login(request.get_full_path())
        request.session[INVITATION_SESSION_KEY] = invitation.token
        from allauth.account.adapter import get_adapter

        # The link proves the person reads this inbox, so the address needs no second check.
        get_adapter(request).stash_verified_email(request, invitation.email)
        return TemplateResponse(
            request,
            "cohort/invitation_accept.html",
            {
                "invitation": invitation,
                "programme": programme,
                "signup_url": f"{reverse('account_signup')}?email={invitation.email}",
            },
        )
    if request.method == "POST":
        try:
            with scope(programme=programme):
                invitation_accept(invitation=invitation, user=request.user)
        except InvitationError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"Welcome to {programme.name}. You have joined as "
                f"{Role(invitation.role).label.lower()}.",
            )
            return redirect(programme.get_absolute_url())
    return TemplateResponse(
        request,
        "cohort/invitation_accept.html",
        {
            "invitation": invitation,
            "programme": programme,
            "email_matches": request.user.email.lower() == invitation.email.lower(),
        },
    )


def _accept_with_new_password(request, invitation, account):
    from django.contrib.auth import login
    from django.contrib.auth.forms import SetPasswordForm

    programme = invitation.programme
    form = SetPasswordForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with scope(programme=programme):
            invitation_accept_new_password(
                invitation=invitation, user=account, password=form.cleaned_data["new_password1"]
            )
        login(request, account, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            f"Welcome to {programme.name}. Your account is ready: sign in with "
            f"{account.email} and the password you chose.",
        )
        return redirect(programme.get_absolute_url())
    return TemplateResponse(
        request,
        "cohort/invitation_accept.html",
        {"invitation": invitation, "programme": programme, "password_form": form},
    )


# --- Inside a programme (/p/<slug>/) ------------------------------------------------------------


def programme_home(request, programme_slug):
    """Each role has its own home page; a person with several roles sees the first of them."""
    programme = request.programme
    if request.role == Role.STAFF:
        return _staff_home(request, programme)
    if request.role == Role.MENTOR:
        return _mentor_home(request, programme)
    if request.role == Role.FELLOW:
        return _fellow_home(request, programme)
    return TemplateResponse(request, "cohort/home_partner.html", {"programme": programme})


def _fellow_home(request, programme):
    fellow = fellow_for_user(programme=programme, user=request.user)
    peers = 0
    if fellow is not None:
        peers = Fellow.objects.filter(programme=programme, cohort=fellow.cohort).count() - 1
        # Read once for the cards that show them (forecast inputs, recommendations).
        prefetch_related_objects([fellow], "ventures")
    staff_contacts = membership_list(programme=programme, role=Role.STAFF)[:3]
    return TemplateResponse(
        request,
        "cohort/home_fellow.html",
        {
            "programme": programme,
            "fellow": fellow,
            "peers": peers,
            "staff_contacts": staff_contacts,
        },
    )


def _mentor_home(request, programme):
    mentor = (
        Mentor.objects.filter(programme=programme, user=request.user)
        .select_related("organisation")
        .first()
    )
    colleagues = 0
    if mentor is not None and mentor.organisation_id:
        colleagues = (
            Mentor.objects.filter(programme=programme, organisation=mentor.organisation).count() - 1
        )
    return TemplateResponse(
        request,
        "cohort/home_mentor.html",
        {
            "programme": programme,
            "mentor": mentor,
            "colleagues": colleagues,
            "staff_contacts": membership_list(programme=programme, role=Role.STAFF)[:3],
        },
    )


def _staff_home(request, programme):
    cohorts = Cohort.objects.filter(programme=programme).annotate(
        fellow_count=Count("fellows"),
        returners=Count("fellows", filter=Q(fellows__is_returner=True)),
        flexible=Count(
            "fellows",
            filter=Q(
                fellows__training_arrangement__in=[
                    TrainingArrangement.OOPE,
                    TrainingArrangement.LTFT,
                ]
            ),
        ),
    )
    return TemplateResponse(
        request,
        "cohort/home_staff.html",
        {
            "programme": programme,
            "counts": membership_counts(programme=programme),
            "cohorts": cohorts,
            "open_invitation_count": open_invitation_count(programme=programme),
            "recent_events": audit_list(programme=programme)[:8],
        },
    )


@role_required(Role.STAFF)
def member_list(request, programme_slug):
    form = MemberFilterForm(request.GET or None)
    query, role = "", ""
    if form.is_valid():
        query, role = form.cleaned_data["q"], form.cleaned_data["role"]
    members = membership_list(programme=request.programme, role=role, query=query)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "cohort/member_list.html",
        {"form": form, "page": page, "querystring": _querystring_without_page(request)},
    )


@require_POST
@role_required(Role.STAFF)
def membership_remove_view(request, programme_slug, membership_uuid):
    membership = get_object_or_404(
        Membership.objects.select_related("user"),
        programme=request.programme,
        uuid=membership_uuid,
    )
    label = f"{membership.user.display_name} ({membership.get_role_display().lower()})"
    try:
        membership_revoke(membership=membership, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{label} no longer has that role in the programme.")
    return redirect("cohort:members", programme_slug=request.programme.slug)


@role_required(Role.STAFF)
def invitation_list_view(request, programme_slug):
    programme = request.programme
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitation_create(
                programme=programme,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                message=form.cleaned_data["message"],
                invited_by=request.user,
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. The link works until "
                f"{long_date(invitation.expires_at)}.",
            )
            return redirect("cohort:invitations", programme_slug=programme.slug)
    page = Paginator(invitation_list(programme=programme), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(
        request, "cohort/invitation_list.html", {"form": form, "page": page}, status=status
    )


@require_POST
@role_required(Role.STAFF)
def invitation_revoke_view(request, programme_slug, invitation_uuid):
    invitation = get_object_or_404(Invitation, programme=request.programme, uuid=invitation_uuid)
    try:
        invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The invitation to {invitation.email} has been withdrawn.")
    return redirect("cohort:invitations", programme_slug=request.programme.slug)


@require_POST
@role_required(Role.STAFF)
def invitation_resend_view(request, programme_slug, invitation_uuid):
    invitation = get_object_or_404(Invitation, programme=request.programme, uuid=invitation_uuid)
    try:
        invitation = invitation_resend(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Invitation sent again to {invitation.email}. The link now works until "
            f"{long_date(invitation.expires_at)}.",
        )
    return redirect("cohort:invitations", programme_slug=request.programme.slug)


@role_required(Role.STAFF)
def audit_log_view(request, programme_slug):
    events = audit_list(programme=request.programme, action_prefix=request.GET.get("action", ""))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "cohort/audit_list.html",
        {"page": page, "querystring": _querystring_without_page(request)},
    )


def _querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --- directory and profiles -----------------------------------------------------------------


def _sees_private_fellow_details(request, fellow) -> bool:
    """Staff, and the fellow themself, see the private parts of a fellow's profile (§5)."""
    return Role.STAFF in request.roles or fellow.user_id == request.user.pk


def _only_partner(request) -> bool:
    return request.roles == frozenset({Role.PARTNER})


def directory_view(request, programme_slug):
    programme = request.programme
    showing_mentors = request.GET.get("who") == "mentors"
    organisations = list(
        Organisation.objects.filter(programme=programme, mentors__isnull=False).distinct()
    )
    form = DirectoryFilterForm(request.GET or None, organisations=organisations)
    filters = form.cleaned_data if form.is_valid() else {}
    if showing_mentors:
        chosen = filters.get("organisation")
        people = mentor_directory(
            programme=programme,
            query=filters.get("q", ""),
            sector=filters.get("sector", ""),
            organisation=next((o for o in organisations if str(o.uuid) == chosen), None),
        )
    else:
        showing_mentors = False
        people = fellow_directory(
            programme=programme,
            viewer_roles=request.roles,
            query=filters.get("q", ""),
            profession=filters.get("profession", ""),
            region=filters.get("region", ""),
            sector=filters.get("sector", ""),
            stage=filters.get("stage", ""),
        )
    page = Paginator(people, 25).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "cohort/directory.html",
        {
            "form": form,
            "page": page,
            "showing_mentors": showing_mentors,
            "querystring": _querystring_without_page(request),
            "partner_view": _only_partner(request),
        },
    )


def fellow_profile_view(request, programme_slug, fellow_uuid):
    qs = Fellow.objects.filter(programme=request.programme).select_related("user", "cohort")
    if _only_partner(request):
        qs = qs.filter(consent_to_share=True)
    fellow = get_object_or_404(qs.prefetch_related("ventures"), uuid=fellow_uuid)
    return TemplateResponse(
        request,
        "cohort/fellow_profile.html",
        {
            "fellow": fellow,
            "private": _sees_private_fellow_details(request, fellow),
            "is_self": fellow.user_id == request.user.pk,
            "can_erase": Role.STAFF in request.roles and fellow.user_id != request.user.pk,
        },
    )


def mentor_profile_view(request, programme_slug, mentor_uuid):
    mentor = get_object_or_404(
        Mentor.objects.filter(programme=request.programme).select_related("user", "organisation"),
        uuid=mentor_uuid,
    )
    return TemplateResponse(
        request,
        "cohort/mentor_profile.html",
        {
            "mentor": mentor,
            "is_self": mentor.user_id == request.user.pk,
            "is_staff": Role.STAFF in request.roles,
            "can_erase": Role.STAFF in request.roles and mentor.user_id != request.user.pk,
        },
    )


def my_profile_view(request, programme_slug):
    """A fellow edits their profile and ventures; a mentor their expertise and capacity."""
    programme = request.programme
    fellow = fellow_for_user(programme=programme, user=request.user)
    if fellow is not None and Role.FELLOW in request.roles:
        return _edit_fellow_profile(request, fellow)
    mentor = Mentor.objects.filter(programme=programme, user=request.user).first()
    if mentor is not None and Role.MENTOR in request.roles:
        return _edit_mentor_profile(request, mentor)
    return TemplateResponse(request, "cohort/my_profile_none.html", {})


def _edit_fellow_profile(request, fellow):
    form = FellowProfileForm(request.POST or None, instance=fellow, prefix="profile")
    ventures = VentureFormSet(request.POST or None, instance=fellow, prefix="ventures")
    equality = EqualityForm(
        request.POST or None,
        instance=EqualityData.objects.filter(fellow=fellow).first(),
        prefix="equality",
    )
    if request.method == "POST" and form.is_valid() and ventures.is_valid() and equality.is_valid():
        venture_changes = [
            (vf.instance, vf in ventures.deleted_forms)
            for vf in ventures.forms
            if vf.has_changed() or vf in ventures.deleted_forms
        ]
        try:
            # The forms have applied their data to the instances; the service saves them
            # together, with one audit event.
            fellow_profile_update(
                fellow=fellow,
                actor=request.user,
                data=form.cleaned_data,
                ventures=venture_changes,
                equality=equality.cleaned_data,
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, "Your profile has been saved.")
            return redirect("cohort:my_profile", programme_slug=request.programme.slug)
    return TemplateResponse(
        request,
        "cohort/my_profile_fellow.html",
        {"form": form, "ventures": ventures, "equality": equality, "fellow": fellow},
        status=400 if request.method == "POST" else 200,
    )


def _edit_mentor_profile(request, mentor):
    form = MentorProfileForm(request.POST or None, instance=mentor)
    if request.method == "POST" and form.is_valid():
        try:
            mentor_profile_update(mentor=mentor, actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, "Your profile has been saved.")
            return redirect("cohort:my_profile", programme_slug=request.programme.slug)
    return TemplateResponse(
        request,
        "cohort/my_profile_mentor.html",
        {"form": form, "mentor": mentor},
        status=400 if request.method == "POST" else 200,
    )


# --- cohorts ----------------------------------------------------------------------------------


# --- recruitment (staff) ----------------------------------------------------------------------


def _call_or_404(programme, cohort_uuid):
    cohort = get_object_or_404(Cohort, programme=programme, uuid=cohort_uuid)
    return cohort, RecruitmentCall.objects.filter(cohort=cohort).first()


@role_required(Role.STAFF)
def recruitment_view(request, programme_slug):
    """The programme's intakes: each cohort's call, its funnel, and the review criteria."""
    programme = request.programme
    criterion_form = CriterionForm(request.POST or None)
    if request.method == "POST" and criterion_form.is_valid():
        try:
            criterion_add(programme=programme, actor=request.user, data=criterion_form.cleaned_data)
        except ValidationError as error:
            ensure_errors_shown(criterion_form, error)
        else:
            messages.success(request, "The criterion has been added.")
            return redirect("cohort:recruitment", programme_slug=programme.slug)
    cohorts = list(Cohort.objects.filter(programme=programme).select_related("call"))
    funnel = {row["cohort"].pk: row for row in recruitment_funnel(programme=programme)}
    for cohort in cohorts:
        cohort.funnel = funnel.get(cohort.pk)
    return TemplateResponse(
        request,
        "cohort/recruitment.html",
        {
            "cohorts": cohorts,
            "criteria": ReviewCriterion.objects.filter(programme=programme),
            "criterion_form": criterion_form,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.STAFF)
def criterion_remove_view(request, programme_slug, criterion_uuid):
    criterion = get_object_or_404(ReviewCriterion, programme=request.programme, uuid=criterion_uuid)
    try:
        criterion_remove(criterion=criterion, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{criterion.name}” has been removed.")
    return redirect("cohort:recruitment", programme_slug=programme_slug)


@role_required(Role.STAFF)
def call_edit_view(request, programme_slug, cohort_uuid):
    """Open a cohort's call, or change its dates, rule and questions."""
    programme = request.programme
    cohort, call = _call_or_404(programme, cohort_uuid)
    form = CallForm(request.POST or None, instance=call, prefix="call")
    question_form = QuestionForm(prefix="question")
    if request.method == "POST" and "add_question" in request.POST:
        form = CallForm(instance=call, prefix="call")
        question_form = QuestionForm(request.POST, prefix="question")
        if call is None:
            question_form.add_error(None, "Save the call before adding its questions.")
        elif question_form.is_valid():
            question_save(call=call, actor=request.user, data=question_form.cleaned_data)
            messages.success(request, "The question has been added to the application form.")
            return redirect("cohort:call", programme_slug=programme.slug, cohort_uuid=cohort.uuid)
    elif request.method == "POST" and form.is_valid():
        try:
            call = call_save(
                programme=programme,
                cohort=cohort,
                actor=request.user,
                data=form.cleaned_data,
                call=call,
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"The call for {cohort.name} has been saved.")
            return redirect("cohort:call", programme_slug=programme.slug, cohort_uuid=cohort.uuid)
    return TemplateResponse(
        request,
        "cohort/call_form.html",
        {
            "cohort": cohort,
            "call": call,
            "form": form,
            "question_form": question_form,
            "questions": call.questions.all() if call else [],
            "public_url": request.build_absolute_uri(
                reverse("apply", kwargs={"call_uuid": call.uuid})
            )
            if call
            else "",
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.STAFF)
def question_remove_view(request, programme_slug, question_uuid):
    question = get_object_or_404(
        ApplicationQuestion.objects.select_related("call__cohort"),
        programme=request.programme,
        uuid=question_uuid,
    )
    try:
        question_delete(question=question, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The question has been removed.")
    return redirect(
        "cohort:call", programme_slug=programme_slug, cohort_uuid=question.call.cohort.uuid
    )


@role_required(Role.STAFF)
def application_list_view(request, programme_slug, cohort_uuid):
    programme = request.programme
    cohort, call = _call_or_404(programme, cohort_uuid)
    if call is None:
        messages.info(request, f"{cohort.name} has no call for applications yet. Open one here.")
        return redirect("cohort:call", programme_slug=programme.slug, cohort_uuid=cohort.uuid)
    filters = ApplicationFilterForm(request.GET or None)
    query = status = ""
    if filters.is_valid():
        query = filters.cleaned_data["q"].strip()
        status = filters.cleaned_data["status"]
    applications = application_list(call=call, viewer=request.user, query=query, status=status)
    page = Paginator(applications, PAGE_SIZE).get_page(request.GET.get("page"))
    ready = [
        a
        # Only the reviewed can meet the rule: the database leaves out the rest (a large call
        # has thousands of applications waiting for a first review).
        for a in application_list(
            call=call, viewer=request.user, status=Application.Status.APPLIED
        ).filter(review_count__gt=0)
        if meets_shortlist_rule(
            call, {"count": a.review_count, "mean": a.mean_score, "spread": a.spread}
        )
    ]
    return TemplateResponse(
        request,
        "cohort/application_list.html",
        {
            "cohort": cohort,
            "call": call,
            "page": page,
            "filters": filters,
            "querystring": _querystring_without_page(request),
            "ready_count": len(ready),
            "funnel": next(iter(recruitment_funnel(programme=programme, cohort=cohort)), None),
        },
    )


@require_POST
@role_required(Role.STAFF)
def call_shortlist_view(request, programme_slug, cohort_uuid):
    cohort, call = _call_or_404(request.programme, cohort_uuid)
    if call is None:
        messages.info(request, f"{cohort.name} has no call for applications yet. Open one here.")
        return redirect("cohort:call", programme_slug=programme_slug, cohort_uuid=cohort.uuid)
    count = call_shortlist_by_rule(call=call, actor=request.user)
    if count:
        messages.success(
            request,
            f"{count} application{pluralize(count)} met the rule and "
            f"{pluralize(count, 'has,have')} been shortlisted.",
        )
    else:
        messages.info(request, "No waiting application meets the shortlisting rule yet.")
    return redirect("cohort:applications", programme_slug=programme_slug, cohort_uuid=cohort.uuid)


def _application_page(request, application, *, forms=None, status=200):
    """The application with the forms its stage allows; a failed form comes back bound."""
    programme = request.programme
    call = application.call
    reviews = list(application.reviews.select_related("reviewer"))
    criteria = list(ReviewCriterion.objects.filter(programme=programme))
    names = {str(c.uuid): c.name for c in criteria}
    for review in reviews:
        review.score_rows = [
            (names.get(key, "A removed criterion"), value) for key, value in review.scores.items()
        ]
    mine = next((r for r in reviews if r.reviewer_id == request.user.pk), None)
    own = application.email.lower() == request.user.email.lower()
    summary = review_summary(reviews)
    forms = forms or {}
    can_review = application.status == Application.Status.APPLIED and mine is None and not own
    context = {
        "application": application,
        "call": call,
        "cohort": call.cohort,
        "questions": [(q, application.answers.get(str(q.uuid), "")) for q in call.questions.all()],
        "criteria": criteria,
        "reviews": reviews,
        "my_review": mine,
        "own_application": own,
        # Blind review: other reviewers' scores stay hidden until you have scored, unless the
        # application has moved on (then the panel's view is the record).
        "show_scores": mine is not None or application.status != Application.Status.APPLIED,
        "summary": summary,
        "meets_rule": bool(summary["count"]) and meets_shortlist_rule(call, summary),
        "review_form": forms.get("review")
        or (ReviewForm(criteria=criteria) if can_review else None),
        "shortlist_form": forms.get("shortlist")
        or (ShortlistForm() if application.status == Application.Status.APPLIED else None),
        "interview_form": forms.get("interview")
        or (InterviewForm() if application.status == Application.Status.SHORTLISTED else None),
        "decision_form": forms.get("decision")
        or (None if application.is_final else DecisionForm()),
    }
    return TemplateResponse(request, "cohort/application_detail.html", context, status=status)


def _application_or_404(request, application_uuid):
    return get_object_or_404(
        Application.objects.select_related("call__cohort", "fellow"),
        programme=request.programme,
        uuid=application_uuid,
    )


@role_required(Role.STAFF)
def application_detail_view(request, programme_slug, application_uuid):
    return _application_page(request, _application_or_404(request, application_uuid))


def _application_action(request, application_uuid, *, form_name, form, act, success):
    application = _application_or_404(request, application_uuid)
    if form.is_valid():
        try:
            act(application, form.cleaned_data)
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, success(application))
            return redirect(application.get_absolute_url())
    return _application_page(request, application, forms={form_name: form}, status=400)


@require_POST
@role_required(Role.STAFF)
def application_review_view(request, programme_slug, application_uuid):
    criteria = list(ReviewCriterion.objects.filter(programme=request.programme))
    return _application_action(
        request,
        application_uuid,
        form_name="review",
        form=ReviewForm(request.POST, criteria=criteria),
        act=lambda a, data: review_submit(
            application=a,
            reviewer=request.user,
            scores={k: v for k, v in data.items() if k != "comment"},
            comment=data["comment"],
        ),
        success=lambda a: f"Your scores for {a.full_name} have been saved.",
    )


@require_POST
@role_required(Role.STAFF)
def application_shortlist_view(request, programme_slug, application_uuid):
    return _application_action(
        request,
        application_uuid,
        form_name="shortlist",
        form=ShortlistForm(request.POST),
        act=lambda a, data: application_shortlist(
            application=a, actor=request.user, reason=data["reason"]
        ),
        success=lambda a: f"{a.full_name} has been shortlisted for interview.",
    )


@require_POST
@role_required(Role.STAFF)
def application_interview_view(request, programme_slug, application_uuid):
    return _application_action(
        request,
        application_uuid,
        form_name="interview",
        form=InterviewForm(request.POST),
        act=lambda a, data: application_record_interview(
            application=a, actor=request.user, outcome=data["outcome"], notes=data["notes"]
        ),
        success=lambda a: f"The interview outcome for {a.full_name} has been recorded.",
    )


@require_POST
@role_required(Role.STAFF)
def application_decide_view(request, programme_slug, application_uuid):
    def success(application):
        application.refresh_from_db()
        if application.status == Application.Status.APPOINTED:
            return (
                f"{application.full_name} has been appointed to {application.call.cohort}. "
                f"Their fellow profile is ready and an invitation has gone to "
                f"{application.email}."
            )
        stage = application.get_status_display().lower()
        return f"{application.full_name}'s application is now {stage}."

    return _application_action(
        request,
        application_uuid,
        form_name="decision",
        form=DecisionForm(request.POST),
        act=lambda a, data: application_decide(
            application=a, actor=request.user, decision=data["decision"], reason=data["reason"]
        ),
        success=success,
    )


@role_required(Role.STAFF)
def funnel_view(request, programme_slug):
    return TemplateResponse(
        request,
        "cohort/funnel.html",
        {"funnel": recruitment_funnel(programme=request.programme)},
    )


# --- recruitment (public: no account needed) ---------------------------------------------------


def apply_programme_view(request, slug):
    """/apply/<programme>/: the programme's open call, or a page saying when to come back."""
    with scopes_disabled():
        programme = get_object_or_404(Programme, slug=slug)
        today = timezone.localdate()
        calls = list(
            RecruitmentCall.objects.filter(
                programme=programme, opens_on__lte=today, closes_on__gte=today
            ).select_related("cohort")
        )
    if len(calls) == 1:
        return redirect("apply", call_uuid=calls[0].uuid)
    return TemplateResponse(
        request, "cohort/apply_programme.html", {"programme": programme, "calls": calls}
    )


def apply_view(request, call_uuid):
    """The public expression-of-interest form of one call."""
    with scopes_disabled():
        call = get_object_or_404(
            RecruitmentCall.objects.select_related("cohort", "programme"), uuid=call_uuid
        )
    programme = call.programme
    form = ExpressionOfInterestForm(request.POST or None)
    closed_message = call_closed_message(call)
    if request.method == "POST" and not ratelimit.consume(
        request, action="apply", key=str(call.uuid)
    ):
        # A person sends this form once; a flood from one address is a script.
        return TemplateResponse(
            request,
            "cohort/apply.html",
            {
                "programme": programme,
                "call": call,
                "form": form,
                "closed_message": "",
                "too_many": True,
            },
            status=429,
        )
    if request.method == "POST" and not closed_message and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "agree"}
        try:
            with scope(programme=programme):
                application_express_interest(call=call, data=data)
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            return TemplateResponse(
                request,
                "cohort/apply_received.html",
                {"programme": programme, "call": call, "email": data["email"]},
            )
    return TemplateResponse(
        request,
        "cohort/apply.html",
        {"programme": programme, "call": call, "form": form, "closed_message": closed_message},
        status=400 if request.method == "POST" else (410 if closed_message else 200),
    )


def application_continue_view(request, token):
    """The applicant's private page (the link in their email): the formal application while
    the call is open, then what they sent and where it stands."""
    with scopes_disabled():
        application = get_object_or_404(
            Application.objects.select_related("call__cohort", "programme"), token=token
        )
    programme = application.programme
    with scope(programme=programme):
        questions = list(application.call.questions.all())
        form = None
        if application.submitted_at is None and application.status == Application.Status.INTEREST:
            form = ApplicationForm(request.POST or None, questions=questions)
            if request.method == "POST" and "withdraw" not in request.POST and form.is_valid():
                try:
                    application_submit(application=application, answers=form.cleaned_data)
                except ValidationError as error:
                    ensure_errors_shown(form, error)
                else:
                    messages.success(request, "Thank you. Your application has been sent.")
                    return redirect("application_continue", token=token)
        if request.method == "POST" and "withdraw" in request.POST and not application.is_final:
            application_decide(
                application=application,
                actor=None,
                decision=Application.Status.WITHDRAWN,
                reason="Withdrawn by the applicant.",
            )
            messages.success(request, "Your application has been withdrawn.")
            return redirect("application_continue", token=token)
        answers = [(q, application.answers.get(str(q.uuid), "")) for q in questions]
        return TemplateResponse(
            request,
            "cohort/application_continue.html",
            {
                "programme": programme,
                "application": application,
                "call": application.call,
                "form": form,
                "answers": answers,
                "call_open": application.call.is_open(),
            },
            status=400 if request.method == "POST" and form is not None else 200,
        )


@role_required(Role.STAFF)
def cohort_list_view(request, programme_slug):
    cohorts = Cohort.objects.filter(programme=request.programme).annotate(
        fellow_count=Count("fellows")
    )
    return TemplateResponse(request, "cohort/cohort_list.html", {"cohorts": cohorts})


@role_required(Role.STAFF)
def cohort_edit_view(request, programme_slug, cohort_uuid=None):
    programme = request.programme
    cohort = None
    if cohort_uuid is not None:
        cohort = get_object_or_404(Cohort, programme=programme, uuid=cohort_uuid)
    initial = (
        {"name": cohort.name, "starts_on": cohort.starts_on, "ends_on": cohort.ends_on}
        if cohort
        else None
    )
    form = CohortForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = cohort_save(
                programme=programme, actor=request.user, data=form.cleaned_data, cohort=cohort
            )
        except ValidationError as error:
            ensure_errors_shown(form, error)
        else:
            messages.success(request, f"{saved.name} has been saved.")
            return redirect("cohort:cohorts", programme_slug=programme.slug)
    return TemplateResponse(
        request,
        "cohort/cohort_form.html",
        {"form": form, "cohort": cohort},
        status=400 if request.method == "POST" else 200,
    )


# --- bulk import and export -------------------------------------------------------------------

# Previews waiting for confirmation, in the session (kept on the server: the confirmation reads
# the rows from here and checks them again, never from the browser).
IMPORT_SESSION_KEY = "pitwall_people_imports"
IMPORTS_KEPT = 3


def _import_page(request, form, status=200):
    return TemplateResponse(
        request,
        "cohort/people_import.html",
        {
            "form": form,
            "kinds": [
                {
                    "kind": kind,
                    "label": label,
                    "columns": [(c, COLUMN_HELP[c]) for c in COLUMNS[kind]],
                }
                for kind, label in PeopleKind.choices
            ],
            "recent_imports": PeopleImport.objects.filter(programme=request.programme)
            .select_related("cohort", "created_by")
            .order_by("-created_at")[:10],
        },
        status=status,
    )


def _preview_page(request, preview, *, token="", problem="", status=200):
    errors = [
        {"row": row.number, "column": problem.column, "message": problem.message}
        for row in preview.error_rows
        for problem in row.errors
    ]
    shown = [row for row in preview.rows if row.errors]
    clean = [row for row in preview.rows if not row.errors]
    # Every row with a problem, and enough of the others to check the columns line up.
    shown_clean = clean[: max(0, 200 - len(shown))]
    shown_numbers = {row.number for row in shown + shown_clean}
    return TemplateResponse(
        request,
        "cohort/people_import_preview.html",
        {
            "preview": preview,
            "kind_label": PeopleKind(preview.kind).label.lower(),
            "rows": [
                {"row": row, "cells": row.cells(preview.columns)}
                for row in preview.rows
                if row.number in shown_numbers
            ],
            "hidden_count": len(preview.rows) - len(shown_numbers),
            "errors": errors[:50],
            "more_errors": max(0, len(errors) - 50),
            "token": token,
            "problem": problem,
        },
        status=status,
    )


def _stash_preview(request, preview) -> str:
    token = secrets.token_urlsafe(16)
    kept = dict(request.session.get(IMPORT_SESSION_KEY, {}))
    # Only the latest few previews are kept; an older one has to be uploaded again.
    for old in list(kept)[: max(0, len(kept) - IMPORTS_KEPT + 1)]:
        kept.pop(old)
    kept[token] = {"programme": request.programme.pk, **preview.state()}
    request.session[IMPORT_SESSION_KEY] = kept
    return token


def _drop_preview(request, token: str) -> None:
    kept = dict(request.session.get(IMPORT_SESSION_KEY, {}))
    if kept.pop(token, None) is not None:
        request.session[IMPORT_SESSION_KEY] = kept


@role_required(Role.STAFF)
def people_import_view(request, programme_slug):
    """Upload a file, see every row checked, then confirm: nothing is saved before that."""
    programme = request.programme
    if request.method == "POST" and "import_token" in request.POST:
        return _people_import_confirm(request, programme)
    cohorts = list(Cohort.objects.filter(programme=programme))
    initial = {
        "kind": request.GET.get("kind", "") if request.GET.get("kind") in COLUMNS else "",
        "cohort": request.GET.get("cohort", ""),
    }
    form = PeopleImportForm(
        request.POST or None, request.FILES or None, cohorts=cohorts, initial=initial
    )
    if request.method != "POST":
        return _import_page(request, form)
    if form.is_valid():
        kind, cohort = form.cleaned_data["kind"], form.cleaned_data["cohort"]
        preview = import_preview(
            programme=programme,
            kind=kind,
            cohort=cohort if kind in KINDS_WITH_COHORT else None,
            uploaded_file=form.cleaned_data["file"],
        )
        if not preview.file_errors:
            token = _stash_preview(request, preview) if preview.is_valid else ""
            return _preview_page(request, preview, token=token)
        for problem in preview.file_errors:
            form.add_error(
                problem.column if problem.column in form.fields else "file", problem.message
            )
    return _import_page(request, form, status=400)


def _people_import_confirm(request, programme):
    token = request.POST.get("import_token", "")
    state = request.session.get(IMPORT_SESSION_KEY, {}).get(token)
    if not state or state.get("programme") != programme.pk or state.get("kind") not in COLUMNS:
        messages.error(
            request,
            "That preview is no longer available, so nothing was imported. Upload the file again.",
        )
        return redirect("cohort:people_import", programme_slug=programme.slug)
    job = people_import_queue(programme=programme, state=state, actor=request.user)
    _drop_preview(request, token)
    return _after_import(request, job)


def _after_import(request, job, preview=None):
    """Where a confirmed import leads: the people imported, the rows refused, or (for a
    large file still being saved) the page that follows the job."""
    programme = request.programme
    if not job.is_finished:
        return redirect(
            "cohort:people_import_job", programme_slug=programme.slug, import_uuid=job.uuid
        )
    if job.status == PeopleImport.Status.FAILED:
        return _import_job_page(request, job, status=400)
    messages.success(request, _imported_message(job, job.imported_count))
    if job.kind == PeopleKind.APPLICANTS:
        return redirect("cohort:people_import", programme_slug=programme.slug)
    role = Role.FELLOW if job.kind == PeopleKind.FELLOWS else Role.MENTOR
    return redirect(
        reverse("cohort:members", kwargs={"programme_slug": programme.slug}) + f"?role={role}"
    )


@role_required(Role.STAFF)
def people_import_job_view(request, programme_slug, import_uuid):
    """One confirmed import: how it is going, what it imported, or why nothing was."""
    job = get_object_or_404(
        PeopleImport.objects.select_related("cohort", "created_by"),
        programme=request.programme,
        uuid=import_uuid,
    )
    return _import_job_page(request, job)


def _import_job_page(request, job, status=200):
    return TemplateResponse(
        request,
        "cohort/people_import_job.html",
        {
            "job": job,
            "message": _imported_message(job, job.imported_count)
            if job.status == PeopleImport.Status.DONE
            else "",
        },
        status=status,
    )


def _imported_message(job, count: int) -> str:
    """What a finished import did, in words (job: a PeopleImport)."""
    preview = job
    noun = {
        PeopleKind.FELLOWS: "fellow" if count == 1 else "fellows",
        PeopleKind.MENTORS: "mentor" if count == 1 else "mentors",
        PeopleKind.APPLICANTS: "applicant" if count == 1 else "applicants",
    }[preview.kind]
    if preview.kind == PeopleKind.APPLICANTS:
        return (
            f"Imported {count} {noun} into the call for {preview.cohort}; each has been "
            "emailed a link to complete their application."
        )
    where = f" into {preview.cohort}" if preview.kind == PeopleKind.FELLOWS else ""
    sent = preview.invitations_sent
    if sent == count:
        invited = (
            "each has been sent an invitation."
            if count > 1
            else "they have been sent an invitation."
        )
    elif sent == 0:
        invited = "no invitations were needed: they already had the role or an invitation here."
    else:
        invited = (
            f"{sent} have been sent an invitation; the others already had the role or an "
            "invitation here."
        )
    return f"Imported {count} {noun}{where}; {invited}"


@require_GET
@role_required(Role.STAFF)
def people_import_template_view(request, programme_slug, kind):
    if kind not in COLUMNS:
        raise Http404("No such template.")
    response = HttpResponse(import_template(kind), content_type=EXPORT_FORMATS["csv"])
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response


@require_GET
@role_required(Role.STAFF)
def people_export_view(request, programme_slug, kind, fmt):
    """Download the programme's fellows, mentors or applicants (of one cohort with ?cohort=)."""
    programme = request.programme
    if kind not in COLUMNS or fmt not in EXPORT_FORMATS:
        raise Http404("No such export.")
    cohort = None
    if request.GET.get("cohort"):
        try:
            cohort_uuid = uuid.UUID(request.GET["cohort"])
        except ValueError as error:
            raise Http404("No such cohort.") from error
        cohort = get_object_or_404(Cohort, programme=programme, uuid=cohort_uuid)
    content, content_type, filename = people_export(
        programme=programme, kind=kind, cohort=cohort, fmt=fmt, actor=request.user
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Partner API keys -----------------------------------------------------------------------


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def partner_keys_view(request, programme_slug):
    """Staff: the programme's partner API keys, and a new one (its secret shown once)."""
    programme = request.programme
    form = PartnerKeyForm(request.POST or None, programme=programme)
    status, created = 200, None
    if request.method == "POST":
        if form.is_valid():
            try:
                created = partner_key_create(
                    programme=programme,
                    organisation=form.cleaned_data["organisation"],
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_on=form.cleaned_data["expires_on"],
                    actor=request.user,
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
                status = 400
            else:
                form = PartnerKeyForm(programme=programme)
        else:
            status = 400
    keys = (
        PartnerKey.objects.filter(programme=programme)
        .select_related("organisation", "created_by", "revoked_by")
        .annotate(use_count=Count("uses"))
        .order_by("revoked_at", "-created_at")
    )
    return TemplateResponse(
        request,
        "cohort/partner_keys.html",
        {
            "form": form,
            "keys": keys,
            "created": created[0] if created else None,
            "secret": created[1] if created else "",
            "now": timezone.now(),
        },
        status=status,
    )


@role_required(Role.STAFF)
@require_GET
def partner_key_view(request, programme_slug, key_uuid):
    """Staff: one key, and its last 200 uses (when, what, and the answer)."""
    key = get_object_or_404(
        PartnerKey.objects.select_related("organisation", "created_by", "revoked_by"),
        programme=request.programme,
        uuid=key_uuid,
    )
    uses = PartnerKeyUse.objects.filter(programme=request.programme, key=key)[:200]
    return TemplateResponse(
        request, "cohort/partner_key.html", {"key": key, "uses": uses, "now": timezone.now()}
    )


@role_required(Role.STAFF)
@require_POST
def partner_key_revoke_view(request, programme_slug, key_uuid):
    key = get_object_or_404(PartnerKey, programme=request.programme, uuid=key_uuid)
    partner_key_revoke(key=key, actor=request.user)
    messages.success(request, f"Revoked “{key.name}”: requests made with it are refused now.")
    return redirect("cohort:partner_keys", programme_slug=programme_slug)


# --- personal data: a person's download, and staff's erasure (DESIGN §11) --------------------


@login_required
@require_http_methods(["GET", "POST"])
def personal_data_view(request):
    """Your data: what Pitwall holds about you, and a ZIP of all of it to download."""
    from accounts.personal_data import exported_sections

    problem = ""
    if request.method == "POST":
        # Building the ZIP reads every section and every evidence file: a few a day is plenty.
        if ratelimit.consume(request, action="personal_data_export", key=str(request.user.uuid)):
            archive, filename = person_data_export(user=request.user)
            response = FileResponse(
                archive, as_attachment=True, filename=filename, content_type="application/zip"
            )
            response["Cache-Control"] = "private, no-store"
            return response
        problem = "You have downloaded your data several times in the last hour. Try again later."
    return TemplateResponse(
        request,
        "account/personal_data.html",
        {"sections": exported_sections(), "problem": problem},
        status=429 if problem else 200,
    )


def _person_in_programme_or_404(programme, person_uuid):
    """A person with a role or a record in this programme; anyone else is a 404."""
    people = get_user_model().objects.filter(uuid=person_uuid)
    with scopes_disabled():
        in_programme = (
            Membership.objects.filter(programme=programme, user__uuid=person_uuid).exists()
            or Fellow.objects.filter(programme=programme, user__uuid=person_uuid).exists()
            or Mentor.objects.filter(programme=programme, user__uuid=person_uuid).exists()
        )
    if not in_programme:
        raise Http404("No such person in this programme.")
    return get_object_or_404(people)


def _person_profile_url(programme, person):
    fellow = Fellow.objects.filter(programme=programme, user=person).order_by("-id").first()
    if fellow is not None:
        return reverse(
            "cohort:fellow", kwargs={"programme_slug": programme.slug, "fellow_uuid": fellow.uuid}
        )
    mentor = Mentor.objects.filter(programme=programme, user=person).first()
    if mentor is not None:
        return reverse(
            "cohort:mentor", kwargs={"programme_slug": programme.slug, "mentor_uuid": mentor.uuid}
        )
    return reverse("cohort:members", kwargs={"programme_slug": programme.slug})


@role_required(Role.STAFF)
@require_http_methods(["GET", "POST"])
def person_erase_view(request, programme_slug, person_uuid):
    """Staff erase a person's data where UK GDPR requires it: a reason, and the person's
    email typed to confirm. Refused, with the reason, when the person is also in a programme
    the requester does not run, or is the requester."""
    from accounts.personal_data import is_erased

    programme = request.programme
    person = _person_in_programme_or_404(programme, person_uuid)
    problem = person_erasure_problem(subject=person, requester=request.user)
    form = PersonEraseForm(request.POST or None, subject=person)
    status = 200
    if request.method == "POST" and not problem and not is_erased(person):
        if form.is_valid():
            try:
                erasure = person_erase(
                    subject=person,
                    requester=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                ensure_errors_shown(form, error)
            else:
                messages.success(
                    request,
                    f"The person's data has been erased. They are now shown as "
                    f"{erasure.pseudonym} and can no longer sign in.",
                )
                return redirect("cohort:members", programme_slug=programme.slug)
        status = 400
    elif request.method == "POST":
        status = 400 if problem else 200
    return TemplateResponse(
        request,
        "cohort/person_erase.html",
        {
            "person": person,
            "form": form,
            "problem": problem,
            "erased": is_erased(person),
            "profile_url": _person_profile_url(programme, person),
        },
        status=status,
    )
