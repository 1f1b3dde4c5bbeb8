from django import forms
from django.forms import inlineformset_factory

from .importing import KINDS_WITH_COHORT, PeopleKind
from .models import (
    FELLOW_PROFILE_FIELDS,
    MENTOR_PROFILE_FIELDS,
    ApiScope,
    Application,
    ApplicationQuestion,
    EqualityData,
    Fellow,
    Mentor,
    NHSRegion,
    Organisation,
    Profession,
    RecruitmentCall,
    ReviewCriterion,
    Role,
    Sector,
    Venture,
    VentureStage,
)


class SignupExtraForm(forms.Form):
    """Extra fields on allauth's sign-up form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    full_name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="The invitation link goes to this address and works for 14 days.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(
        label="Role", choices=[(r.value, r.label) for r in Role], widget=forms.RadioSelect
    )
    message = forms.CharField(
        label="Personal message (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MemberFilterForm(forms.Form):
    q = forms.CharField(label="Name or email", required=False, max_length=100)
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "All roles"), *Role.choices]
    )


class FellowProfileForm(forms.ModelForm):
    class Meta:
        model = Fellow
        fields = FELLOW_PROFILE_FIELDS
        widgets = {
            "training_arrangement": forms.RadioSelect,
            "arrangement_starts_on": forms.DateInput(attrs={"type": "date"}),
            "arrangement_ends_on": forms.DateInput(attrs={"type": "date"}),
            "interests": forms.Textarea(attrs={"rows": 3}),
            "help_needed": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "ltft_percent": "Only for Less Than Full Time: the percentage of full time.",
            "consent_to_share": "Partner organisations may then see your name, profession "
            "and ventures. You can change this at any time.",
        }

    def clean(self):
        data = super().clean()
        if data.get("training_arrangement") == "ltft" and not data.get("ltft_percent"):
            self.add_error("ltft_percent", "Give the percentage of full time.")
        return data


class VentureForm(forms.ModelForm):
    class Meta:
        model = Venture
        fields = ["name", "summary", "stage", "sector", "company_number"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}
        labels = {"name": "Venture name", "company_number": "Company number (optional)"}

    def clean_company_number(self):
        return (self.cleaned_data.get("company_number") or "").strip().upper()


VentureFormSet = inlineformset_factory(
    Fellow, Venture, form=VentureForm, extra=1, can_delete=True, max_num=5
)


class MentorProfileForm(forms.ModelForm):
    sectors = forms.MultipleChoiceField(
        label="Sectors you know",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Mentor
        fields = MENTOR_PROFILE_FIELDS
        widgets = {"expertise": forms.Textarea(attrs={"rows": 3})}
        labels = {"job_title": "Your role", "capacity": "How many mentees can you take?"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sectors"].choices = Sector.choices


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    organisation = forms.ChoiceField(label="Organisation", required=False)
    profession = forms.ChoiceField(label="Profession", required=False)
    region = forms.ChoiceField(label="NHS region", required=False)
    sector = forms.ChoiceField(label="Sector", required=False)
    stage = forms.ChoiceField(label="Venture stage", required=False)

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request from the programme's organisations (never at import time).
        self.fields["organisation"].choices = [
            ("", "Any organisation"),
            *((str(o.uuid), o.name) for o in organisations),
        ]
        self.fields["profession"].choices = [("", "Any profession"), *Profession.choices]
        self.fields["region"].choices = [("", "Any region"), *NHSRegion.choices]
        self.fields["sector"].choices = [("", "Any sector"), *Sector.choices]
        self.fields["stage"].choices = [("", "Any stage"), *VentureStage.choices]


class CohortForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=120, help_text="For example “Cohort 1 — 2016/17”."
    )
    starts_on = forms.DateField(
        label="Starts on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For example 1/9/2026.",
    )
    ends_on = forms.DateField(
        label="Ends on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For example 31/8/2027.",
    )

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] <= data["starts_on"]:
            self.add_error("ends_on", "The cohort must end after it starts.")
        return data


class EqualityForm(forms.ModelForm):
    """Optional equality monitoring: every question may be left blank."""

    class Meta:
        model = EqualityData
        fields = ["gender", "ethnic_group", "disability", "age_band"]
        widgets = {
            "gender": forms.RadioSelect,
            "ethnic_group": forms.RadioSelect,
            "disability": forms.RadioSelect,
            "age_band": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            # Radio groups list the real answers only; leaving one blank is allowed.
            field.choices = [c for c in field.choices if c[0]]


# --- recruitment ------------------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class CallForm(forms.ModelForm):
    class Meta:
        model = RecruitmentCall
        fields = [
            "opens_on",
            "closes_on",
            "introduction",
            "reviews_required",
            "shortlist_threshold",
            "max_score_spread",
        ]
        widgets = {
            "opens_on": DATE_INPUT,
            "closes_on": DATE_INPUT,
            "introduction": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "opens_on": "Opens on",
            "closes_on": "Closes on",
            "shortlist_threshold": "Score needed to shortlist",
            "max_score_spread": "Largest disagreement between reviewers",
        }

    def clean(self):
        data = super().clean()
        if data.get("opens_on") and data.get("closes_on") and data["closes_on"] < data["opens_on"]:
            self.add_error("closes_on", "The call must close on or after the day it opens.")
        return data


class QuestionForm(forms.ModelForm):
    class Meta:
        model = ApplicationQuestion
        fields = ["text", "help_text", "required", "max_words"]
        labels = {"required": "Applicants must answer it", "max_words": "Word limit"}


class CriterionForm(forms.ModelForm):
    class Meta:
        model = ReviewCriterion
        fields = ["name", "description"]
        labels = {"name": "Criterion"}


class ExpressionOfInterestForm(forms.ModelForm):
    agree = forms.BooleanField(
        label="I agree that the programme team may keep these details to process my application",
        error_messages={"required": "Agree to this so that we can process your application."},
    )

    class Meta:
        model = Application
        fields = [
            "full_name",
            "email",
            "profession",
            "grade",
            "specialty",
            "employer",
            "region",
            "idea",
        ]
        widgets = {
            "idea": forms.Textarea(attrs={"rows": 5}),
            "email": forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }
        labels = {"full_name": "Full name", "email": "Email address"}
        help_texts = {
            "email": "We send the link to your application form to this address.",
            "grade": "For example ST4 or Band 7.",
        }

    def validate_unique(self):
        # The service checks "one application per address per call" with a clearer message.
        pass


class ApplicationForm(forms.Form):
    """The formal application: one text answer per question the staff wrote for the call."""

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        for question in questions:
            hint = question.help_text
            limit = f"Up to {question.max_words} words."
            self.fields[str(question.uuid)] = forms.CharField(
                label=question.text,
                required=question.required,
                help_text=f"{hint} {limit}".strip(),
                widget=forms.Textarea(attrs={"rows": 6}),
                error_messages={"required": "Answer this question."},
            )


SCORE_CHOICES = [
    (1, "1 — weak"),
    (2, "2 — limited"),
    (3, "3 — sound"),
    (4, "4 — strong"),
    (5, "5 — outstanding"),
]


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label="Comment for the panel (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        scores = {}
        for criterion in criteria:
            scores[str(criterion.uuid)] = forms.TypedChoiceField(
                label=criterion.name,
                help_text=criterion.description,
                choices=SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Score “{criterion.name}” from 1 to 5."},
            )
        # The scores come first, the comment last.
        self.fields = {**scores, "comment": self.fields["comment"]}


class ShortlistForm(forms.Form):
    reason = forms.CharField(
        label="Why the team is shortlisting it",
        required=False,
        help_text="Needed only when the application does not meet the shortlisting rule.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InterviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome of the interview",
        choices=[c for c in Application.Interview.choices if c[0]],
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label="Panel notes (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            (Application.Status.APPOINTED, "Appoint to the cohort"),
            (Application.Status.DECLINED, "Decline"),
            (Application.Status.WITHDRAWN, "The applicant has withdrawn"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        help_text="Needed to decline or record a withdrawal.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ApplicationFilterForm(forms.Form):
    q = forms.CharField(label="Name or email", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Stage", required=False, choices=[("", "All stages"), *Application.Status.choices]
    )


class PeopleImportForm(forms.Form):
    """What staff are importing, into which cohort, from which file."""

    kind = forms.ChoiceField(
        label="Who are you importing?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who you are importing."},
    )
    cohort = forms.ChoiceField(
        label="Cohort",
        required=False,
        help_text="For fellows, the cohort they join; for applicants, the cohort whose call for "
        "applications they apply to. Mentors join the programme, not a cohort.",
        error_messages={"invalid_choice": "Choose one of the programme's cohorts."},
    )
    file = forms.FileField(
        label="Spreadsheet",
        help_text="A CSV file (.csv) or an Excel workbook (.xlsx) of up to 2 MB and 5,000 rows, "
        "with the template's header row. Nothing is saved until you confirm.",
        error_messages={"required": "Choose the file to import.", "empty": "The file is empty."},
    )

    def __init__(self, *args, cohorts=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request from the programme's cohorts (never at import time).
        self.cohorts = {str(c.uuid): c for c in cohorts}
        self.fields["kind"].choices = PeopleKind.choices
        self.fields["cohort"].choices = [
            ("", "Choose a cohort"),
            *((str(c.uuid), c.name) for c in cohorts),
        ]

    def clean_cohort(self):
        return self.cohorts.get(self.cleaned_data["cohort"])

    def clean(self):
        data = super().clean()
        if data.get("kind") in KINDS_WITH_COHORT and data.get("cohort") is None:
            self.add_error(
                "cohort",
                "Choose the cohort the fellows join"
                if data["kind"] == PeopleKind.FELLOWS
                else "Choose the cohort whose call the applicants apply to",
            )
        return data


class PartnerKeyForm(forms.Form):
    """Staff create an API key for a partner organisation: what it is for, what it may do, and
    when it stops working (12 months at most)."""

    organisation = forms.ModelChoiceField(
        label="Partner organisation",
        queryset=Organisation._base_manager.none(),
        error_messages={"invalid_choice": "Choose one of the partner organisations."},
    )
    name = forms.CharField(
        label="What the key is for",
        max_length=80,
        help_text="For example 'AstraZeneca metrics dashboard'. Only staff see it.",
    )
    scopes = forms.MultipleChoiceField(
        label="What the key may do",
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one thing the key may do."},
    )
    expires_on = forms.DateField(
        label="Stops working on",
        help_text="A key can last 12 months at most. For example 30 11 2027.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, programme=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation._base_manager.filter(
            programme=programme, is_partner=True
        ).order_by("name")


class PersonEraseForm(forms.Form):
    """Staff erase a person's data: why, and the person's email typed to confirm."""

    reason = forms.CharField(
        label="Why are you erasing this person's data?",
        help_text="For example: the person asked on 3 March 2027 to have their data erased "
        "under UK GDPR. This goes into the programme's audit log.",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm_email = forms.CharField(
        label="Type the person's email address to confirm",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, subject, **kwargs):
        super().__init__(*args, **kwargs)
        self.subject = subject

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for erasing this person's data.")
        return reason

    def clean_confirm_email(self):
        typed = self.cleaned_data["confirm_email"].strip()
        if typed.lower() != self.subject.email.lower():
            raise forms.ValidationError(
                "The email address does not match this person's. Type it exactly as shown."
            )
        return typed
