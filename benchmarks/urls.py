"""The benchmark's URLconf: the whole site (config.urls) plus a trivial view, so that a page's
server time can be set against the cost of the full middleware stack alone. Used only by the
benchmarks (override_settings in `pages.py`, `benchmarks.settings` under gunicorn)."""

from django.http import HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site_urlpatterns

TRIVIAL_PATH = "/bench/trivial/"


def trivial_view(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path(TRIVIAL_PATH.strip("/") + "/", trivial_view, name="bench_trivial")]
urlpatterns += site_urlpatterns
