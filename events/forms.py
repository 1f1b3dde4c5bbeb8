import zoneinfo
from datetime import datetime

from django import forms
from django_scopes.forms import SafeModelChoiceField, SafeModelMultipleChoiceField

from cohort.models import Cohort, NHSRegion, Organisation
from pdp.models import CompetencyDomain, Objective

from .models import UK_TIME_ZONE, Event, Registration, Resource

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
