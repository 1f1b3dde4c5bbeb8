"""The events app's part of `seed_demo`: a year of events for the CEP's first cohort, the
resource library and the opportunities partners signposted. Idempotent, like all the demo."""

from __future__ import annotations

# --- events, registrations and attendance --------------------------------------------------------


# --- calendars -----------------------------------------------------------------------------------
# This section's imports are local to its functions: the module's head belongs to the events part.


def _seeder(order: int):
    """cohort.demo.register_seeder, imported where it is used (see above)."""
    from cohort.demo import register_seeder

    return register_seeder(order=order)


@_seeder(order=58)
def seed_calendar_feeds(seeder) -> None:
    """The demo fellow and mentor have their calendar feed switched on, so their calendar page
    shows an address to subscribe to. Running again keeps the same address."""
    from django.contrib.auth import get_user_model
    from django_scopes import scope

    from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL

    from .services import calendar_feed_create

    cep = seeder.programmes["cep"]
    users = get_user_model().objects.filter(email__in=[FELLOW_EMAIL, MENTOR_EMAIL]).order_by("pk")
    with scope(programme=cep):
        for user in users:
            calendar_feed_create(programme=cep, user=user)


# --- resources and opportunities -----------------------------------------------------------------
