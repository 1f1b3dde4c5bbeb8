from django import forms
from django_scopes.forms import SafeModelChoiceField

from cohort.models import Cohort, Role

from .models import CONFIGURABLE_KINDS, Announcement, Delivery, Kind


class AnnouncementForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    body = forms.CharField(
        label="Announcement",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text="Plain text. It appears on home pages and in the email.",
    )
    audience = forms.ChoiceField(
        label="Who is it for?", choices=Announcement.Audience.choices, widget=forms.RadioSelect
    )
    cohort = SafeModelChoiceField(
        label="Cohort (if for one cohort)",
        queryset=Cohort.objects.none(),
        required=False,
        empty_label="Choose a cohort",
    )
    role = forms.ChoiceField(
        label="Role (if for one role)",
        choices=[
            ("", "Choose a role"),
            (Role.FELLOW, "Fellows"),
            (Role.MENTOR, "Mentors"),
            (Role.STAFF, "Programme staff"),
        ],
        required=False,
    )

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request, inside the programme's scope (never at import time).
        self.fields["cohort"].queryset = Cohort.objects.filter(programme=programme)


class PreferencesForm(forms.Form):
    """One radio group per kind a person may choose how to receive."""

    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in CONFIGURABLE_KINDS:
            self.fields[kind] = forms.ChoiceField(
                label=Kind(kind).label,
                choices=Delivery.choices,
                widget=forms.RadioSelect,
                initial=current[kind],
            )
