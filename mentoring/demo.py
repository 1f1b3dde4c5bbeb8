"""Demo mentorships (seed_demo step): every fellow of the CEP's first cohort matched to an
industry mentor by the platform's own matching, the demo fellow with the demo mentor, and one
mentorship that ended and was re-matched."""

from datetime import date, datetime

from django_scopes import scope

from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL, register_seeder
from cohort.models import Cohort, Fellow, Mentor

from . import matching
from .models import Mentorship
from .services import fellow_profiles, mentor_places, mentor_profile, pair_explanation

MATCHED_ON = date(2016, 9, 15)
ENDED_ON = date(2016, 12, 9)
REMATCHED_ON = date(2016, 12, 20)
ENDED_REASON = (
    "The mentor moved to a role overseas and could no longer meet in person; "
    "the fellow was matched again."
)


@register_seeder(order=30)
def seed_mentorships(seeder) -> None:
    cep = seeder.programmes["cep"]
    with scope(programme=cep):
        cohort = Cohort.objects.get(programme=cep, name="Cohort 1 — 2016/17")
        fellows = list(
            Fellow.objects.filter(cohort=cohort)
            .select_related("user")
            .prefetch_related("ventures")
            .order_by("pk")
        )
        demo_fellow = next(f for f in fellows if f.user.email == FELLOW_EMAIL)
        demo_mentor = Mentor.objects.get(programme=cep, user__email=MENTOR_EMAIL)
        _pair(cep, cohort, demo_fellow, demo_mentor, MATCHED_ON)

        # One mentorship that did not work out: ended with a reason, fellow matched again.
        moved_fellow = fellows[5]
        moved_mentor = Mentor.objects.filter(programme=cep).exclude(pk=demo_mentor.pk).last()
        if not Mentorship.objects.filter(fellow=moved_fellow).exists():
            _pair(
                cep,
                cohort,
                moved_fellow,
                moved_mentor,
                MATCHED_ON,
                ended_on=ENDED_ON,
                end_reason=ENDED_REASON,
            )

        active = set(
            Mentorship.objects.filter(cohort=cohort, ended_on__isnull=True).values_list(
                "fellow_id", flat=True
            )
        )
        waiting = [f for f in fellows if f.pk not in active]
        if not waiting:
            return
        places = mentor_places(programme=cep)
        mentors = [mentor_profile(p["mentor"], p["free"]) for p in places.values()]
        result = matching.propose(
            fellow_profiles(waiting), mentors, excluded={(moved_fellow.pk, moved_mentor.pk)}
        )
        by_pk = {f.pk: f for f in waiting}
        Mentorship.objects.bulk_create(
            [
                Mentorship(
                    programme=cep,
                    cohort=cohort,
                    fellow=by_pk[p.fellow],
                    mentor=places[p.mentor]["mentor"],
                    started_on=REMATCHED_ON if p.fellow == moved_fellow.pk else MATCHED_ON,
                    fit_reasons=p.reasons,
                )
                for p in result.proposals
            ]
        )


def _pair(programme, cohort, fellow, mentor, started_on, **ended) -> None:
    """A mentorship with the reasons matching gives for the pair (ended, if `ended` says so)."""
    if not ended and Mentorship.objects.filter(fellow=fellow, ended_on__isnull=True).exists():
        return
    _, reasons = pair_explanation(fellow=fellow, mentor=mentor)
    Mentorship.objects.create(
        programme=programme,
        cohort=cohort,
        fellow=fellow,
        mentor=mentor,
        started_on=started_on,
        fit_reasons=reasons,
        **ended,
    )


@register_seeder(order=35)
def seed_connections(seeder) -> None:
    """The demo fellow's network: people she connected with through the year, one request
    waiting for her answer and one she sent."""
    from django.utils import timezone

    from .models import Connection

    cep = seeder.programmes["cep"]
    with scope(programme=cep):
        fellows = list(
            Fellow.objects.filter(programme=cep, cohort__name="Cohort 1 — 2016/17")
            .select_related("user")
            .order_by("pk")
        )
        priya = next(f.user for f in fellows if f.user.email == FELLOW_EMAIL)
        michael = Mentor.objects.get(programme=cep, user__email=MENTOR_EMAIL).user
        others = [f.user for f in fellows if f.user.pk != priya.pk]

        def moment(month, day, year=2016):
            return timezone.make_aware(datetime(year, month, day, 12, 0))

        pairs = [
            (priya, michael, "accepted", moment(9, 20)),
            (others[10], priya, "accepted", moment(10, 14)),
            (priya, others[20], "accepted", moment(11, 3)),
            (others[30], priya, "accepted", moment(1, 25, 2017)),
            (priya, others[40], "accepted", moment(3, 8, 2017)),
            (others[50], priya, "pending", moment(4, 2, 2017)),
            (priya, others[60], "pending", moment(4, 5, 2017)),
        ]
        for requester, addressee, status, when in pairs:
            Connection.objects.get_or_create(
                programme=cep,
                requester=requester,
                addressee=addressee,
                defaults={
                    "status": status,
                    "created_at": when,
                    "responded_at": when if status == "accepted" else None,
                    "message": "We met at the Pit Stop; let's keep in touch."
                    if status == "pending"
                    else "",
                },
            )
