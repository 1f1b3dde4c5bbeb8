"""Every test factory, in one place."""

from datetime import date

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

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
