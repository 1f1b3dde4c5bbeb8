from django import forms
from django_scopes.forms import SafeModelChoiceField

from pdp.models import Objective

from .models import Meeting, MilestoneReview


class PinForm(forms.Form):
    """Staff choose a fellow's mentor themselves."""

    fellow = forms.ChoiceField(label="Fellow")
    mentor = forms.ChoiceField(label="Mentor")

    def __init__(self, *args, fellows=(), mentors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fellow"].choices = [
            ("", "Choose a fellow"),
            *((str(f.uuid), str(f)) for f in fellows),
        ]
        self.fields["mentor"].choices = [
            ("", "Choose a mentor"),
            *((str(m["mentor"].uuid), f"{m['mentor']} ({m['free']} free)") for m in mentors),
        ]


class EndMentorshipForm(forms.Form):
    reason = forms.CharField(
        label="Why is the mentorship ending?",
        help_text="Both people are told, and the reason is kept in the record.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the mentorship is ending."},
    )


class MentorshipFilterForm(forms.Form):
    q = forms.CharField(label="Fellow or mentor", required=False, max_length=100)
    cohort = forms.ChoiceField(label="Cohort", required=False)
    state = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Active and ended"), ("active", "Active"), ("ended", "Ended")],
    )

    def __init__(self, *args, cohorts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].choices = [
            ("", "All cohorts"),
            *((str(c.uuid), c.name) for c in cohorts),
        ]


# --- the year's meetings -----------------------------------------------------------------------

DATE_HELP = "For example, 15/03/2027"


class VersionedForm(forms.Form):
    """Carries the version of the record the editor opened, so a save can tell whether someone
    else saved it in between (services.StaleEdit)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class MeetingForm(VersionedForm):
    held_on = forms.DateField(
        label="Date the meeting was held",
        required=False,
        help_text=DATE_HELP,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    format = forms.ChoiceField(
        label="How you met",
        required=False,
        choices=[("", "Choose one"), *Meeting.Format.choices],
    )
    discussion = forms.CharField(
        label="What you discussed",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    fellow_reflection = forms.CharField(
        label="The fellow's reflection",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    mentor_advice = forms.CharField(
        label="The mentor's advice",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the fields this person writes (services.meeting_fields_for): the other party's
        # own words are shown beside the form, never sent back over them.
        for name in [n for n in self.fields if n != "version" and n not in fields]:
            del self.fields[name]


class MilestoneForm(forms.Form):
    title = forms.CharField(label="What", max_length=200)
    due_on = forms.DateField(
        label="By when", help_text=DATE_HELP, widget=forms.DateInput(attrs={"type": "date"})
    )
    measure = forms.CharField(
        label="How we will know",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    objective = SafeModelChoiceField(
        label="PDP objective (optional)",
        required=False,
        queryset=Objective.objects.none(),
        to_field_name="uuid",
        empty_label="Not tied to an objective",
    )

    def __init__(self, *args, objectives=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = objectives
        for name, message in [
            ("title", "Say what the milestone is."),
            ("due_on", "Give the date it is due."),
            ("measure", "Say how you will both know it is done."),
        ]:
            self.fields[name].error_messages["required"] = message


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    outcome = forms.ChoiceField(
        label="How did it go?",
        choices=MilestoneReview.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how the milestone went."},
    )
    comment = forms.CharField(
        label="Comment",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say how the milestone went."},
    )
    new_due_on = forms.DateField(
        label="New date (if deferred)",
        required=False,
        help_text=DATE_HELP,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    evidence = forms.CharField(
        label="Evidence (optional)",
        required=False,
        max_length=500,
        help_text="A link to, or a short description of, what shows it.",
    )


class ReturnForm(forms.Form):
    comments = forms.CharField(
        label="What should the fellow change?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say what the fellow should change."},
    )


class SignForm(forms.Form):
    confirm = forms.MultipleChoiceField(
        label="Milestones you confirm as achieved",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each one you tick is signed off with this record.",
    )
    agree_pdp = forms.BooleanField(
        label="I agree the fellow's Personal Development Plan as it stands",
        required=False,
    )
    secret = forms.CharField(
        label="Your password or authenticator code",
        help_text="Signing is a deliberate act: it locks the record.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password or authenticator code to sign."},
    )

    def __init__(self, *args, achieved=(), offer_pdp=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm"].choices = [(str(m.uuid), m.title) for m in achieved]
        if not achieved:
            del self.fields["confirm"]
        if not offer_pdp:
            del self.fields["agree_pdp"]


class CredentialForm(forms.Form):
    secret = SignForm.base_fields["secret"]


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="Why is the record being reopened?",
        help_text="The fellow and mentor are told; the reason is kept with the record.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the record is being reopened."},
    )


class OverviewFilterForm(forms.Form):
    cohort = forms.ChoiceField(label="Cohort", required=False)
    state = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[
            ("", "Every mentorship"),
            ("overdue", "With an overdue meeting"),
            ("submitted", "Waiting for sign-off"),
            ("returned", "Returned to the fellow"),
        ],
    )
    q = forms.CharField(label="Fellow or mentor", required=False, max_length=100)

    def __init__(self, *args, cohorts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].choices = [(str(c.uuid), c.name) for c in cohorts]


class WindowsForm(forms.Form):
    """One pair of dates per meeting of the year."""

    def __init__(self, *args, windows=None, **kwargs):
        super().__init__(*args, **kwargs)
        for number, (opens, closes) in sorted((windows or {}).items()):
            self.fields[f"opens_{number}"] = forms.DateField(
                label=f"Meeting {number} window opens",
                initial=opens,
                widget=forms.DateInput(attrs={"type": "date"}),
                error_messages={"required": f"Give the date meeting {number}'s window opens."},
            )
            self.fields[f"closes_{number}"] = forms.DateField(
                label=f"Meeting {number} window closes",
                initial=closes,
                widget=forms.DateInput(attrs={"type": "date"}),
                error_messages={"required": f"Give the date meeting {number}'s window closes."},
            )

    def windows(self) -> dict:
        data = self.cleaned_data
        numbers = sorted(int(k.split("_")[1]) for k in data if k.startswith("opens_"))
        return {n: (data[f"opens_{n}"], data[f"closes_{n}"]) for n in numbers}
