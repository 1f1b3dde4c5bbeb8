"""Every model of the project belongs to a programme and refuses queries outside a scope.

Generated from the app registry: a new model in any of the project's apps fails here until it
has a `programme` foreign key and `objects = ScopedManager(programme="programme")`, or is
added, with a reason, to the short list of models that belong to no programme (DESIGN §4).
"""

import pytest
from django.db import models
from django_scopes import ScopeError, scope, scopes_disabled

from cohort.models import Programme

from .support import PROJECT_APPS, local_app_labels, programme_fk, project_models

pytestmark = pytest.mark.django_db

# Models that belong to no programme, and why.
NOT_TENANT_OWNED = {
    "accounts.User": "a person may belong to several programmes; roles live in Membership",
    "cohort.Programme": "the tenant itself",
}

MODELS = project_models()
TENANT_OWNED = [m for m in MODELS if m._meta.label not in NOT_TENANT_OWNED]
# An id no programme has: the scope only has to be active, the query is never run.
SOME_PROGRAMME_ID = 987654


def label(model) -> str:
    return model._meta.label


def test_the_project_apps_are_the_ones_in_this_repository():
    # So that a new app is not silently left out of PROJECT_APPS (and of this suite).
    assert local_app_labels() == set(PROJECT_APPS)


def test_the_allowlist_names_real_models():
    assert set(NOT_TENANT_OWNED) <= {label(m) for m in MODELS}


def test_there_are_tenant_owned_models_to_check():
    # Guards the generator: an empty list would make every test below pass vacuously.
    assert {"cohort.Membership", "cohort.Fellow", "cohort.AuditEvent"} <= {
        label(m) for m in TENANT_OWNED
    }


@pytest.mark.parametrize("model", TENANT_OWNED, ids=label)
def test_model_has_a_programme_foreign_key(model):
    field = programme_fk(model)
    assert field is not None, (
        f"{label(model)} has no ForeignKey named 'programme' to cohort.Programme. Every "
        "tenant-owned model carries one (DESIGN §4); if this model truly belongs to no "
        "programme, add it with the reason to NOT_TENANT_OWNED in "
        "tests/isolation/test_scoped_managers.py."
    )
    assert isinstance(field, models.ForeignKey) and field.related_model is Programme
    assert not field.null, f"{label(model)}.programme is nullable: a row must have a programme."


@pytest.mark.parametrize("model", TENANT_OWNED, ids=label)
def test_model_manager_refuses_queries_outside_a_scope(model):
    manager = model.objects
    assert hasattr(manager, "with_scopes_disabled"), (
        f"{label(model)}.objects is a {type(manager).__qualname__}, not a django-scopes "
        'ScopedManager: declare objects = ScopedManager(programme="programme").'
    )
    for attempt in (
        lambda: list(manager.all()),
        lambda: list(manager.filter(pk__gt=0)),
        lambda: manager.count(),
        lambda: manager.first(),
        lambda: manager.get(pk=1),
        # django-scopes alone lets these through; cohort.scoping closes them.
        lambda: manager.exists(),
        lambda: list(manager.exclude(pk=0)),
        lambda: list(manager.distinct()),
        lambda: list(manager.select_related()),
    ):
        with pytest.raises(ScopeError):
            attempt()


@pytest.mark.parametrize("model", TENANT_OWNED, ids=label)
def test_model_manager_filters_on_its_programme_inside_a_scope(model):
    # The scope's "programme" dimension must map to the model's own programme column, not to
    # some other path: the SQL must be exactly "this model where programme = the scope's".
    with scope(programme=SOME_PROGRAMME_ID):
        scoped = str(model.objects.all().query)
    expected = str(model._base_manager.filter(programme=SOME_PROGRAMME_ID).query)
    assert scoped == expected


@pytest.mark.parametrize("model", TENANT_OWNED, ids=label)
def test_model_has_no_unscoped_manager(model):
    # The default manager is what related managers (programme.fellows), the admin and
    # get_object_or_404(Model, ...) use; a second plain manager would be a way around.
    unscoped = [m.name for m in model._meta.managers if not hasattr(m, "with_scopes_disabled")]
    assert not unscoped, f"{label(model)} has managers that ignore the scope: {unscoped}"
    assert model._default_manager.name == "objects"


@pytest.mark.parametrize("model", TENANT_OWNED, ids=label)
def test_model_manager_works_with_scopes_disabled(model):
    # The escape hatch used by middleware and tasks still reaches the table.
    with scopes_disabled():
        assert model.objects.all().count() >= 0
