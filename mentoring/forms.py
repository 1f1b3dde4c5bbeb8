from django import forms


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
