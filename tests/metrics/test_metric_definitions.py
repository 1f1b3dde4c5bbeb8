"""Every metric of DESIGN §7 pinned on hand-built data (issue #7, item 2): what counts, what
does not, which cohort and month it lands in, and how the programme figure is made."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope

from cohort.models import EqualityData, TrainingArrangement
from metrics.definitions import METRICS, compute_metric, month_end
from metrics.models import FundingRecord, OutcomeStatus, PatientReachRecord
from metrics.suppression import suppress_counts, suppress_table

from ..factories import (
    ApplicationFactory,
    CohortFactory,
    EventFactory,
    FellowFactory,
    MentorFactory,
    MentorshipFactory,
    ProgrammeFactory,
    RecruitmentCallFactory,
    RegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 12, 1)
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def world():
    programme = ProgrammeFactory(slug="gamma")
    c1 = CohortFactory(
        programme=programme, name="C1", starts_on=date(2025, 9, 1), ends_on=date(2026, 8, 31)
    )
    c2 = CohortFactory(
        programme=programme, name="C2", starts_on=date(2026, 9, 1), ends_on=date(2027, 8, 31)
    )
    f1 = FellowFactory(programme=programme, cohort=c1, is_returner=True)
    f2 = FellowFactory(
        programme=programme,
        cohort=c2,
        training_arrangement=TrainingArrangement.LTFT,
        ltft_percent=60,
    )
    mentor = MentorFactory(programme=programme)
    return {"programme": programme, "c1": c1, "c2": c2, "f1": f1, "f2": f2, "mentor": mentor}


def figures(world, key):
    with scope(programme=world["programme"]):
        return compute_metric(METRICS[key], world["programme"], TODAY)


def at(day: date, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def test_events_attended_counts_attendance_of_started_events_by_cohort(world):
    p, f1, f2, mentor = world["programme"], world["f1"], world["f2"], world["mentor"]
    held = EventFactory(programme=p, starts_at=at(date(2026, 10, 10)), kind="webinar")
    held.ends_at = held.starts_at + timedelta(hours=1)
    held.save()
    RegistrationFactory(event=held, user=f1.user, status="attended")
    RegistrationFactory(event=held, user=f2.user, status="no_show")
    RegistrationFactory(event=held, user=mentor.user, status="attended")
    RegistrationFactory(event=held, user=UserFactory(), status="cancelled")
    RegistrationFactory(event=held, user=UserFactory(), status="waitlisted")
    cancelled = EventFactory(programme=p, starts_at=at(date(2026, 10, 12)), status="cancelled")
    RegistrationFactory(event=cancelled, user=f1.user, status="attended")
    RegistrationFactory(event=EventFactory(programme=p), user=f1.user)  # next week: not yet

    cells = figures(world, "events_attended")
    programme = cells[(None, OCT)]
    assert (programme.numerator, programme.denominator) == (2, 3)  # the mentor counts here
    assert programme.breakdown == {"webinar": [2, 3]}
    assert (cells[(world["c1"].pk, OCT)].numerator, cells[(world["c1"].pk, OCT)].denominator) == (
        1,
        1,
    )
    assert (cells[(world["c2"].pk, OCT)].numerator, cells[(world["c2"].pk, OCT)].denominator) == (
        0,
        1,
    )
    metric = METRICS["events_attended"]
    assert metric.value_of(2, 3) == 2
    assert metric.rate_of(2, 3) == Decimal("66.67")


def _outcome(model, fellow, status, **fields):
    return model.objects.create(
        programme=fellow.programme, fellow=fellow, status=status, evidence="x", **fields
    )


def test_funding_counts_verified_money_by_month_received_and_kind(world):
    f1, f2 = world["f1"], world["f2"]
    with scope(programme=world["programme"]):
        for fellow, status, amount, kind, day in [
            (f1, OutcomeStatus.VERIFIED, "1000", "grant", date(2026, 10, 3)),
            (f1, OutcomeStatus.REPORTED, "5000", "grant", date(2026, 10, 4)),
            (f1, OutcomeStatus.REJECTED, "7000", "prize", date(2026, 10, 5)),
            (f2, OutcomeStatus.VERIFIED, "2500.50", "equity", date(2026, 11, 30)),
        ]:
            _outcome(
                FundingRecord,
                fellow,
                status,
                amount=Decimal(amount),
                kind=kind,
                source="S",
                received_on=day,
            )
    cells = figures(world, "funding_raised")
    assert cells[(None, OCT)].numerator == Decimal("1000")
    assert cells[(None, NOV)].numerator == Decimal("2500.50")
    assert cells[(world["c2"].pk, NOV)].breakdown == {"equity": [Decimal("2500.50"), 0]}
    assert (world["c1"].pk, NOV) not in cells


def test_patients_reached_count_by_the_month_the_period_ended(world):
    with scope(programme=world["programme"]):
        _outcome(
            PatientReachRecord,
            world["f1"],
            OutcomeStatus.VERIFIED,
            patients=1200,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 10, 31),
        )
    cells = figures(world, "patients_reached")
    assert set(cells) == {(world["c1"].pk, OCT), (None, OCT)}
    assert cells[(None, OCT)].numerator == 1200


def test_meetings_on_time_and_sign_off_lag(world):
    from mentoring.models import Meeting

    f1 = world["f1"]
    mentorship = MentorshipFactory(fellow=f1, mentor=world["mentor"], started_on=date(2025, 9, 1))
    windows = {n: (o, c) for n, o, c in world["c1"].meeting_windows()}
    with scope(programme=world["programme"]):

        def meeting(number, held_on, status, signed_days=None):
            return Meeting.objects.create(
                programme=world["programme"],
                mentorship=mentorship,
                number=number,
                held_on=held_on,
                status=status,
                signed_at=at(held_on + timedelta(days=signed_days)) if signed_days else None,
                signed_by=world["mentor"].user if signed_days else None,
                digest="0" * 64 if signed_days else "",
            )

        meeting(1, windows[1][0] + timedelta(days=3), Meeting.Status.SUBMITTED)
        meeting(2, windows[2][1] + timedelta(days=5), Meeting.Status.SIGNED, signed_days=2)
        meeting(4, windows[4][0] + timedelta(days=1), Meeting.Status.SIGNED, signed_days=6)
        # Meeting 3 was never held.
    cells = figures(world, "meetings_on_time")
    held = sum(c.numerator for (cohort, _), c in cells.items() if cohort is None)
    due = sum(c.denominator for (cohort, _), c in cells.items() if cohort is None)
    assert (held, due) == (2, 4)
    assert cells[(None, windows[1][1].replace(day=1))].numerator == 1

    lag = figures(world, "signoff_lag")
    total = sum(c.numerator for (cohort, _), c in lag.items() if cohort is None)
    count = sum(c.denominator for (cohort, _), c in lag.items() if cohort is None)
    assert (total, count) == (8, 2)
    assert METRICS["signoff_lag"].value_of(total, count) == Decimal("4.00")


def test_a_mentorship_that_ended_early_owes_no_later_meetings(world):
    windows = {n: (o, c) for n, o, c in world["c1"].meeting_windows()}
    MentorshipFactory(
        fellow=world["f1"],
        mentor=world["mentor"],
        started_on=date(2025, 9, 1),
        ended_on=windows[2][1] - timedelta(days=1),
    )
    cells = figures(world, "meetings_on_time")
    assert sum(c.denominator for (cohort, _), c in cells.items() if cohort is None) == 1


def test_pdp_fulfilment_counts_objectives_due_leaving_out_dropped(world):
    from pdp.models import PDP, CompetencyDomain, Objective

    with scope(programme=world["programme"]):
        domain = CompetencyDomain.objects.create(programme=world["programme"], name="Finance")
        pdp = PDP.objects.create(programme=world["programme"], fellow=world["f1"])
        for status, target in [
            ("achieved", date(2026, 10, 5)),
            ("in_progress", date(2026, 10, 20)),
            ("dropped", date(2026, 10, 21)),
            ("not_started", date(2027, 3, 1)),  # not due yet
        ]:
            Objective.objects.create(
                programme=world["programme"],
                pdp=pdp,
                domain=domain,
                title=status,
                measure="m",
                target_date=target,
                status=status,
            )
    cell = figures(world, "pdp_fulfilment")[(None, OCT)]
    assert (cell.numerator, cell.denominator) == (1, 2)
    assert METRICS["pdp_fulfilment"].value_of(1, 2) == Decimal("50.00")
    assert cell.breakdown == {"Finance": [1, 2]}


def test_milestone_achievement_counts_decided_milestones_by_latest_due_date(world):
    from mentoring.models import Meeting, Milestone

    mentorship = MentorshipFactory(fellow=world["f1"], mentor=world["mentor"])
    with scope(programme=world["programme"]):
        first = Meeting.objects.create(
            programme=world["programme"], mentorship=mentorship, number=1
        )
        for status, due, moved in [
            ("achieved", date(2026, 10, 1), None),
            ("missed", date(2026, 9, 1), date(2026, 10, 15)),  # moved into October
            ("partly", date(2026, 11, 2), None),
            ("deferred", date(2026, 10, 3), None),
            ("open", date(2026, 10, 3), None),
        ]:
            Milestone.objects.create(
                programme=world["programme"],
                mentorship=mentorship,
                agreed_at=first,
                title=status,
                measure="m",
                due_on=due,
                current_due_on=moved,
                status=status,
            )
    cells = figures(world, "milestone_achievement")
    assert (cells[(None, OCT)].numerator, cells[(None, OCT)].denominator) == (1, 2)
    assert (cells[(None, NOV)].numerator, cells[(None, NOV)].denominator) == (0, 1)
    assert cells[(None, OCT)].breakdown == {"achieved": [1, 1], "missed": [0, 1]}


def test_connections_count_for_the_cohort_of_the_fellow_who_asked(world):
    from mentoring.models import Connection

    with scope(programme=world["programme"]):
        for requester, addressee, status in [
            (world["f1"].user, world["mentor"].user, "accepted"),
            (world["mentor"].user, world["f2"].user, "accepted"),
            (world["f1"].user, world["f2"].user, "pending"),
        ]:
            Connection.objects.create(
                programme=world["programme"],
                requester=requester,
                addressee=addressee,
                status=status,
                responded_at=at(date(2026, 10, 9)) if status == "accepted" else None,
            )
    cells = figures(world, "new_connections")
    assert cells[(None, OCT)].numerator == 2
    assert cells[(world["c1"].pk, OCT)].numerator == 1
    assert cells[(world["c2"].pk, OCT)].numerator == 1


def test_cohort_metrics_returners_arrangements_and_funnel(world):
    returners = figures(world, "returners")
    assert (returners[(world["c1"].pk, world["c1"].starts_on)].numerator,) == (1,)
    whole = returners[(None, None)]
    assert (whole.numerator, whole.denominator) == (1, 2)
    assert METRICS["returners"].value_of(1, 2) == Decimal("50.00")

    arrangements = figures(world, "oope_ltft")[(None, None)]
    assert (arrangements.numerator, arrangements.denominator) == (1, 2)
    assert arrangements.breakdown["ltft"] == [1, 1]

    call = RecruitmentCallFactory(programme=world["programme"], cohort=world["c2"])
    for status in ["interest", "applied", "appointed", "appointed", "declined"]:
        extra = {}
        if status != "interest":
            extra["submitted_at"] = at(date(2026, 6, 1))
        ApplicationFactory(call=call, status=status, **extra)
    funnel = figures(world, "recruitment")[(world["c2"].pk, world["c2"].starts_on)]
    assert funnel.breakdown["expressed"] == [5, 0]
    assert funnel.breakdown["applied"] == [4, 0]
    assert funnel.breakdown["appointed"] == [2, 0]
    assert METRICS["recruitment"].rate_of(funnel.numerator, funnel.denominator) == Decimal("40.00")


def test_edi_counts_every_fellow_with_blanks_as_not_given(world):
    with scope(programme=world["programme"]):
        EqualityData.objects.create(
            programme=world["programme"], fellow=world["f1"], gender="woman"
        )
    cell = figures(world, "edi_gender")[(None, None)]
    assert cell.breakdown == {"woman": [1, 1], "not_given": [1, 1]}
    assert not METRICS["edi_gender"].traceable


def test_every_metric_has_a_definition_and_an_empty_programme_computes_nothing():
    programme = ProgrammeFactory(slug="empty")
    for metric in METRICS.values():
        assert len(metric.definition) > 40, metric.key
        with scope(programme=programme):
            assert compute_metric(metric, programme, TODAY) == {}


def test_month_end():
    assert month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)


# --- suppression ------------------------------------------------------------------------------


def test_small_numbers_are_hidden_and_a_second_figure_with_them():
    cells, total = suppress_counts({"woman": 40, "man": 30, "non_binary": 3})
    # 3 is hidden; alone it could be recovered from the total, so the next smallest goes too.
    assert cells == {"woman": 40, "man": None, "non_binary": None}
    assert total == 73


def test_two_hidden_cells_that_sum_below_five_hide_a_third():
    cells, total = suppress_counts({"a": 1, "b": 1, "c": 20, "d": 30})
    assert cells["a"] is None and cells["b"] is None
    assert cells["c"] is None  # 1 + 1 would reveal both as ones
    assert cells["d"] == 30 and total == 52


def test_zero_and_large_numbers_are_shown_and_a_small_total_is_hidden():
    assert suppress_counts({"a": 0, "b": 12}) == ({"a": 0, "b": 12}, 12)
    cells, total = suppress_counts({"a": 2, "b": 1})
    assert cells == {"a": None, "b": None} and total is None


def test_a_table_cannot_be_undone_through_its_columns():
    table = {"c1": {"x": 2, "y": 10}, "c2": {"x": 10, "y": 10}}
    cells, rows, columns = suppress_table(table, ["x", "y"])
    hidden = [(r, c) for r in cells for c in cells[r] if cells[r][c] is None]
    # Each line with a shown total has either no hidden cell or two or more.
    for r in cells:
        line = [cells[r][c] for c in ["x", "y"]]
        assert rows[r] is None or line.count(None) != 1
    for c in ["x", "y"]:
        line = [cells[r][c] for r in cells]
        assert columns[c] is None or line.count(None) != 1
    assert ("c1", "x") in hidden
    assert columns["__total__"] == 32  # the grand total reveals nothing on its own
