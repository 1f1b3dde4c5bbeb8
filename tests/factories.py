"""Every test factory, in one place."""

from datetime import date, timedelta

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from cohort.models import (
    Cohort,
    Fellow,
    Invitation,
    Membership,
    Mentor,
    Organisation,
    Profession,
    Programme,
    Role,
)

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"programme-{n}")
    name = factory.Sequence(lambda n: f"Programme {n}")
    contact_email = "team@example.org"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    programme = factory.SubFactory(ProgrammeFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.FELLOW


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")
    starts_on = date(2026, 9, 1)
    ends_on = date(2027, 8, 31)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Organisation {n}")
    is_partner = True


class FellowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fellow

    programme = factory.SubFactory(ProgrammeFactory)
    user = factory.SubFactory(UserFactory)
    cohort = factory.SubFactory(CohortFactory, programme=factory.SelfAttribute("..programme"))
    profession = Profession.DOCTOR


class MentorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mentor

    programme = factory.SubFactory(ProgrammeFactory)
    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(
        OrganisationFactory, programme=factory.SelfAttribute("..programme")
    )


class VentureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohort.Venture"

    programme = factory.SubFactory(ProgrammeFactory)
    fellow = factory.SubFactory(FellowFactory, programme=factory.SelfAttribute("..programme"))
    name = factory.Sequence(lambda n: f"Venture {n}")
    summary = "An app that helps ward teams spot deteriorating patients earlier."
    stage = "prototype"
    sector = "digital"


class FundingRecordFactory(factory.django.DjangoModelFactory):
    """A fellow's funding record, reported (pass status="verified" for one staff checked)."""

    class Meta:
        model = "metrics.FundingRecord"

    programme = factory.SubFactory(ProgrammeFactory)
    fellow = factory.SubFactory(FellowFactory, programme=factory.SelfAttribute("..programme"))
    status = "reported"
    kind = "grant"
    amount = 1000
    source = "A health charity"
    received_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=5))
    evidence = "Award letter"


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    programme = factory.SubFactory(ProgrammeFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.FELLOW


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notifications.Notification"

    programme = factory.SubFactory(ProgrammeFactory)
    recipient = factory.SubFactory(UserFactory)
    kind = "announcement"
    title = factory.Sequence(lambda n: f"Something happened {n}")
    body = "Details of what happened."


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notifications.OutboxMessage"

    programme = factory.SubFactory(ProgrammeFactory)
    to_email = factory.Sequence(lambda n: f"reader{n}@example.org")
    kind = "announcement"
    subject = "[Programme] Something happened"
    body_text = "Details of what happened."


class AnnouncementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notifications.Announcement"

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Announcement {n}")
    body = "Please read this."
    audience = "programme"


class RecruitmentCallFactory(factory.django.DjangoModelFactory):
    """An open call (today is inside its dates) for a cohort of the programme."""

    class Meta:
        model = "cohort.RecruitmentCall"

    programme = factory.SubFactory(ProgrammeFactory)
    cohort = factory.SubFactory(CohortFactory, programme=factory.SelfAttribute("..programme"))
    opens_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    closes_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=20))


class ApplicationQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohort.ApplicationQuestion"

    programme = factory.SelfAttribute("call.programme")
    call = factory.SubFactory(RecruitmentCallFactory)
    text = factory.Sequence(lambda n: f"Question {n}: what problem do you want to solve?")
    max_words = 50


class ReviewCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohort.ReviewCriterion"

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Criterion {n}")


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohort.Application"

    programme = factory.SelfAttribute("call.programme")
    call = factory.SubFactory(RecruitmentCallFactory)
    email = factory.Sequence(lambda n: f"applicant{n}@nhs.example")
    full_name = factory.Faker("name", locale="en_GB")
    profession = Profession.NURSE
    region = "london"
    idea = "A service that helps community nurses plan home visits around patients."


class MentorshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "mentoring.Mentorship"

    programme = factory.SelfAttribute("fellow.programme")
    fellow = factory.SubFactory(FellowFactory)
    cohort = factory.SelfAttribute("fellow.cohort")
    mentor = factory.SubFactory(MentorFactory, programme=factory.SelfAttribute("..programme"))


# --- events ---------------------------------------------------------------------------------


class EventFactory(factory.django.DjangoModelFactory):
    """A published in-person Pit Stop a week from now, for the whole programme."""

    class Meta:
        model = "events.Event"

    programme = factory.SubFactory(ProgrammeFactory)
    kind = "pit_stop"
    title = factory.Sequence(lambda n: f"Pit Stop {n}")
    description = "Pitch practice and clinics with partners."
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=3))
    venue_name = "Wellcome Collection"
    venue_address = "183 Euston Road, London NW1 2BE"
    region = "london"
    status = "published"


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Registration"

    event = factory.SubFactory(EventFactory)
    programme = factory.SelfAttribute("event.programme")
    user = factory.SubFactory(UserFactory)
    status = "registered"


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Resource"

    programme = factory.SubFactory(ProgrammeFactory)
    kind = "video"
    title = factory.Sequence(lambda n: f"Resource {n}")
    summary = "A short film on market access."
    url = "https://example.org/resource"


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A published funding call closing in a month."""

    class Meta:
        model = "events.Opportunity"

    programme = factory.SubFactory(ProgrammeFactory)
    kind = "funding"
    title = factory.Sequence(lambda n: f"Funding call {n}")
    summary = "Grants for early-stage health ventures."
    url = "https://example.org/call"
    deadline = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    status = "published"


class PartnerKeyFactory(factory.django.DjangoModelFactory):
    """A partner organisation's API key (its secret is not known: for isolation samples; use
    cohort.services.partner_key_create when a test calls the API)."""

    class Meta:
        model = "cohort.PartnerKey"

    programme = factory.SubFactory(ProgrammeFactory)
    organisation = factory.SubFactory(
        OrganisationFactory, programme=factory.SelfAttribute("..programme")
    )
    name = "Sample key"
    prefix = factory.Sequence(lambda n: f"k{n:07d}")
    hashed_key = "sha512$$0"
    scopes = factory.LazyFunction(lambda: ["metrics:read"])
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """A partner's webhook endpoint, registered with its key (an address that never resolves,
    so nothing leaves the machine)."""

    class Meta:
        model = "notifications.WebhookEndpoint"

    programme = factory.SubFactory(ProgrammeFactory)
    key = factory.SubFactory(PartnerKeyFactory, programme=factory.SelfAttribute("..programme"))
    organisation = factory.SelfAttribute("key.organisation")
    url = "https://partner.invalid/hook"
    events = factory.LazyFunction(lambda: ["metrics.published"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery to a partner endpoint that was given up after every try."""

    class Meta:
        model = "notifications.WebhookDelivery"

    programme = factory.SubFactory(ProgrammeFactory)
    endpoint = factory.SubFactory(
        WebhookEndpointFactory, programme=factory.SelfAttribute("..programme")
    )
    event = "metrics.published"
    payload = factory.LazyFunction(dict)
    status = "given_up"
    attempts = 8
