"""Error pages in the NHS.UK style. The 500 page renders without touching the database."""

from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def page_not_found(request, exception=None):
    return TemplateResponse(request, "404.html", status=404).render()


@requires_csrf_token
def permission_denied(request, exception=None):
    reason = str(exception) if exception and str(exception) else ""
    return TemplateResponse(request, "403.html", {"reason": reason}, status=403).render()


def server_error(request):
    from django.http import HttpResponseServerError

    # No request context: the database may be the reason we are here.
    return HttpResponseServerError(get_template("500.html").render({}))
