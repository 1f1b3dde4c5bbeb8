"""Settings for the benchmark's own gunicorn and Celery worker (`benchmarks/load.py`): the
project's settings, read from the environment as in production, with the benchmark URLconf
(the site plus a trivial view). Nothing else differs."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"

# Production settings serve static files from a collected manifest: the benchmark collects
# them into its own folder rather than the project's staticfiles/.
if os.environ.get("PITWALL_BENCH_STATIC_ROOT"):  # noqa: F405
    STATIC_ROOT = Path(os.environ["PITWALL_BENCH_STATIC_ROOT"])  # noqa: F405
    WHITENOISE_ROOT = STATIC_ROOT / "nhsuk"
