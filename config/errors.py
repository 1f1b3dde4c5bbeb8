"""Error pages in the NHS.UK style. The 500 page renders without touching the database."""

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


def server_error(request):
    from django.http import HttpResponseServerError

    api = _api_error(request, 500, "server_error", "Something went wrong on our side.")
    if api is not None:
        return api
    # No request context: the database may be the reason we are here.
    return HttpResponseServerError(get_template("500.html").render({}))
