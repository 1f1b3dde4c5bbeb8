"""Tenancy at the edge: resolve /p/<slug>/, check membership, activate the scope."""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect
from django_scopes import scope, scopes_disabled

from .models import ROLE_PRECEDENCE, Membership, Role
from .selectors import user_programmes

PROGRAMME_PATH = re.compile(r"^/p/(?P<slug>[^/]+)/")
ADMIN_PATH = "/admin/"


class ProgrammeMiddleware:
    """Sets request.programme, request.roles and request.role, and scopes the request.

    Anyone who is not a member gets the same 404 whether or not the programme exists, so the
    response never confirms that a programme is there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.programme = None
        request.roles = frozenset()
        request.role = None
        if request.path_info.startswith(ADMIN_PATH):
            # The admin is cross-programme by nature; its base ModelAdmin filters every
            # queryset to the programmes where the user is staff.
            with scopes_disabled():
                return self.get_response(request)
        match = PROGRAMME_PATH.match(request.path_info)
        if not match:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # One query answers both questions, and the header's programme switcher reuses it:
        # the person's programmes with their roles, this one among them or not.
        request.user_programmes = user_programmes(user=request.user)
        here = next(
            (e for e in request.user_programmes if e["programme"].slug == match["slug"]), None
        )
        if here is None:
            raise Http404("No programme here.")
        programme = here["programme"]
        with scope(programme=programme):
            roles = here["roles"]
            request.programme = programme
            request.roles = frozenset(roles)
            request.role = next(r for r in ROLE_PRECEDENCE if r in roles)
            response = self.get_response(request)
            # Render lazy responses inside the scope so templates never query outside it.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response = response.render()
            return response


def user_is_programme_staff(user) -> bool:
    with scopes_disabled():
        return Membership.objects.filter(user=user, role=Role.STAFF).exists()


class StaffMFAMiddleware:
    """In production, programme staff and operators must turn on MFA before anything else."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz", "/assets/")
    SESSION_KEY = "pitwall_mfa_policy_ok"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.PITWALL_REQUIRE_STAFF_MFA
            and request.user.is_authenticated
            and not request.path_info.startswith(self.ALLOWED_PREFIXES)
            and not request.session.get(self.SESSION_KEY)
        ):
            if self._needs_mfa(request.user):
                messages.warning(
                    request,
                    "Programme staff must protect their account with an authenticator app "
                    "before continuing. Set it up below.",
                )
                return redirect("mfa_activate_totp")
            request.session[self.SESSION_KEY] = True
        return self.get_response(request)

    @staticmethod
    def _needs_mfa(user) -> bool:
        from allauth.mfa.models import Authenticator

        if not (user.is_superuser or user_is_programme_staff(user)):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
