from django import forms

from cohort.models import Cohort, Organisation, Venture

from .definitions import METRICS
from .models import OutcomeStatus
from .services import OUTCOME_KINDS

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def outcome_form_class(kind: str):
    """The form of one kind of outcome, made inside the request's programme scope (its
    foreign-key choices are narrowed per fellow in __init__)."""
    outcome_kind = OUTCOME_KINDS[kind]

    class OutcomeForm(forms.ModelForm):
        version = forms.IntegerField(widget=forms.HiddenInput, required=False)

        class Meta:
            model = outcome_kind.model
            fields = list(outcome_kind.fields)
            widgets = {
                name: DATE_INPUT
                for name in (
                    "received_on",
                    "started_on",
                    "period_start",
                    "period_end",
                    "incorporated_on",
                    "counted_on",
                )
                if name in outcome_kind.fields
            } | {
                name: forms.Textarea(attrs={"rows": 3})
                for name in ("evidence", "description")
                if name in outcome_kind.fields
            }
            error_messages = {
                "amount": {
                    "min_value": "Give an amount of at least £0.01.",
                    "max_value": "That amount is too large: check the number of zeros.",
                    "invalid": "Give the amount in pounds, such as 25000 or 25000.50.",
                    "max_digits": "That amount is too large: check the number of zeros.",
                },
                "patients": {
                    "min_value": "Give the number of patients, at least 1.",
                    "max_value": "That number is too large: check it.",
                },
                "jobs": {
                    "min_value": "Give the jobs as full-time equivalents, at least 0.1.",
                    "max_value": "That number is too large: check it.",
                },
            }

        def __init__(self, *args, fellow, **kwargs):
            super().__init__(*args, **kwargs)
            if "venture" in self.fields:
                self.fields["venture"].queryset = Venture.objects.filter(
                    programme=fellow.programme, fellow=fellow
                )
                self.fields["venture"].required = False
                self.fields["venture"].empty_label = "Not tied to one venture"
            if "organisation" in self.fields:
                self.fields["organisation"].queryset = Organisation.objects.filter(
                    programme=fellow.programme
                )
                self.fields["organisation"].empty_label = "Not listed"
            if "amount" in self.fields:
                self.fields["amount"].widget.attrs.update({"inputmode": "decimal"})

    return OutcomeForm


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why can it not be verified?",
        help_text="The fellow is told, and can change the record and send it again.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why, so the fellow knows what to change."},
    )


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Every kind"), *((k.slug, k.label) for k in OUTCOME_KINDS.values())],
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Waiting for verification"), ("all", "All"), *OutcomeStatus.choices],
    )
    cohort = forms.ChoiceField(label="Cohort", required=False)

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].choices = [
            ("", "Every cohort"),
            *((str(c.uuid), c.name) for c in Cohort.objects.filter(programme=programme)),
        ]


class TargetsForm(forms.Form):
    """One optional field per metric counted by month: the aim for the programme year."""

    def __init__(self, *args, existing=None, **kwargs):
        super().__init__(*args, **kwargs)
        existing = existing or {}
        for key, metric in METRICS.items():
            if metric.family != "period":
                continue
            unit = {
                "gbp": "pounds",
                "percent": "per cent",
                "days": "days",
            }.get(metric.unit, metric.unit if metric.unit != "count" else "number")
            self.fields[key] = forms.DecimalField(
                label=metric.label,
                required=False,
                min_value=0,
                max_value=(100 if metric.unit == "percent" else 10_000_000_000),
                max_digits=14,
                decimal_places=2,
                help_text=(
                    f"In {unit}; "
                    + ("lower is better. " if not metric.higher_is_better else "")
                    + "leave empty for no target."
                ),
                initial=existing[key].value if key in existing else None,
            )
