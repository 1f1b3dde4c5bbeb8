"""The resource library: staff keep it (validated, audited), every member searches it, and a
fellow links a resource to an objective of their own plan, where it shows beside the evidence."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from cohort.models import AuditEvent, Fellow
from events.models import EventResource, Resource, ResourceDomain, ResourceObjective
from events.services import (
    resource_link_objective,
    resource_save,
    resource_set_published,
    resource_unlink_objective,
)
from pdp.models import CompetencyDomain, Objective, PDPChange
from pdp.services import objective_save, objective_set_status, pdp_for_fellow

from ..factories import (
    EventFactory,
    FellowFactory,
    MentorshipFactory,
    OrganisationFactory,
    ResourceFactory,
)

pytestmark = pytest.mark.django_db


def url(name, programme, **kwargs):
    return reverse(f"events:{name}", kwargs={"programme_slug": programme.slug, **kwargs})


@pytest.fixture
def domains(programme_a):
    with scopes_disabled():
        return [
            CompetencyDomain.objects.create(programme=programme_a, name=name, position=n)
            for n, name in enumerate(
                ["Finance and investment", "Regulation and governance", "Leadership"]
            )
        ]


@pytest.fixture
def fellow(programme_a, fellow_a):
    with scopes_disabled():
        return Fellow.objects.select_related("user").get(user=fellow_a)


def _objective(programme, fellow, domain, title):
    with scope(programme=programme):
        return objective_save(
            pdp=pdp_for_fellow(fellow=fellow),
            actor=fellow.user,
            data={
                "title": title,
                "measure": "Signed agreements.",
                "target_date": date(2027, 3, 31),
                "domain": domain,
            },
        )


@pytest.fixture
def objective(programme_a, fellow, domains):
    return _objective(programme_a, fellow, domains[0], "Raise a £50,000 pre-seed round")


def _resource(programme, **fields):
    with scopes_disabled():
        return ResourceFactory(programme=programme, **fields)


RESOURCE_FORM = {
    "kind": "e_learning",
    "title": "UKCA marking: the essentials",
    "summary": "Classifying a device and the technical file.",
    "url": "https://www.gov.uk/guidance/ukca",
    "duration_minutes": "90",
    "credits": "",
    "credit_level": "",
}


# --- staff keep the library ---------------------------------------------------------------------


def test_staff_add_a_resource_with_its_domains_and_it_is_audited(
    client_for, staff_a, programme_a, domains
):
    with scopes_disabled():
        provider = OrganisationFactory(programme=programme_a, name="MHRA")
    client = client_for(staff_a)
    assert client.get(url("resource_new", programme_a)).status_code == 200
    response = client.post(
        url("resource_new", programme_a),
        {**RESOURCE_FORM, "provider": provider.pk, "domains": [domains[1].pk, domains[2].pk]},
    )
    assert response.status_code == 302
    with scopes_disabled():
        resource = Resource.objects.get(title="UKCA marking: the essentials")
        assert resource.provider == provider and resource.is_published
        assert resource.created_by == staff_a
        assert {d.name for d in resource.domains.all()} == {
            "Regulation and governance",
            "Leadership",
        }
        # The through rows carry their programme, like every tenant-owned row.
        assert set(
            ResourceDomain.objects.filter(resource=resource).values_list("programme", flat=True)
        ) == {programme_a.pk}
        assert AuditEvent.objects.filter(
            action="resource.created", target_id=str(resource.uuid), actor=staff_a
        ).exists()
    page = client.get(response["Location"])
    assert "1 hour 30 minutes" in page.text and "MHRA" in page.text
    assert "Regulation and governance" in page.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"credits": "20"}, "Say which award the credits count toward."),
        ({"credit_level": "pgcert"}, "Give the number of credits."),
        ({"credits": "400", "credit_level": "masters"}, "at most 180 credits"),
        ({"url": "not a link"}, "Enter a web address"),
        ({"duration_minutes": "0"}, "Enter at least 1 minute."),
        ({"duration_minutes": "an hour"}, "Enter the minutes as a whole number"),
        ({"kind": "podcast"}, "Select a valid choice"),
        ({"title": ""}, "Give the resource a title."),
        ({"domains": ["999999"]}, "Choose domains from the list."),
        ({"provider": "999999"}, "Choose an organisation from the list."),
    ],
)
def test_a_bad_resource_is_refused_at_the_field_and_nothing_typed_is_lost(
    client_for, staff_a, programme_a, domains, changes, message
):
    response = client_for(staff_a).post(
        url("resource_new", programme_a), {**RESOURCE_FORM, **changes}
    )
    assert response.status_code == 400
    assert message in response.text
    assert "nhsuk-error-summary" in response.text and "<title>Error:" in response.text
    if "title" not in changes:
        assert "UKCA marking: the essentials" in response.text
    assert "Classifying a device and the technical file." in response.text
    with scopes_disabled():
        assert not Resource.objects.exists()


def test_the_service_refuses_another_programmes_provider_and_domains(
    programme_a, programme_b, staff_a, domains
):
    with scopes_disabled():
        elsewhere = OrganisationFactory(programme=programme_b)
        foreign_domain = CompetencyDomain.objects.create(programme=programme_b, name="Other")
    data = {"kind": "video", "title": "A film", "url": "https://example.org/film"}
    with scope(programme=programme_a):
        with pytest.raises(ValidationError) as provider_error:
            resource_save(
                programme=programme_a, actor=staff_a, data={**data, "provider": elsewhere}
            )
        assert "provider" in provider_error.value.error_dict
        with pytest.raises(ValidationError) as domain_error:
            resource_save(
                programme=programme_a, actor=staff_a, data={**data, "domains": [foreign_domain]}
            )
        assert "domains" in domain_error.value.error_dict
    with scopes_disabled():
        assert not Resource.objects.exists()


def test_staff_change_a_resource_and_only_a_real_change_is_audited(
    client_for, staff_a, programme_a, domains
):
    resource = _resource(programme_a, title="Old title")
    client = client_for(staff_a)
    edit = url("resource_edit", programme_a, resource_uuid=resource.uuid)
    form = {**RESOURCE_FORM, "kind": "video", "title": "New title", "domains": [domains[0].pk]}
    assert client.post(edit, form).status_code == 302
    assert client.post(edit, form).status_code == 302  # the same again: nothing changes
    with scopes_disabled():
        changes = AuditEvent.objects.filter(action="resource.changed")
        assert changes.count() == 1
        assert changes.get().changes["title"] == ["Old title", "New title"]
        assert changes.get().changes["domains"] == [[], ["Finance and investment"]]


def test_unpublishing_takes_a_resource_out_of_the_library_for_all_but_staff(
    client_for, staff_a, fellow_a, programme_a
):
    resource = _resource(programme_a, title="Soon withdrawn")
    staff = client_for(staff_a)
    assert (
        staff.post(url("resource_unpublish", programme_a, resource_uuid=resource.uuid)).status_code
        == 302
    )
    detail = url("resource", programme_a, resource_uuid=resource.uuid)
    assert "Not in the library" in staff.get(detail).text
    assert "Soon withdrawn" in staff.get(url("resources", programme_a)).text
    fellow = client_for(fellow_a)
    assert fellow.get(detail).status_code == 404
    assert "Soon withdrawn" not in fellow.get(url("resources", programme_a)).text
    with scope(programme=programme_a):
        assert not resource_set_published(resource=resource, actor=staff_a, published=False)
        assert resource_set_published(resource=resource, actor=staff_a, published=True)
    assert client_for(fellow_a).get(detail).status_code == 200
    with scopes_disabled():
        assert list(
            AuditEvent.objects.filter(target_id=str(resource.uuid))
            .order_by("occurred_at", "id")
            .values_list("action", flat=True)
        ) == ["resource.unpublished", "resource.published"]


def test_only_staff_keep_the_library(client_for, fellow_a, mentor_a, programme_a):
    resource = _resource(programme_a)
    for user in (fellow_a, mentor_a):
        client = client_for(user)
        assert client.get(url("resource_new", programme_a)).status_code == 403
        assert client.post(url("resource_new", programme_a), RESOURCE_FORM).status_code == 403
        assert (
            client.post(
                url("resource_unpublish", programme_a, resource_uuid=resource.uuid)
            ).status_code
            == 403
        )
        page = client.get(url("resource", programme_a, resource_uuid=resource.uuid))
        assert "Change this resource" not in page.text
    with scopes_disabled():
        assert Resource.objects.get(pk=resource.pk).is_published


# --- every member searches the library ------------------------------------------------------------


def _library(programme_a, domains):
    film = _resource(
        programme_a, kind="video", title="Raising a seed round", summary="Term sheets explained."
    )
    module = _resource(
        programme_a,
        kind="module",
        title="Venture Creation",
        summary="A master's-level module on seed funding.",
        credits=20,
        credit_level="pgcert",
    )
    guide = _resource(
        programme_a, kind="document", title="Clinical safety", summary="DCB0129 for software."
    )
    with scopes_disabled():
        film.domains.set([domains[0]], through_defaults={"programme": programme_a})
        guide.domains.set([domains[1]], through_defaults={"programme": programme_a})
    return film, module, guide


def _titles(page) -> set[str]:
    return {r.title for r in page.context["page"].object_list}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Raising a seed round", "Venture Creation", "Clinical safety"}),
        ({"q": "seed"}, {"Raising a seed round", "Venture Creation"}),
        ({"q": "seed  TERM"}, {"Raising a seed round"}),
        ({"q": "dcb0129"}, {"Clinical safety"}),
        ({"kind": "module"}, {"Venture Creation"}),
        ({"accredited": "on"}, {"Venture Creation"}),
        ({"q": "nothing-like-this"}, set()),
    ],
)
def test_the_library_searches_words_and_filters(
    client_for, mentor_a, programme_a, domains, params, expected
):
    _library(programme_a, domains)
    page = client_for(mentor_a).get(url("resources", programme_a), params)
    assert page.status_code == 200
    assert _titles(page) == expected


def test_the_library_filters_by_competency_domain(client_for, fellow_a, programme_a, domains):
    _library(programme_a, domains)
    page = client_for(fellow_a).get(url("resources", programme_a), {"domain": domains[1].uuid})
    assert _titles(page) == {"Clinical safety"}
    assert (
        "20 credits toward a Postgraduate Certificate"
        in client_for(fellow_a).get(url("resources", programme_a)).text
    )


@pytest.mark.parametrize(
    "params",
    [{"kind": "podcast"}, {"domain": "not-a-domain"}, {"page": "last"}, {"page": "999"}],
)
def test_a_bad_filter_says_so_and_never_fails(client_for, fellow_a, programme_a, domains, params):
    _library(programme_a, domains)
    page = client_for(fellow_a).get(url("resources", programme_a), params)
    assert page.status_code == 200
    if "page" not in params:
        assert "Choose from the list" in page.text


def test_the_library_is_paginated(client_for, fellow_a, programme_a):
    for n in range(25):
        _resource(programme_a, title=f"Resource {n:02d}")
    client = client_for(fellow_a)
    first = client.get(url("resources", programme_a), {"q": "resource"})
    assert len(first.context["page"].object_list) == 20 and "Page 2 of 2" in first.text
    assert "q=resource&amp;page=2" in first.text
    second = client.get(url("resources", programme_a), {"q": "resource", "page": 2})
    assert _titles(second) == {f"Resource {n}" for n in range(20, 25)}


def test_the_library_page_reads_a_fixed_number_of_queries(
    client_for, fellow_a, programme_a, domains
):
    client = client_for(fellow_a)

    def add(count):
        for _ in range(count):
            resource = _resource(programme_a, provider=OrganisationFactory(programme=programme_a))
            with scopes_disabled():
                resource.domains.set(domains, through_defaults={"programme": programme_a})

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("resources", programme_a)).status_code == 200
        return len(queries)

    add(2)
    few = count()
    add(15)
    assert count() == few


def test_another_programmes_member_finds_nothing(
    client_for, fellow_b, staff_b, programme_a, programme_b
):
    resource = _resource(programme_a)
    for user in (fellow_b, staff_b):
        client = client_for(user)
        assert client.get(url("resources", programme_a)).status_code == 404
        assert (
            client.get(url("resource", programme_a, resource_uuid=resource.uuid)).status_code == 404
        )
        # Through their own programme's address, A's resource does not exist either.
        assert (
            client.get(url("resource", programme_b, resource_uuid=resource.uuid)).status_code == 404
        )


# --- a fellow links resources to their plan -------------------------------------------------------


def test_the_fellow_links_a_resource_to_her_objective_and_sees_it_on_her_plan(
    client_for, fellow, programme_a, objective
):
    resource = _resource(programme_a, title="Investment readiness checklist")
    client = client_for(fellow.user)
    detail = url("resource", programme_a, resource_uuid=resource.uuid)
    page = client.get(detail)
    assert "Link it to your plan" in page.text and "Raise a £50,000 pre-seed round" in page.text
    link = url(
        "resource_link", programme_a, resource_uuid=resource.uuid, objective_uuid=objective.uuid
    )
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == detail
    assert "is linked to" in client.get(detail).text
    plan = client.get(reverse("pdp:mine", kwargs={"programme_slug": programme_a.slug}))
    assert "Investment readiness checklist" in plan.text
    # Linking again changes nothing.
    client.post(link)
    with scopes_disabled():
        row = ResourceObjective.objects.get()
        assert row.programme == programme_a and row.linked_by == fellow.user
        assert AuditEvent.objects.filter(action="resource.linked").count() == 1
        assert PDPChange.objects.filter(action="resource.linked", objective=objective).count() == 1


def test_the_fellow_unlinks_from_her_plan_and_returns_to_it(
    client_for, fellow, programme_a, objective
):
    resource = _resource(programme_a, title="A film to unlink")
    with scope(programme=programme_a):
        resource_link_objective(resource=resource, objective=objective, actor=fellow.user)
    client = client_for(fellow.user)
    plan_url = reverse("pdp:mine", kwargs={"programme_slug": programme_a.slug})
    plan = client.get(plan_url)
    assert "Unlink" in plan.text
    with scopes_disabled():
        pdp_uuid = objective.pdp.uuid
    back = reverse("pdp:detail", kwargs={"programme_slug": "alpha", "pdp_uuid": pdp_uuid})
    response = client.post(
        url(
            "resource_unlink",
            programme_a,
            resource_uuid=resource.uuid,
            objective_uuid=objective.uuid,
        ),
        {"next": f"{back}#objective-{objective.uuid}"},
    )
    assert response["Location"] == f"{back}#objective-{objective.uuid}"
    assert str(resource.uuid) not in client.get(plan_url).text
    with scopes_disabled():
        assert not ResourceObjective.objects.exists()
        assert AuditEvent.objects.filter(action="resource.unlinked").count() == 1


def test_a_next_address_outside_the_programme_is_ignored(
    client_for, fellow, programme_a, objective
):
    resource = _resource(programme_a)
    response = client_for(fellow.user).post(
        url(
            "resource_link",
            programme_a,
            resource_uuid=resource.uuid,
            objective_uuid=objective.uuid,
        ),
        {"next": "https://evil.example/p/alpha/"},
    )
    assert response["Location"] == url("resource", programme_a, resource_uuid=resource.uuid)
    for forged in ("//evil.example/p/alpha/", "/p/alpha/\r\nSet-Cookie: x=1", "/p/bravo/"):
        response = client_for(fellow.user).post(
            url(
                "resource_unlink",
                programme_a,
                resource_uuid=resource.uuid,
                objective_uuid=objective.uuid,
            ),
            {"next": forged},
        )
        assert response["Location"] == url("resource", programme_a, resource_uuid=resource.uuid)


def test_another_fellows_objective_is_not_found(
    client_for, programme_a, fellow, mentor_a, objective
):
    """Not even their mentor links resources to a fellow's plan: it is the fellow's choice."""
    resource = _resource(programme_a)
    with scopes_disabled():
        MentorshipFactory(fellow=fellow, mentor=mentor_a.mentor_profiles.get())
        other = FellowFactory(programme=programme_a)
    link = url(
        "resource_link", programme_a, resource_uuid=resource.uuid, objective_uuid=objective.uuid
    )
    for user in (other.user, mentor_a):
        client = client_for(user)
        assert client.post(link).status_code == 404
        unlink = link.replace("/link/", "/unlink/")
        assert client.post(unlink).status_code == 404
    assert client_for(fellow.user).get(link).status_code == 405
    with scopes_disabled():
        assert not ResourceObjective.objects.exists()


def test_staff_may_link_for_a_fellow(client_for, staff_a, programme_a, objective):
    resource = _resource(programme_a)
    response = client_for(staff_a).post(
        url(
            "resource_link",
            programme_a,
            resource_uuid=resource.uuid,
            objective_uuid=objective.uuid,
        )
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert ResourceObjective.objects.get().linked_by == staff_a


def test_a_dropped_objective_or_an_unpublished_resource_cannot_be_linked(
    client_for, programme_a, fellow, objective, domains
):
    dropped = _objective(programme_a, fellow, domains[1], "An abandoned idea")
    with scope(programme=programme_a):
        objective_set_status(
            objective=dropped, actor=fellow.user, status=Objective.Status.DROPPED, reason="Moved on"
        )
    resource = _resource(programme_a)
    hidden = _resource(programme_a, is_published=False)
    client = client_for(fellow.user)
    response = client.post(
        url("resource_link", programme_a, resource_uuid=resource.uuid, objective_uuid=dropped.uuid),
        follow=True,
    )
    assert "was dropped" in response.text
    page = client.get(url("resource", programme_a, resource_uuid=resource.uuid))
    assert "An abandoned idea" not in page.text  # only live objectives are offered
    assert (
        client.post(
            url(
                "resource_link",
                programme_a,
                resource_uuid=hidden.uuid,
                objective_uuid=objective.uuid,
            )
        ).status_code
        == 404
    )
    with scope(programme=programme_a), pytest.raises(ValidationError, match="not in the library"):
        resource_link_objective(resource=hidden, objective=objective, actor=fellow.user)
    with scopes_disabled():
        assert not ResourceObjective.objects.exists()


def test_unlinking_what_was_never_linked_changes_nothing(programme_a, fellow, objective):
    resource = _resource(programme_a)
    with scope(programme=programme_a):
        assert not resource_unlink_objective(
            resource=resource, objective=objective, actor=fellow.user
        )
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="resource.unlinked").exists()


def test_a_plan_reads_its_linked_resources_once(client_for, fellow, programme_a, domains):
    objectives = [_objective(programme_a, fellow, domains[0], "First")]
    client = client_for(fellow.user)
    plan_url = reverse("pdp:mine", kwargs={"programme_slug": programme_a.slug})

    def link_all():
        with scope(programme=programme_a):
            for objective in objectives:
                resource_link_objective(
                    resource=_resource(programme_a), objective=objective, actor=fellow.user
                )

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(plan_url).status_code == 200
        return [q["sql"] for q in queries if "events_resourceobjective" in q["sql"]]

    link_all()
    assert len(count()) == 1
    objectives += [_objective(programme_a, fellow, domains[n], f"More {n}") for n in (1, 2)]
    link_all()
    assert len(count()) == 1


def test_the_fellow_without_objectives_is_sent_to_her_plan(client_for, fellow, programme_a):
    resource = _resource(programme_a)
    page = client_for(fellow.user).get(url("resource", programme_a, resource_uuid=resource.uuid))
    assert "Your plan has no objectives to link it to yet." in page.text


def test_a_mentor_reads_a_resource_without_the_plan_card(client_for, mentor_a, programme_a):
    resource = _resource(programme_a, title="For everyone")
    page = client_for(mentor_a).get(url("resource", programme_a, resource_uuid=resource.uuid))
    assert page.status_code == 200 and "For everyone" in page.text
    assert "Link it to your plan" not in page.text


# --- events link resources ------------------------------------------------------------------------


def test_an_events_resources_tag_lists_what_it_links(rf, programme_a, staff_a, fellow_a):
    from django.template import Context, Template

    from cohort.models import Role

    resource = _resource(programme_a, title="Slides of the Pit Stop")
    hidden = _resource(programme_a, title="Draft notes", is_published=False)
    with scopes_disabled():
        event = EventFactory(programme=programme_a)
        for r in (resource, hidden):
            EventResource.objects.create(programme=programme_a, event=event, resource=r)
    template = Template("{% load events_tags %}{% event_resources event %}")
    for user, roles, shown in [
        (fellow_a, {Role.FELLOW}, {"Slides of the Pit Stop"}),
        (staff_a, {Role.STAFF}, {"Slides of the Pit Stop", "Draft notes"}),
    ]:
        request = rf.get("/")
        request.user, request.programme, request.roles = user, programme_a, frozenset(roles)
        with scope(programme=programme_a):
            html = template.render(Context({"request": request, "event": event}))
        assert {t for t in ("Slides of the Pit Stop", "Draft notes") if t in html} == shown


def test_the_resource_page_lists_the_events_that_use_it(client_for, fellow_a, programme_a):
    resource = _resource(programme_a)
    with scopes_disabled():
        shown = EventFactory(programme=programme_a, title="Pit Stop: investment readiness")
        draft = EventFactory(programme=programme_a, title="A draft event", status="draft")
        for event in (shown, draft):
            EventResource.objects.create(programme=programme_a, event=event, resource=resource)
    page = client_for(fellow_a).get(url("resource", programme_a, resource_uuid=resource.uuid))
    assert "Events that use it" in page.text
    assert "Pit Stop: investment readiness" in page.text and "A draft event" not in page.text
