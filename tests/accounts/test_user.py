"""The email address is the login, whatever its case."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_create_user_normalises_the_email():
    user = User.objects.create_user("  Mixed.Case@Example.ORG ".strip(), "a-long-password-1")
    assert user.email == "mixed.case@example.org"
    assert user.check_password("a-long-password-1")
    assert not user.is_staff and not user.is_superuser


def test_emails_are_unique_whatever_their_case():
    User.objects.create_user("someone@example.org", "x-password-123")
    with pytest.raises(IntegrityError):
        User.objects.create(email="SOMEONE@example.org")


def test_sign_in_by_email_in_any_case(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("casey@example.org", "a-long-password-1")
    assert authenticate(username="Casey@Example.org", password="a-long-password-1") is not None


def test_names_for_greetings():
    user = User(email="p@example.org", full_name="Dr Priya Shah")
    assert user.display_name == "Dr Priya Shah"
    assert user.greeting_name == "Priya"  # titles are skipped
    user.preferred_name = "Priya"
    assert user.greeting_name == "Priya"
    assert User(email="x@example.org").display_name == "x@example.org"


def test_superuser():
    admin = User.objects.create_superuser("op@example.org", "a-long-password-1")
    assert admin.is_superuser and admin.is_staff
