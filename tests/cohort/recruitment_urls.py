"""The site's URLs plus the applicant's "continue your application" route.

Importing applicants emails each a link to that route (notifications/receivers.py reverses
"application_continue"), but its page arrives with the recruitment views, which are not on this
branch yet. Until they are, tests that import applicants use this URL conf; delete it then.
"""

from django.http import HttpResponse
from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def _application_continue(request, token):
    return HttpResponse("The application form arrives with the recruitment views.")


urlpatterns = [
    *site_urlpatterns,
    path("apply/<str:token>/", _application_continue, name="application_continue"),
]
