from django import forms

from cohort.models import Cohort, Organisation, Venture

from .definitions import METRICS
from .forecasting import INPUT_FIELDS as FORECAST_INPUT_FIELDS
from .forecasting import SETTINGS_FIELDS as FORECAST_SETTINGS_FIELDS
from .models import (
    ESTIMATE_PARTS,
    FORECAST_ESTIMATES,
    ForecastInput,
    ForecastSettings,
    OutcomeStatus,
)
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
            maximum = 100 if metric.unit == "percent" else 10_000_000_000
            label = metric.label
            self.fields[key] = forms.DecimalField(
                label=label,
                required=False,
                min_value=0,
                max_value=maximum,
                max_digits=14,
                decimal_places=2,
                # Each message names its field: the error summary lists them out of context.
                error_messages={
                    "invalid": f"{label}: give the target as a number, such as 25.",
                    "min_value": f"{label}: a target cannot be below 0.",
                    "max_value": f"{label}: a target cannot be above {maximum:,}.",
                    "max_digits": f"{label}: a target cannot be above {maximum:,}.",
                    "max_whole_digits": f"{label}: a target cannot be above {maximum:,}.",
                    "max_decimal_places": f"{label}: use at most 2 decimal places.",
                },
                help_text=(
                    f"In {unit}; "
                    + ("lower is better. " if not metric.higher_is_better else "")
                    + "leave empty for no target."
                ),
                initial=existing[key].value if key in existing else None,
            )


# --- Patient Impact forecast ------------------------------------------------------------------

ESTIMATE_HINTS = {
    "launch_delay": "Years from now until the first NHS site could use it. 0 if it is in use "
    "already; 1.5 for eighteen months.",
    "market_potential": "How many NHS sites (trusts, practices or pharmacies, whichever adopt "
    "it) could use it in the end, if it succeeds.",
    "patients_per_site": "How many patients one adopting site would reach in a year once it "
    "uses it fully.",
    "qalys_per_patient": "Optional. Quality-adjusted life years each patient gains, if you "
    "have evidence for it (for example 0.01 to 0.05 for many digital tools).",
    "savings_per_patient": "Optional. Money the NHS saves for each patient reached, in pounds.",
}
ESTIMATE_UNITS = {
    "launch_delay": "years",
    "market_potential": "sites",
    "patients_per_site": "patients a year",
    "qalys_per_patient": "QALYs",
    "savings_per_patient": "£",
}


class ForecastInputForm(forms.ModelForm):
    """A venture's forecast inputs: three numbers per estimate, and why."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ForecastInput
        fields = list(FORECAST_INPUT_FIELDS)
        widgets = {"assumptions": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prefix, label, _, places, _maximum, _ in FORECAST_ESTIMATES:
            for part in ESTIMATE_PARTS:
                field = self.fields[f"{prefix}_{part}"]
                field.label = part.capitalize()
                field.required = False
                field.widget = forms.TextInput(
                    attrs={"inputmode": "decimal", "spellcheck": "false", "autocomplete": "off"}
                )
                number = "a whole number" if places == 0 else "a number"
                field.error_messages = {
                    **field.error_messages,
                    "invalid": f"{label}: give the {part} estimate as {number}, such as "
                    f"{'40' if places == 0 else '1.5'}.",
                    "max_digits": f"{label}: the {part} estimate is too large: check it.",
                    "max_whole_digits": f"{label}: the {part} estimate is too large: check it.",
                    "max_decimal_places": (
                        f"{label}: give the {part} estimate as a whole number."
                        if places == 0
                        else f"{label}: use at most {places} decimal places."
                    ),
                }

    def estimate_groups(self):
        """For the template: one group of three fields per estimate."""
        for prefix, label, _, _, _, required in FORECAST_ESTIMATES:
            yield {
                "prefix": prefix,
                "label": label,
                "hint": ESTIMATE_HINTS[prefix],
                "unit": ESTIMATE_UNITS[prefix],
                "required": required,
                "fields": [self[f"{prefix}_{part}"] for part in ESTIMATE_PARTS],
                "errors": [e for part in ESTIMATE_PARTS for e in self[f"{prefix}_{part}"].errors],
            }


class ForecastReturnForm(forms.Form):
    reason = forms.CharField(
        label="Why are the inputs going back?",
        help_text="The fellow is told, and can change the inputs and send them again.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why, so the fellow knows what to change."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ForecastSettingsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ForecastSettings
        fields = list(FORECAST_SETTINGS_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for stage, name in ForecastSettings.STAGE_FIELDS.items():
            self.fields[name].label = f"Probability of reaching adoption: {stage} stage"
            self.fields[name].help_text = "From 0 to 1, such as 0.35."
        for name, field in self.fields.items():
            if name == "version":
                continue
            field.widget.attrs.update({"inputmode": "decimal"})
            field.error_messages = {
                **field.error_messages,
                "invalid": f"{field.label}: give a number.",
                "required": f"{field.label}: give a number.",
                "max_digits": f"{field.label}: that number is too large.",
                "max_whole_digits": f"{field.label}: that number is too large.",
                "max_decimal_places": f"{field.label}: use fewer decimal places.",
            }


class ReportForm(forms.Form):
    """Which programme year the annual report covers (a cohort's year)."""

    year = forms.ChoiceField(
        label="Programme year",
        help_text="The report covers the year of one cohort, from its first day to its last.",
    )

    def __init__(self, *args, cohorts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cohorts = {str(c.uuid): c for c in cohorts}
        self.fields["year"].choices = [
            (str(c.uuid), f"{c.name} ({c.starts_on:%-d %b %Y} to {c.ends_on:%-d %b %Y})")
            for c in cohorts
        ]

    def clean_year(self):
        return self.cohorts[self.cleaned_data["year"]]
