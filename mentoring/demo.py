"""Demo mentorships (seed_demo steps): every fellow of the CEP's first cohort matched to an
industry mentor by the platform's own matching, the demo fellow with the demo mentor, and one
mentorship that ended and was re-matched; then the year's meetings at every stage (step 45)."""

import random
import re
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django_scopes import scope

from cohort.demo import FELLOW_EMAIL, MENTOR_EMAIL, STAFF_EMAIL, register_seeder
from cohort.models import AuditEvent, Cohort, Fellow, Mentor
from notifications.models import Notification, OutboxMessage

from . import demo_phrases as phrases
from . import matching
from .models import Meeting, Mentorship, Milestone, MilestoneReview, SignOff
from .services import (
    cohort_windows,
    fellow_profiles,
    meeting_reopen,
    meeting_return,
    meeting_save,
    meeting_sign_as,
    meeting_start,
    meeting_submit,
    mentor_places,
    mentor_profile,
    milestone_add,
    open_milestones,
    pair_explanation,
    review_save,
)

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
            first = _pair(cep, cohort, moved_fellow, moved_mentor, MATCHED_ON)
            # Their first meeting was held and signed while the mentorship lasted (the
            # services refuse meetings of an ended one); the record stays with it.
            _seed_first_meeting_only(first)
            Mentorship.objects.filter(pk=first.pk).update(
                ended_on=ENDED_ON, end_reason=ENDED_REASON
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


def _pair(programme, cohort, fellow, mentor, started_on) -> Mentorship | None:
    """A mentorship with the reasons matching gives for the pair (none if the fellow has one)."""
    if Mentorship.objects.filter(fellow=fellow, ended_on__isnull=True).exists():
        return None
    _, reasons = pair_explanation(fellow=fellow, mentor=mentor)
    return Mentorship.objects.create(
        programme=programme,
        cohort=cohort,
        fellow=fellow,
        mentor=mentor,
        started_on=started_on,
        fit_reasons=reasons,
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


# --- The year's meetings (seed_demo step 45) ---------------------------------------------------
#
# Every record is written by the services a person would use (start, save, agree and review
# milestones, submit, return, sign, reopen), so each has its audit trail, notifications and
# digest. The demo then dates what the services wrote to the moment it happened in 2016/17 (see
# _Clock). A mentorship's year is a plan of four letters, one per meeting:
#   S signed · B returned with comments, corrected, then signed · R returned and left so
#   W submitted, waiting for the mentor's sign-off · - no record (overdue)

PLAN_MIX = (
    ["SSS-"] * 44
    + ["SSSS"] * 16
    + ["SS--"] * 6
    + ["SBS-"] * 4
    + ["SSBS"] * 2
    + ["SSR-"] * 5
    + ["SSSR"] * 3
    + ["SSW-"] * 4
    + ["SSSW"] * 4
    + ["S-S-"] * 4
    + ["S-SS"] * 3
    + ["SS-S"] * 3
    + ["S---"] * 2
)
# How many of the other mentorships have a milestone missed during the year.
MISSED_HANDFUL = 6
MEETINGS_SEED = 2017
REOPEN_REASON = (
    "The meeting date was recorded wrongly: the meeting was held on {true}, not {wrong}. "
    "Reopened at the fellow's request so the date can be corrected and the record signed again."
)
FORMATS = ["in_person"] * 9 + ["video"] * 8 + ["phone"] * 3

# The demo fellow's year with the demo mentor, told in full. Milestones are keyed so later
# meetings can review them; "objective" names one of her PDP objectives (pdp.demo).
PRIYA_PRE_SEED = "Raise a £50,000 pre-seed round"
PRIYA_PILOT = "Run a three-month pilot on two wards"
PRIYA_PROCUREMENT = "Understand how my trust buys digital tools"
PRIYA_YEAR = [
    {
        "number": 1,
        "held_on": date(2016, 9, 27),
        "format": "in_person",
        "discussion": (
            "Our first meeting, at AstraZeneca's London office. We went through the problem "
            "TriageFlow solves: in the emergency department at Guy's and St Thomas' nurses "
            "re-enter the same triage observations into three systems, and I timed it at eleven "
            "minutes a patient on my own shifts. Michael asked who would pay for a fix: the "
            "department, the trust's digital team or the commissioners. We went through my "
            "Personal Development Plan and Michael agreed it as it stands: the pre-seed round, "
            "the two-ward pilot and learning how the trust buys digital tools. We agreed one "
            "milestone for each objective for the autumn."
        ),
        "fellow_reflection": (
            "I came wanting to talk about features; Michael kept bringing me back to the buyer. "
            "I need to know who signs the purchase order before I write more code."
        ),
        "mentor_advice": (
            "Finish the financial model before you talk to any investor, so you know how big a "
            "round to ask for. Meet the procurement lead early: it is far easier to design for "
            "their route than to retrofit it."
        ),
        "milestones": [
            (
                "model",
                "Finish TriageFlow's three-year financial model",
                "A model with its assumptions, the runway and the size of round needed, "
                "reviewed with Michael",
                date(2016, 10, 21),
                PRIYA_PRE_SEED,
            ),
            (
                "protocol",
                "Agree the pilot protocol with the ED and AMU ward managers",
                "Protocol signed by both ward managers and the emergency department's clinical "
                "lead",
                date(2016, 11, 30),
                PRIYA_PILOT,
            ),
            (
                "procurement",
                "Meet the trust's digital procurement lead",
                "A meeting held and a one-page route to purchase written up",
                date(2016, 12, 16),
                PRIYA_PROCUREMENT,
            ),
        ],
        "reviews": {},
        "submitted": datetime(2016, 9, 29, 21, 10),
        "signed": datetime(2016, 10, 3, 8, 20),
        "confirm": [],
    },
    {
        "number": 2,
        "held_on": date(2016, 12, 14),
        "format": "video",
        "discussion": (
            "A video call before the Christmas rota. The financial model is done: Michael "
            "reviewed it with me on 12 October, and the runway is fourteen months on a £50,000 "
            "round. The ED ward manager has signed the pilot protocol; the acute medical unit's "
            "manager wants the escalation thresholds checked by the deteriorating-patient group "
            "first, which meets in January. The procurement lead is on leave until the new "
            "year, so that meeting moves to 12 January. We talked about SBRI Healthcare's next "
            "competition as money alongside the round that gives away no equity, and about "
            "registering the pilot as a service evaluation."
        ),
        "fellow_reflection": (
            "Two of three milestones slipped because of people whose diaries I do not control. "
            "I should have asked for those meetings in October, not November."
        ),
        "mentor_advice": (
            "Apply to SBRI Healthcare: its feasibility phase suits where TriageFlow is. Register "
            "the pilot with the clinical audit team now; it takes longer than you think."
        ),
        "milestones": [
            (
                "sbri",
                "Apply to the SBRI Healthcare competition",
                "Phase 1 application submitted before the competition closes",
                date(2017, 2, 17),
                PRIYA_PRE_SEED,
            ),
            (
                "evaluation",
                "Register the pilot as a service evaluation",
                "A registration number from the trust's clinical audit team",
                date(2017, 1, 31),
                PRIYA_PILOT,
            ),
        ],
        "reviews": {
            "model": (
                "achieved",
                "Done: reviewed with Michael on 12 October. The runway is fourteen months at "
                "the planned spend.",
                "Three-year model (version 3), linked on my PDP",
                None,
            ),
            "protocol": (
                "partly",
                "The ED ward manager signed on 2 December. The AMU's manager wants the "
                "deteriorating-patient group to check the escalation thresholds first; it meets "
                "in January.",
                "Signed protocol for the ED (shared drive)",
                None,
            ),
            "procurement": (
                "deferred",
                "The procurement lead is on leave until January; the meeting is booked for 12 "
                "January.",
                "",
                date(2017, 1, 20),
            ),
        },
        "submitted": datetime(2016, 12, 16, 20, 45),
        "signed": datetime(2016, 12, 19, 7, 55),
        # The model is signed off as achieved in its own right (SignOff of the milestone).
        "confirm": ["model"],
    },
    {
        "number": 3,
        "held_on": date(2017, 3, 16),
        "format": "in_person",
        "discussion": (
            "We met at the Pit Stop in Manchester and talked afterwards. Both wards have now "
            "signed the pilot protocol, and the pilot is registered as service evaluation "
            "SE-2017-041, starting on 3 April. I met the procurement lead on 12 January: the "
            "trust buys digital tools through the HealthTrust Europe framework, and a pilot "
            "under £10,000 needs only the budget holder's sign-off. I did not submit the SBRI "
            "Healthcare application: the deadline fell in a week of nights. We went through the "
            "DTAC questions and the clinical safety case under DCB0129; the trust's Clinical "
            "Safety Officer has agreed to review our hazard log. Michael offered to introduce me "
            "to two angel investors once the pilot has four weeks of data."
        ),
        "fellow_reflection": (
            "Missing SBRI stung, but protecting the pilot was the right call. I need to plan "
            "applications around the rota months ahead."
        ),
        "mentor_advice": (
            "Put the first month of pilot data in the deck. Keep the clinical safety case "
            "moving alongside: no trust will extend the pilot without it."
        ),
        "milestones": [
            (
                "safety",
                "Complete the clinical safety case (DCB0129)",
                "Hazard log and safety case report reviewed by the trust's Clinical Safety Officer",
                date(2017, 5, 31),
                None,
            ),
            (
                "angels",
                "Pitch TriageFlow to three angel investors",
                "Three pitch meetings held and the feedback written up",
                date(2017, 6, 30),
                PRIYA_PRE_SEED,
            ),
        ],
        "reviews": {
            "protocol": (
                "achieved",
                "The AMU manager signed on 25 January, after the deteriorating-patient group "
                "checked the thresholds.",
                "Signed protocol for both wards (shared drive)",
                None,
            ),
            "procurement": (
                "achieved",
                "Met the procurement lead on 12 January: the HealthTrust Europe framework, and a "
                "pilot under £10,000 needs only the budget holder's sign-off.",
                "Notes of the meeting, attached to my PDP",
                None,
            ),
            "sbri": (
                "missed",
                "Missed: the deadline fell in a week of nights and I did not submit. The next "
                "round opens in the autumn; we agreed to put the time into the pilot instead.",
                "",
                None,
            ),
            "evaluation": (
                "achieved",
                "Registered as service evaluation SE-2017-041.",
                "Registration email from the clinical audit team",
                None,
            ),
        },
        "submitted": datetime(2017, 3, 20, 21, 30),
        # Not signed: waiting for Michael's sign-off. Meeting 4 was never started (overdue).
        "signed": None,
        "confirm": [],
    },
]


def _aware(moment: datetime) -> datetime:
    """A London wall-clock time, as an aware moment (records.py hashes moments in UTC)."""
    return timezone.make_aware(moment).astimezone(UTC)


class _Clock:
    """Dates what the services just wrote to the moment it happened in the cohort's year, as
    notifications/demo.py does for announcements: the audit events, the notifications (read
    then, unless they still ask for something) and their emails, marked sent then, so the
    delivery queued on commit finds nothing to send now. What is still dated after the clock
    was made is what the services wrote since the last stamp."""

    def __init__(self):
        self.since = timezone.now()

    def stamp(self, when: datetime | None, *, read: bool = True, notified: bool = True) -> None:
        """`when` None: it happened now (the staff reopening, the last step of the seeder);
        only the emails are settled. `notified` False: nobody was told (drafting), so only
        the audit trail needs dating."""
        if when is not None:
            AuditEvent.objects.filter(occurred_at__gte=self.since).update(occurred_at=when)
        if not notified:
            return
        if when is not None:
            Notification.objects.filter(created_at__gte=self.since).update(
                created_at=when, read_at=when if read else None
            )
        OutboxMessage.objects.filter(
            created_at__gte=self.since, status=OutboxMessage.Status.PENDING
        ).update(
            status=OutboxMessage.Status.SENT,
            sent_at=when or timezone.now(),
            **({"created_at": when} if when else {}),
        )


class _Year:
    """One mentorship's meetings, written through the services with the fellow and mentor as
    the actors and dated inside the cohort's meeting windows."""

    def __init__(self, mentorship, *, windows, clock, objectives=None):
        self.mentorship = mentorship
        self.fellow = mentorship.fellow.user
        self.mentor = mentorship.mentor.user
        self.windows = windows
        self.clock = clock
        # {PDP domain position: objective} of the fellow's plan, for tying milestones to it.
        self.objectives = objectives or {}
        self.rng = random.Random(f"{MEETINGS_SEED}:{self.fellow.email}")
        fellow = mentorship.fellow
        venture = next(iter(fellow.ventures.all()), None)
        organisation = mentorship.mentor.organisation
        self.words = {
            "fellow": self.fellow.greeting_name,
            "mentor": self.mentor.greeting_name,
            "venture": venture.name if venture else "the venture",
            "trust": fellow.employer or "the trust",
            "site": re.sub(r" NHS( Foundation)? Trust$", "", fellow.employer) or "the hospital",
            "org": organisation.name if organisation else "the mentor's company",
            "ahsn": phrases.AHSN_BY_REGION.get(fellow.region, "the local AHSN"),
            "framework": self.rng.choice(phrases.FRAMEWORKS),
            "amount": self.rng.choice(phrases.ROUND_SIZES),
            "city": self.rng.choice(phrases.PIT_STOP_CITIES),
        }
        self.used_titles: set[str] = set()
        self.evidence: dict[str, str] = {}  # milestone title: what shows it done
        self.said: set[str] = set()  # topics already discussed this year
        self.decks: dict[str, list[str]] = {}
        self.last_day = None  # the day the previous record was settled
        self.meetings: dict[int, Meeting] = {}

    # --- building blocks ---------------------------------------------------------------------
    def fill(self, text: str) -> str:
        return text.format(**self.words)

    def pick(self, deck: str, bank: list[str]) -> str:
        """The next phrase of a bank shuffled for this mentorship: no repeats until it runs
        out, so one fellow's records do not say the same thing twice."""
        cards = self.decks.get(deck)
        if not cards:
            cards = self.decks[deck] = self.rng.sample(bank, len(bank))
        return cards.pop()

    def moment(self, day: date, *, evening: bool = False) -> datetime:
        hour = self.rng.randint(18, 22) if evening else self.rng.randint(7, 21)
        return _aware(datetime.combine(day, time(hour, self.rng.choice(range(0, 60, 5)))))

    def after(self, moment: datetime, low: int, high: int, **kwargs) -> datetime:
        return self.moment(moment.date() + timedelta(days=self.rng.randint(low, high)), **kwargs)

    def held_on(self, number: int) -> date:
        """A weekday in the meeting's window, after the mentorship started and a fortnight
        after the last record was settled (a late match meets as soon as it can)."""
        opens, closes = self.windows[number]
        low = max(opens, self.mentorship.started_on + timedelta(days=3))
        if self.last_day:
            low = max(low, self.last_day + timedelta(days=14))
        high = closes if closes >= low + timedelta(days=7) else low + timedelta(days=21)
        high = min(high, self.mentorship.cohort.ends_on)
        days = [low + timedelta(days=n) for n in range((high - low).days + 1)]
        return self.rng.choice([d for d in days if d.weekday() < 5] or days)

    # --- the stages of one record --------------------------------------------------------------
    def draft(self, number: int, record: dict, *, advice: str, reviews, milestones) -> Meeting:
        """The fellow writes the record the evening after the meeting, reviews each open
        milestone (`reviews(milestone)` gives the review) and agrees new ones. The mentor adds
        their advice in their own words the next day (the advice is the mentor's to write)."""
        written = self.moment(record["held_on"], evening=True)
        meeting = meeting_start(mentorship=self.mentorship, number=number, actor=self.fellow)
        meeting = meeting_save(
            meeting=meeting, actor=self.fellow, data=record, version=meeting.version
        )
        for milestone in open_milestones(meeting):
            review_save(
                meeting=meeting,
                milestone=milestone,
                actor=self.fellow,
                data=reviews(milestone),
                version=None,
            )
        for data in milestones:
            milestone_add(meeting=meeting, actor=self.fellow, data=data)
        Meeting.objects.filter(pk=meeting.pk).update(created_at=written)
        Milestone.objects.filter(agreed_at=meeting).update(created_at=written)
        MilestoneReview.objects.filter(meeting=meeting).update(updated_at=written)
        self.clock.stamp(written, notified=False)
        meeting.written_at = written
        advised = self.after(written, 1, 2)
        meeting.refresh_from_db(fields=["version"])
        meeting = meeting_save(
            meeting=meeting,
            actor=self.mentor,
            data={"mentor_advice": advice},
            version=meeting.version,
        )
        self.clock.stamp(advised, notified=False)
        meeting.written_at = advised
        self.meetings[number] = meeting
        return meeting

    def submit(self, meeting: Meeting, when: datetime, *, waiting: bool = False) -> None:
        meeting_submit(meeting=meeting, actor=self.fellow, now=when)
        # The mentor's request to sign stays unread while the record waits for them.
        self.clock.stamp(when, read=not waiting)
        self.last_day = when.date()

    def send_back(self, meeting: Meeting, when: datetime, comments: str, *, left: bool) -> None:
        meeting_return(meeting=meeting, actor=self.mentor, comments=comments, now=when)
        self.clock.stamp(when, read=not left)
        self.last_day = when.date()

    def correct(self, meeting: Meeting, when: datetime, addition: str) -> None:
        """The fellow adds what the mentor asked for."""
        meeting.refresh_from_db(fields=["version", "discussion"])
        meeting_save(
            meeting=meeting,
            actor=self.fellow,
            data={"discussion": meeting.discussion + addition},
            version=meeting.version,
        )
        self.clock.stamp(when)

    def sign(self, meeting: Meeting, when: datetime, *, confirm, agree_pdp=False) -> None:
        meeting_sign_as(
            meeting=meeting,
            actor=self.mentor,
            method=SignOff.Method.PASSWORD,
            confirm=confirm,
            agree_pdp=agree_pdp,
            now=when,
        )
        self.clock.stamp(when)
        self.last_day = when.date()

    def achieved_here(self, meeting: Meeting) -> list:
        return list(
            MilestoneReview.objects.filter(
                meeting=meeting, outcome=MilestoneReview.Outcome.ACHIEVED
            ).values_list("milestone__uuid", flat=True)
        )

    # --- a generated record ----------------------------------------------------------------------
    def meeting(self, number: int, step: str, *, miss: bool = False, held_on=None) -> Meeting:
        """Meeting `number` taken to `step` (a letter of the plan) with words from the banks."""
        rng = self.rng
        held_on = held_on or self.held_on(number)
        stage = {1: 1, 2: 2}.get(number, 3)
        how = rng.choice(FORMATS)
        pool = phrases.TOPICS[stage] + (phrases.TOPICS[2] if number == 3 else [])
        topics = [t for t in pool if t not in self.said]
        topics = rng.sample(topics if len(topics) >= 2 else pool, 2)
        self.said.update(topics)
        opener = self.pick(f"opener-{how}", phrases.OPENERS[how])
        discussion = " ".join([opener, *topics, self.pick("closer", phrases.CLOSERS)])
        record = {
            "held_on": held_on,
            "format": how,
            "discussion": self.fill(discussion),
            "fellow_reflection": self.fill(self.pick("reflection", phrases.REFLECTIONS)),
        }
        missing = {"left": miss}

        def review(milestone) -> dict:
            if missing["left"]:
                missing["left"] = False
                outcome = "missed"
            elif milestone.status in (Milestone.Status.PARTLY, Milestone.Status.DEFERRED):
                outcome = rng.choices(["achieved", "partly", "deferred"], [75, 15, 10])[0]
            else:
                outcome = rng.choices(["achieved", "partly", "deferred"], [62, 20, 18])[0]
            new_due_on = None
            if outcome == "deferred":
                start = max(milestone.next_due_on, held_on)
                new_due_on = start + timedelta(days=rng.randint(28, 70))
            return {
                "outcome": outcome,
                "comment": self.fill(rng.choice(phrases.REVIEW_COMMENTS[outcome])),
                "new_due_on": new_due_on,
                # What shows it done; a partial result is evidenced only sometimes.
                "evidence": self.evidence.get(milestone.title, "")
                if outcome == "achieved" or (outcome == "partly" and rng.random() < 0.5)
                else "",
            }

        # Two to start the year, then one or two (most often one) at each meeting.
        count = 2 if number == 1 else (1 if number == 4 or rng.random() < 0.65 else 2)
        meeting = self.draft(
            number,
            record,
            advice=self.fill(self.pick("advice", phrases.ADVICE)),
            reviews=review,
            milestones=self.new_milestones(stage, count, held_on),
        )
        submitted = self.after(meeting.written_at, 1, 3, evening=True)
        self.submit(meeting, submitted, waiting=step == "W")
        if step == "W":
            return meeting
        if step in "RB":
            returned = self.after(submitted, 2, 5)
            comments, addition = (self.fill(text) for text in rng.choice(phrases.RETURNS))
            self.send_back(meeting, returned, comments, left=step == "R")
            if step == "R":
                return meeting
            corrected = self.after(returned, 1, 3, evening=True)
            self.correct(meeting, corrected, addition)
            submitted = corrected + timedelta(minutes=10)
            self.submit(meeting, submitted)
        signed = self.after(submitted, 1, 6)
        # Most achievements are signed off in their own right as the record is signed.
        confirm = [u for u in self.achieved_here(meeting) if rng.random() < 0.7]
        self.sign(meeting, signed, confirm=confirm)
        return meeting

    def new_milestones(self, stage: int, count: int, held_on: date) -> list[dict]:
        suitable = [m for m in phrases.MILESTONES if stage in m[2]]
        fresh = [m for m in suitable if self.fill(m[0]) not in self.used_titles] or suitable
        made = []
        for title, measure, _stages, domain, evidence in self.rng.sample(
            fresh, min(count, len(fresh))
        ):
            title = self.fill(title)
            self.used_titles.add(title)
            self.evidence[title] = self.fill(evidence)
            objective = self.objectives.get(domain)
            made.append(
                {
                    "title": title,
                    "measure": self.fill(measure),
                    "due_on": held_on + timedelta(days=self.rng.randint(35, 85)),
                    # Tied to the fellow's PDP objective in the same domain, most of the time.
                    "objective": objective if objective and self.rng.random() < 0.8 else None,
                }
            )
        return made

    def plan(self, plan: str, *, miss: bool = False, wrong_date: bool = False) -> None:
        """The year as a plan of letters. `miss`: one milestone is missed at the last meeting
        that reviews any. `wrong_date`: meeting 2 is recorded with a date a week out, for
        staff to reopen (see _reopen)."""
        reviewing = [n for n, step in enumerate(plan, start=1) if step != "-" and n > 1]
        for number, step in enumerate(plan, start=1):
            if step == "-":
                continue
            held_on = None
            if wrong_date and number == 2:
                # Typed up a week late, with that day as the date held: staff reopen it.
                self.true_day = self.held_on(2)
                self.wrong_day = held_on = self.true_day + timedelta(days=7)
            self.meeting(
                number, step, miss=miss and reviewing and number == reviewing[-1], held_on=held_on
            )

    # --- the demo fellow's year, as written in PRIYA_YEAR ---------------------------------------
    def scripted(self, script: list[dict], objectives_by_title: dict) -> None:
        agreed = {}
        for entry in script:
            reviews = {
                agreed[key].pk: {
                    "outcome": outcome,
                    "comment": comment,
                    "evidence": evidence,
                    "new_due_on": new_due_on,
                }
                for key, (outcome, comment, evidence, new_due_on) in entry["reviews"].items()
            }
            meeting = self.draft(
                entry["number"],
                {
                    "held_on": entry["held_on"],
                    "format": entry["format"],
                    "discussion": entry["discussion"],
                    "fellow_reflection": entry["fellow_reflection"],
                },
                advice=entry["mentor_advice"],
                reviews=lambda milestone, reviews=reviews: reviews[milestone.pk],
                milestones=[
                    {
                        "title": title,
                        "measure": measure,
                        "due_on": due_on,
                        "objective": objectives_by_title.get(objective),
                    }
                    for _key, title, measure, due_on, objective in entry["milestones"]
                ],
            )
            for key, title, *_rest in entry["milestones"]:
                agreed[key] = Milestone.objects.get(agreed_at=meeting, title=title)
            waiting = entry["signed"] is None
            self.submit(meeting, _aware(entry["submitted"]), waiting=waiting)
            if not waiting:
                self.sign(
                    meeting,
                    _aware(entry["signed"]),
                    confirm=[agreed[key].uuid for key in entry["confirm"]],
                    agree_pdp=entry["number"] == 1,
                )


def _seed_first_meeting_only(mentorship) -> None:
    """The mentorship that ended in December: its first meeting, signed in the autumn."""
    _Year(mentorship, windows=cohort_windows(mentorship.cohort), clock=_Clock()).plan("S")


@register_seeder(order=45)
def seed_meetings(seeder) -> None:
    """The first cohort's meetings at every stage: the demo fellow's year with the demo
    mentor told in full, and the other mentorships signed, submitted, returned, reopened and
    overdue in a fixed mix. Mentorships that already have meetings are left as they are."""
    from pdp.models import Objective

    cep = seeder.programmes["cep"]
    with scope(programme=cep):
        cohort = Cohort.objects.get(programme=cep, name="Cohort 1 — 2016/17")
        windows = cohort_windows(cohort)
        mentorships = list(
            Mentorship.objects.filter(cohort=cohort, ended_on__isnull=True)
            .select_related(
                "programme", "cohort", "fellow__user", "mentor__user", "mentor__organisation"
            )
            .prefetch_related("fellow__ventures")
            .order_by("fellow_id", "pk")
        )
        started = set(
            Meeting.objects.filter(mentorship__cohort=cohort).values_list(
                "mentorship_id", flat=True
            )
        )
        objectives: dict[int, dict[int, Objective]] = {}
        for objective in (
            Objective.objects.filter(pdp__fellow__cohort=cohort)
            .select_related("domain", "pdp")
            .order_by("pk")
        ):
            objectives.setdefault(objective.pdp.fellow_id, {}).setdefault(
                objective.domain.position, objective
            )
        clock = _Clock()

        def year(mentorship) -> _Year:
            return _Year(
                mentorship,
                windows=windows,
                clock=clock,
                objectives=objectives.get(mentorship.fellow_id),
            )

        demo = next(m for m in mentorships if m.fellow.user.email == FELLOW_EMAIL)
        if demo.pk not in started:
            by_title = {o.title: o for o in objectives.get(demo.fellow_id, {}).values()}
            year(demo).scripted(PRIYA_YEAR, by_title)

        # The demo mentor's other mentees: one record returned with comments, one year done.
        plans: dict[int, str] = {}
        theirs = [m for m in mentorships if m.mentor.user.email == MENTOR_EMAIL and m.pk != demo.pk]
        for mentorship, plan in zip(theirs, ["SSR-", "SSSS"], strict=False):
            plans[mentorship.pk] = plan
        others = [m for m in mentorships if m.pk != demo.pk and m.pk not in plans]
        mix = PLAN_MIX[:]
        random.Random(MEETINGS_SEED).shuffle(mix)
        for index, mentorship in enumerate(others):
            # Matched again in December, after the first window closed: three meetings.
            plans[mentorship.pk] = (
                "SSS-" if mentorship.started_on > MATCHED_ON else mix[index % len(mix)]
            )
        # Exactly one record is reopened by staff: meeting 2 of the first complete year.
        reopened = next(m for m in others if plans[m.pk] == "SSSS")
        # A handful of fellows miss a milestone, among those with three or more meetings.
        eligible = [m for m in others if m is not reopened and plans[m.pk].count("S") >= 3]
        missing = {m.pk for m in eligible[:MISSED_HANDFUL]}
        # The test suite seeds the demo many times; it may ask for fewer of the other years
        # (every stage is still there: the demo people's, the reopened one, the missed ones).
        limit = settings.PITWALL_DEMO_MEETING_YEARS
        if limit is not None:
            keep = {reopened.pk, *missing, *(m.pk for m in others[:limit])}
            others = [m for m in others if m.pk in keep]

        to_reopen = None
        for mentorship in [*theirs, *others]:
            if mentorship.pk in started:
                continue
            story = year(mentorship)
            story.plan(
                plans[mentorship.pk],
                miss=mentorship.pk in missing,
                wrong_date=mentorship is reopened,
            )
            if mentorship is reopened:
                to_reopen = story
        # Last, because it happens now: nothing after it may be dated back to 2016/17.
        if to_reopen is not None:
            _reopen(to_reopen, seeder.User.objects.get(email=STAFF_EMAIL))


def _reopen(story: _Year, staff) -> None:
    """Staff reopen a signed record whose date was wrong, with the reason; the fellow corrects
    it and the mentor signs it again, so the earlier signed version stays readable. The
    service dates a reopening when it happens, so this part of the story happens now."""
    meeting = story.meetings[2]
    confirmed = list(
        SignOff.objects.filter(
            meeting=meeting, kind=SignOff.Kind.MILESTONE, reopened_at__isnull=True
        ).values_list("milestone__uuid", flat=True)
    )
    reason = REOPEN_REASON.format(
        true=date_format(story.true_day, "j F Y"), wrong=date_format(story.wrong_day, "j F Y")
    )
    meeting = meeting_reopen(meeting=meeting, actor=staff, reason=reason)
    meeting = meeting_save(
        meeting=meeting,
        actor=story.fellow,
        data={"held_on": story.true_day},
        version=meeting.version,
    )
    meeting_submit(meeting=meeting, actor=story.fellow)
    meeting_sign_as(
        meeting=meeting, actor=story.mentor, method=SignOff.Method.PASSWORD, confirm=confirmed
    )
    story.clock.stamp(None)


@register_seeder(order=46)
def seed_accelerator_meetings(seeder) -> None:
    """The accelerator's year is under way today: the demo mentor mentors two of its fellows,
    each with a first meeting signed and the next one late, and the daily reminders run once,
    so the reminders and the staff alert show in that programme's notification centres."""
    from .services import meeting_reminders_send

    accel = seeder.programmes["accel"]
    today = timezone.localdate()
    with scope(programme=accel):
        cohort = Cohort.objects.filter(programme=accel).order_by("-starts_on").first()
        if cohort is None or not cohort.starts_on <= today <= cohort.ends_on:
            return  # the accelerator's demo year is over; nothing is due now
        mentor = Mentor.objects.select_related("user").get(
            programme=accel, user__email=MENTOR_EMAIL
        )
        fellows = list(
            Fellow.objects.filter(programme=accel, cohort=cohort)
            .select_related("user")
            .order_by("pk")[:2]
        )
        windows = cohort_windows(cohort)
        clock = _Clock()
        for fellow in fellows:
            if Mentorship.objects.filter(fellow=fellow).exists():
                continue
            mentorship = Mentorship.objects.create(
                programme=accel,
                cohort=cohort,
                fellow=fellow,
                mentor=mentor,
                started_on=cohort.starts_on,
                fit_reasons=["Chosen by the programme team."],
            )
            opens, closes = windows[1]
            if closes >= today:
                continue
            held_on = opens + timedelta(days=9)
            meeting = meeting_start(mentorship=mentorship, number=1, actor=fellow.user)
            meeting = meeting_save(
                meeting=meeting,
                actor=fellow.user,
                data={
                    "held_on": held_on,
                    "format": "video",
                    "discussion": "Agreed the accelerator year's goals: a paid pilot with one "
                    "NHS trust and the evidence a procurement lead will ask for.",
                    "fellow_reflection": "I need to speak to buyers before building more.",
                },
                version=meeting.version,
            )
            meeting = meeting_save(
                meeting=meeting,
                actor=mentor.user,
                data={"mentor_advice": "Book three discovery calls with trust buyers."},
                version=meeting.version,
            )
            milestone_add(
                meeting=meeting,
                actor=fellow.user,
                data={
                    "title": "Three discovery calls with NHS trust buyers",
                    "measure": "Notes of each call, shared with the mentor",
                    "due_on": windows[2][1],
                    "objective": None,
                },
            )
            submitted = _aware(datetime.combine(held_on + timedelta(days=2), time(18)))
            meeting_submit(meeting=meeting, actor=fellow.user, now=submitted)
            signed = _aware(datetime.combine(held_on + timedelta(days=4), time(9)))
            meeting_sign_as(
                meeting=meeting, actor=mentor.user, method=SignOff.Method.PASSWORD, now=signed
            )
            clock.stamp(signed)
        # Today's reminders: the second meeting is late, and staff hear of it once it is
        # well past its window. Their emails count as sent, as the demo's others do.
        clock = _Clock()
        meeting_reminders_send(programme=accel, today=today)
        clock.stamp(None)
