"""People who sign in. The email address is the login; roles live in cohort.Membership."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# Titles skipped when greeting someone by their first name ("Welcome, Priya", not "Dr").
HONORIFICS = {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame"}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in to Pitwall with their email address."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    preferred_name = models.CharField(
        max_length=80, blank=True, help_text="What we call you in greetings and emails."
    )
    # Django's is_staff only opens the admin to platform operators; programme staff reach it
    # through their staff membership (see cohort.admin_site).
    is_staff = models.BooleanField("platform operator", default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when staff erase the person's data (cohort.services.person_erase): the account is
    # pseudonymised and can no longer sign in, but stays so signed records keep their signer.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.display_name

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def greeting_name(self) -> str:
        if self.preferred_name:
            return self.preferred_name
        words = [w for w in self.full_name.split() if w.rstrip(".").lower() not in HONORIFICS]
        return words[0] if words else (self.full_name or self.email)

    def get_full_name(self):
        return self.display_name

    def get_short_name(self):
        return self.greeting_name
