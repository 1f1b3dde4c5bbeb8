from django import forms

from .models import CompetencyDomain, Evidence, Objective


class DomainForm(forms.ModelForm):
    class Meta:
        model = CompetencyDomain
        fields = ["name", "descriptor"]
        widgets = {"descriptor": forms.Textarea(attrs={"rows": 2})}
        labels = {"name": "Domain", "descriptor": "Descriptor"}

    def validate_unique(self):
        pass  # the service says "already has a domain of that name", case-insensitively


class ObjectiveForm(forms.ModelForm):
    # The choices are the programme's domains, set per request (a scoped query cannot run at
    # import time).
    domain = forms.ModelChoiceField(
        label="Competency domain",
        queryset=CompetencyDomain._base_manager.none(),
        error_messages={"required": "Choose the competency domain it develops."},
    )

    class Meta:
        model = Objective
        fields = ["title", "rationale", "measure", "target_date", "domain"]
        widgets = {
            "rationale": forms.Textarea(attrs={"rows": 3}),
            "measure": forms.Textarea(attrs={"rows": 3}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {
            "title": "What will you achieve?",
            "rationale": "Why does it matter? (optional)",
            "measure": "How will you know it is done?",
            "target_date": "By when?",
        }
        help_texts = {
            "title": "Specific and achievable in the year, such as “Raise a £50,000 pre-seed "
            "round”.",
            "target_date": "For example 31/3/2027.",
        }
        error_messages = {
            "measure": {"required": "Say how you will know the objective is done."},
            "target_date": {"required": "Give a target date.", "invalid": "Enter a real date."},
            "title": {"required": "Say what you will achieve."},
        }

    def __init__(self, *args, domains=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = domains
        self.fields["domain"].empty_label = "Choose a domain"


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Objective.Status.choices)
    reason = forms.CharField(
        label="Why drop it? (only when dropping)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ActionForm(forms.Form):
    text = forms.CharField(
        label="Add an action",
        max_length=300,
        error_messages={"required": "Describe the action."},
    )


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of evidence",
        # Events attended attach themselves (pdp.services.evidence_attach_event).
        choices=[c for c in Evidence.Kind.choices if c[0] != Evidence.Kind.EVENT],
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label="Title", max_length=200)
    note = forms.CharField(
        label="Note (for a note)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    url = forms.URLField(
        label="Address (for a link)",
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"spellcheck": "false"}),
    )
    file = forms.FileField(
        label="File (for a file)",
        required=False,
        help_text="PDF, PNG, JPEG, Word, Excel or PowerPoint, up to 10 MB. Only you, your "
        "mentor and the programme team can open it.",
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("agree", "Agree the plan"), ("return", "Return it with comments")],
        widget=forms.RadioSelect,
    )
    comments = forms.CharField(
        label="Comments for the fellow",
        required=False,
        max_length=4000,
        help_text="Needed when you return the plan.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
