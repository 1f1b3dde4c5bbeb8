"""Error pages in the NHS.UK style. The 500 and 503 pages render without touching the database."""

import sys

from django.db import InterfaceError, OperationalError
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.views.decorators.csrf import requires_csrf_token


def _api_error(request, status: int, code: str, message: str):
    """Under /api/ every error is JSON in the partner API's shape, even one Django answers."""
    if request is None or not request.path.startswith("/api/"):
        return None
    from django.http import JsonResponse

    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


@requires_csrf_token
def page_not_found(request, exception=None):
    api = _api_error(request, 404, "not_found", "There is no such endpoint or record.")
    return api or TemplateResponse(request, "404.html", status=404).render()


def bad_request(request, exception=None):
    api = _api_error(request, 400, "bad_request", "The request could not be read.")
    if api is not None:
        return api
    from django.views.defaults import bad_request as default_bad_request

    return default_bad_request(request, exception)


@requires_csrf_token
def permission_denied(request, exception=None):
    reason = str(exception) if exception and str(exception) else ""
    return TemplateResponse(request, "403.html", {"reason": reason}, status=403).render()


# How long a client (or a load balancer) is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30


def _database_unavailable() -> bool:
    """Django calls the 500 handler while it handles the exception, so it can be read here:
    the database could not be reached, or dropped the connection (a restart, a failover)."""
    error = sys.exc_info()[1]
    return isinstance(error, (OperationalError, InterfaceError))


def server_error(request):
    from django.http import HttpResponse, HttpResponseServerError

    if _database_unavailable():
        # Not a fault in the page but a moment without the database: say so with 503 and
        # Retry-After, which people, monitoring and load balancers read as "try again soon".
        response = _api_error(
            request,
            503,
            "unavailable",
            "The service is unavailable for a moment. Try again shortly.",
        ) or HttpResponse(get_template("503.html").render({}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    api = _api_error(request, 500, "server_error", "Something went wrong on our side.")
    if api is not None:
        return api
    # No request context: the database may be the reason we are here.
    return HttpResponseServerError(get_template("500.html").render({}))
