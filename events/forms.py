import zoneinfo
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_scopes.forms import SafeModelChoiceField, SafeModelMultipleChoiceField

from cohort.models import Cohort, NHSRegion, Organisation, Profession, Sector, VentureStage
from pdp.models import CompetencyDomain, Objective

from .models import UK_TIME_ZONE, Event, Opportunity, Registration, Resource
from .services import OPPORTUNITY_FIELDS, RESOURCE_FIELDS, clean_tags

# --- events and registration ---------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
# The zones offered: the UK first, then the rest of the world's named zones.
TIME_ZONES = [
    (UK_TIME_ZONE, "UK time (Europe/London)"),
    *(
        (name, name)
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")) and name != UK_TIME_ZONE
    ),
]


class EventForm(forms.Form):
    """An event as staff write it; times are in the event's own time zone."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label="Kind of event", choices=Event.Kind.choices)
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    starts_on = forms.DateField(
        label="Date", widget=DATE_INPUT, help_text="For example, 15/03/2027"
    )
    starts_time = forms.TimeField(
        label="Starts at", widget=TIME_INPUT, help_text="For example, 14:00"
    )
    ends_on = forms.DateField(
        label="Ends on (for an event over several days)", required=False, widget=DATE_INPUT
    )
    ends_time = forms.TimeField(label="Ends at", widget=TIME_INPUT, help_text="For example, 17:00")
    time_zone = forms.ChoiceField(label="Time zone", choices=TIME_ZONES, initial=UK_TIME_ZONE)
    is_online = forms.TypedChoiceField(
        label="Where",
        choices=[("False", "In person"), ("True", "Online")],
        coerce=lambda v: v == "True",
        widget=forms.RadioSelect,
        initial="False",
    )
    online_url = forms.URLField(
        label="Joining link (online events)",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Shown only to people registered.",
    )
    venue_name = forms.CharField(label="Venue (in person)", required=False, max_length=200)
    venue_address = forms.CharField(
        label="Venue address",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    region = forms.ChoiceField(
        label="NHS England region",
        required=False,
        choices=[("", "Not in one region"), *NHSRegion.choices],
    )
    capacity = forms.IntegerField(
        label="Places",
        required=False,
        min_value=1,
        max_value=100_000,
        help_text="Leave empty for no limit. When the places are taken, people join a waiting "
        "list that moves up by itself when someone cancels.",
    )
    audience = forms.ChoiceField(label="Who it is for", choices=Event.Audience.choices)
    cohort = SafeModelChoiceField(
        label="Only for one cohort",
        queryset=Cohort.objects.none(),
        required=False,
        empty_label="Every cohort",
    )
    organiser = SafeModelChoiceField(
        label="Organised by",
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="The programme team",
    )
    domains = SafeModelMultipleChoiceField(
        label="Competency domains",
        queryset=CompetencyDomain.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Attending adds the event as evidence to fellows' objectives in these domains.",
    )
    resources = SafeModelMultipleChoiceField(
        label="Resources from the library",
        queryset=Resource.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = Cohort.objects.filter(programme=programme)
        self.fields["organiser"].queryset = Organisation.objects.filter(programme=programme)
        self.fields["domains"].queryset = CompetencyDomain.objects.filter(programme=programme)
        self.fields["resources"].queryset = Resource.objects.filter(
            programme=programme, is_published=True
        )

    @staticmethod
    def initial_for(event: Event) -> dict:
        starts, ends = event.local_starts_at, event.local_ends_at
        return {
            "version": event.version,
            "kind": event.kind,
            "title": event.title,
            "description": event.description,
            "starts_on": starts.date(),
            "starts_time": starts.time().replace(second=0, microsecond=0),
            "ends_on": ends.date() if ends.date() != starts.date() else None,
            "ends_time": ends.time().replace(second=0, microsecond=0),
            "time_zone": event.time_zone,
            "is_online": str(event.is_online),
            "online_url": event.online_url,
            "venue_name": event.venue_name,
            "venue_address": event.venue_address,
            "region": event.region,
            "capacity": event.capacity,
            "audience": event.audience,
            "cohort": event.cohort,
            "organiser": event.organiser,
            "domains": list(event.domains.all()),
            "resources": list(event.resources.all()),
        }

    def clean(self):
        data = super().clean()
        starts_on, starts_time = data.get("starts_on"), data.get("starts_time")
        ends_time = data.get("ends_time")
        zone_name = data.get("time_zone")
        if not (starts_on and starts_time and ends_time and zone_name):
            return data
        zone = zoneinfo.ZoneInfo(zone_name)
        ends_on = data.get("ends_on") or starts_on
        starts_at = datetime.combine(starts_on, starts_time, tzinfo=zone)
        ends_at = datetime.combine(ends_on, ends_time, tzinfo=zone)
        if ends_at <= starts_at:
            self.add_error(
                "ends_time",
                "The event must end after it starts: check the end time"
                + (" and date." if data.get("ends_on") else "."),
            )
        data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data

    def event_data(self) -> dict:
        """What the event_save service takes."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "title": data["title"].strip(),
            "description": data["description"].strip(),
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "time_zone": data["time_zone"],
            "is_online": data["is_online"],
            "online_url": data["online_url"] if data["is_online"] else "",
            "venue_name": "" if data["is_online"] else data["venue_name"].strip(),
            "venue_address": "" if data["is_online"] else data["venue_address"].strip(),
            "region": data["region"],
            "capacity": data["capacity"],
            "audience": data["audience"],
            "cohort": data["cohort"],
            "organiser": data["organiser"],
            "domains": list(data["domains"]),
            "resources": list(data["resources"]),
        }


class EventCancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the event cancelled?",
        help_text="Everyone registered or waiting is told, with this reason.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the event is cancelled: registrants are told."},
    )


class EventFilterForm(forms.Form):
    when = forms.ChoiceField(
        label="When",
        required=False,
        choices=[("", "Upcoming"), ("past", "Past"), ("all", "All")],
    )
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *Event.Kind.choices]
    )
    region = forms.ChoiceField(
        label="Region", required=False, choices=[("", "All regions"), *NHSRegion.choices]
    )
    format = forms.ChoiceField(
        label="Online or in person",
        required=False,
        choices=[("", "Both"), ("online", "Online"), ("in_person", "In person")],
    )
    mine = forms.BooleanField(label="Only events I registered for", required=False)


class RegisterFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Show", required=False, choices=[("", "Everyone"), *Registration.Status.choices]
    )


class EvidenceObjectiveForm(forms.Form):
    """A fellow adds an event they attended as evidence for one of their objectives."""

    objective = SafeModelChoiceField(
        label="Objective",
        queryset=Objective.objects.none(),
        error_messages={"required": "Choose the objective it is evidence for."},
    )

    def __init__(self, *args, objectives, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = objectives


# --- calendars -----------------------------------------------------------------------------------


# --- resources and opportunities -----------------------------------------------------------------

FROM_THE_LIST = {"invalid_choice": "Choose from the list: “%(value)s” is not one of the choices."}


def _https_links(field, **kwargs):
    """Model fields to form fields, with links typed without a scheme read as https://."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class ResourceFilterForm(forms.Form):
    q = forms.CharField(label="Search the library", required=False, max_length=100)
    kind = forms.ChoiceField(label="Kind", required=False, error_messages=FROM_THE_LIST)
    domain = forms.ChoiceField(
        label="Competency domain", required=False, error_messages=FROM_THE_LIST
    )
    accredited = forms.BooleanField(
        label="Accredited modules only",
        required=False,
        help_text="Modules carrying credits toward a PGCert, PGDip or master's degree.",
    )

    def __init__(self, *args, domains=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The programme's domains, per request (a scoped query cannot run at import time).
        self.domains = {str(d.uuid): d for d in domains}
        self.fields["kind"].choices = [("", "Any kind"), *Resource.Kind.choices]
        self.fields["domain"].choices = [
            ("", "Any domain"),
            *((key, d.name) for key, d in self.domains.items()),
        ]

    def filters(self) -> dict:
        """What to filter by; a filter that does not parse is dropped (and shown at its field)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q", ""),
            "kind": data.get("kind", ""),
            "domain": self.domains.get(data.get("domain") or ""),
            "accredited": bool(data.get("accredited")),
        }


class ResourceForm(forms.ModelForm):
    # Choices come from the programme per request (never a query at import time).
    provider = forms.ModelChoiceField(
        label="Provider (optional)",
        required=False,
        queryset=Organisation._base_manager.none(),
        error_messages={"invalid_choice": "Choose an organisation from the list."},
    )
    domains = forms.ModelMultipleChoiceField(
        label="Competency domains it develops (optional)",
        required=False,
        queryset=CompetencyDomain._base_manager.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose domains from the list."},
    )

    class Meta:
        model = Resource
        formfield_callback = _https_links
        fields = [*RESOURCE_FIELDS, "domains"]
        labels = {
            "kind": "Kind of resource",
            "title": "Title",
            "summary": "What it covers (optional)",
            "url": "Link",
            "duration_minutes": "How long it takes, in minutes (optional)",
            "credits": "Academic credits (optional)",
            "credit_level": "Credits count toward (optional)",
        }
        help_texts = {
            "url": "The address where fellows open it, starting https://.",
            "credits": "For an accredited module: the credits toward a postgraduate award, "
            "such as 15 or 20.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "summary": forms.Textarea(attrs={"rows": 4}),
            "url": forms.URLInput(attrs={"spellcheck": "false"}),
        }
        error_messages = {
            "kind": {"required": "Choose the kind of resource."},
            "title": {"required": "Give the resource a title."},
            "url": {
                "required": "Give the link to the resource.",
                "invalid": "Enter a web address, such as https://www.e-lfh.org.uk/.",
            },
            "duration_minutes": {
                "invalid": "Enter the minutes as a whole number, such as 45.",
                "min_value": "Enter at least 1 minute.",
                "max_value": "Enter at most 100,000 minutes.",
            },
            "credits": {
                "invalid": "Enter the credits as a whole number, such as 15.",
                "min_value": "Enter at least 1 credit.",
                "max_value": "A postgraduate award carries at most 180 credits.",
            },
        }

    def __init__(self, *args, organisations=None, domains=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = organisations
        self.fields["provider"].empty_label = "No provider named"
        self.fields["domains"].queryset = domains
        self.fields["kind"].choices = Resource.Kind.choices
        self.fields["credit_level"].choices = [
            ("", "Not applicable"),
            *Resource.CreditLevel.choices,
        ]
        if self.instance.pk:
            self.initial.setdefault("domains", [d.pk for d in self.instance.domains.all()])


class OpportunityFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", required=False, error_messages=FROM_THE_LIST)
    # Any tag may be asked for (a link from an opportunity's page); the list offers the tags
    # of the opportunities shown (set_tags, once they are known).
    tag = forms.CharField(label="Tag", required=False, max_length=40, widget=forms.Select)
    status = forms.ChoiceField(label="Status", required=False, error_messages=FROM_THE_LIST)
    bookmarked = forms.BooleanField(label="Only those I bookmarked", required=False)
    applied = forms.BooleanField(label="Only those I applied to", required=False)

    def __init__(self, *args, tags=(), staff=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any kind"), *Opportunity.Kind.choices]
        self.set_tags(tags)
        self.fields["status"].choices = [
            ("", "Every status"),
            ("open", "Open now"),
            *Opportunity.Status.choices,
        ]
        if not staff:
            del self.fields["status"]

    def set_tags(self, tags, current: str = "") -> None:
        offered = list(tags)
        if current and current.casefold() not in offered:
            offered.append(current.casefold())
        self.fields["tag"].widget.choices = [("", "Any tag"), *((t, t) for t in offered)]


class OpportunityForm(forms.ModelForm):
    organisation = forms.ModelChoiceField(
        label="Organisation offering it (optional)",
        required=False,
        queryset=Organisation._base_manager.none(),
        error_messages={"invalid_choice": "Choose an organisation from the list."},
    )
    funding = forms.ChoiceField(
        label="Who pays for the placement (internships and placements only)",
        required=False,
        choices=[("", "Not an internship or placement"), *Opportunity.Funding.choices],
        error_messages=FROM_THE_LIST,
    )
    tags = forms.CharField(
        label="Tags (optional)",
        required=False,
        max_length=600,
        help_text="Separate them with commas, such as “AI, funding, diagnostics”.",
    )
    professions = forms.MultipleChoiceField(
        label="Open only to these professions (leave all clear for every fellow)",
        required=False,
        choices=Profession.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose professions from the list."},
    )
    sectors = forms.MultipleChoiceField(
        label="Best for ventures in these sectors (optional)",
        required=False,
        choices=Sector.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose sectors from the list."},
    )
    stages = forms.MultipleChoiceField(
        label="Best for ventures at these stages (optional)",
        required=False,
        choices=VentureStage.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose venture stages from the list."},
    )
    regions = forms.MultipleChoiceField(
        label="Best for fellows in these NHS regions (optional)",
        required=False,
        choices=NHSRegion.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose NHS regions from the list."},
    )

    class Meta:
        model = Opportunity
        formfield_callback = _https_links
        fields = OPPORTUNITY_FIELDS
        labels = {
            "kind": "Kind of opportunity",
            "title": "Title",
            "summary": "What it offers",
            "amount": "Value (optional)",
            "url": "Link to apply or find out more",
            "opens_on": "Opens on (optional)",
            "deadline": "Deadline (optional)",
            "eligibility": "Who can apply (optional)",
        }
        help_texts = {
            "opens_on": "Leave empty if it is open now. For example 1/9/2026.",
            "deadline": "The last day to apply. Leave empty for a rolling call.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "summary": forms.Textarea(attrs={"rows": 4}),
            "eligibility": forms.Textarea(attrs={"rows": 3}),
            "url": forms.URLInput(attrs={"spellcheck": "false"}),
            "opens_on": forms.DateInput(attrs={"type": "date"}),
            "deadline": forms.DateInput(attrs={"type": "date"}),
        }
        error_messages = {
            "kind": {"required": "Choose the kind of opportunity."},
            "title": {"required": "Give the opportunity a title."},
            "summary": {"required": "Say what the opportunity offers."},
            "url": {
                "required": "Give the link where fellows apply or find out more.",
                "invalid": "Enter a web address, such as https://www.sbrihealthcare.co.uk/.",
            },
            "opens_on": {"invalid": "Enter a real date, such as 1/9/2026."},
            "deadline": {"invalid": "Enter a real date, such as 30/11/2026."},
        }

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].empty_label = "No organisation named"
        self.fields["kind"].choices = Opportunity.Kind.choices
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self):
        try:
            return clean_tags(self.cleaned_data["tags"])
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class CloseOpportunityForm(forms.Form):
    reason = forms.CharField(
        label="Why is it closing?",
        max_length=1000,
        help_text="For example “All places filled” or “Withdrawn by the partner”. Kept in the "
        "audit log.",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the opportunity is closing."},
    )


class AppliedForm(forms.Form):
    note = forms.CharField(
        label="A note for yourself (optional)",
        required=False,
        max_length=500,
        help_text="Such as your application reference or who you spoke to. Only you see it.",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Keep the note to 500 characters."},
    )
