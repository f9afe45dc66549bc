"""A delete in the admin says why, like every other change: on the deleted record's history row,
on everything deleted with it and on every record that loses a link to it, or nothing is deleted.
"""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from negotiations.admin import CuratedAdmin
from negotiations.dataversion import data_version
from negotiations.models import Citation, Demand, Disagreement, Parameter, Relation, Source
from tests.conftest import admin_form_data

pytestmark = pytest.mark.django_db

WHY = "Duplicate of another demand"


def delete_url(obj):
    return reverse(f"admin:negotiations_{obj._meta.model_name}_delete", args=[obj.pk])


def changelist_url(model):
    return reverse(f"admin:negotiations_{model._meta.model_name}_changelist")


def bulk_delete(client, objects, **data):
    """The changelist's "Delete selected" action; with post=yes, its confirmation page's form."""
    model = type(objects[0])
    return client.post(
        changelist_url(model),
        {
            "action": "delete_selected",
            helpers.ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects],
            **data,
        },
    )


def copies_of(code, count):
    """Demands shaped alike (one quote, one number, no links), so each costs the same to delete."""
    original = Demand.objects.get(code=code)
    citation, parameter = original.citations.first(), original.parameters.first()
    copies = []
    for number in range(count):
        copy = Demand.objects.get(pk=original.pk)
        copy.pk, copy.code, copy.order = None, f"{code}-copy{number}", 900 + number
        copy.save()
        for row in (citation, parameter):
            row.pk, row.demand = None, copy
            row.save()
        copies.append(copy)
    return copies


CURATED = [
    model
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, CuratedAdmin)
]


@pytest.mark.parametrize("model", CURATED, ids=lambda m: m._meta.model_name)
def test_every_curated_list_deletes_only_with_a_reason(admin_user, model):
    request = RequestFactory().get(changelist_url(model))
    request.user = admin_user
    actions = admin.site._registry[model].get_actions(request)
    assert actions["delete_selected"].func is CuratedAdmin.delete_selected


def test_the_delete_page_asks_why_with_the_change_forms_limit(curator_client):
    demand = Demand.objects.get(code="RU-I-4")
    html = curator_client.get(delete_url(demand)).content.decode()
    assert "Why are you deleting this?" in html
    assert 'name="change_reason"' in html and 'maxlength="100"' in html and "required" in html
    assert html.index('name="change_reason"') > html.index('<form method="post"')


@pytest.mark.parametrize(
    "data",
    [{}, {"change_reason": "   "}, {"change_reason": "x" * 101}],
    ids=["none", "blank", "long"],
)
def test_without_a_valid_reason_the_page_comes_back_with_an_error_and_nothing_is_deleted(
    curator_client, data
):
    demand = Demand.objects.get(code="RU-III-2")
    citations = list(demand.citations.values_list("pk", flat=True))
    version = data_version()[0]

    response = curator_client.post(delete_url(demand), {"post": "yes", **data})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Please correct the error below." in html
    assert "This field is required." in html or "at most 100 characters" in html
    assert Demand.objects.filter(pk=demand.pk).exists()
    assert Citation.objects.filter(pk__in=citations).count() == len(citations)
    assert not Demand.history.filter(id=demand.pk, history_type="-").exists()
    assert data_version()[0] == version


def test_the_reason_is_on_the_deletion_its_dependants_and_the_links_it_removes(curator_client):
    demand = Demand.objects.get(code="RU-III-2")
    owners = list(Relation.objects.filter(demands=demand)) + list(
        Disagreement.objects.filter(demands=demand)
    )
    assert owners and demand.citations.exists() and demand.parameters.exists()

    response = curator_client.post(delete_url(demand), {"post": "yes", "change_reason": WHY})

    assert response.status_code == 302
    assert not Demand.objects.filter(pk=demand.pk).exists()
    deletion = Demand.history.get(id=demand.pk, history_type="-")
    assert deletion.history_change_reason == WHY
    assert deletion.history_user.username == "curator"
    for model in (Citation, Parameter):
        rows = model.history.filter(demand_id=demand.pk, history_type="-")
        assert {row.history_change_reason for row in rows} == {
            f"Deleted with demand RU-III-2 ({WHY})"
        }
    for owner in owners:
        assert owner.history.first().history_change_reason == (
            f"Link to RU-III-2 removed: RU-III-2 was deleted ({WHY})"
        )
    assert WHY in curator_client.get(reverse("changes")).content.decode()


def test_a_long_reason_still_fits_the_dependants_history(curator_client):
    demand = Demand.objects.get(code="RU-I-4")
    why = "w" * 100
    curator_client.post(delete_url(demand), {"post": "yes", "change_reason": why})
    assert Demand.history.get(id=demand.pk, history_type="-").history_change_reason == why
    dependant = Citation.history.filter(demand_id=demand.pk, history_type="-").first()
    assert dependant.history_change_reason.startswith("Deleted with demand RU-I-4 (www")
    assert len(dependant.history_change_reason) == 100


def test_bulk_delete_asks_why_and_puts_the_reason_on_every_row(curator_client):
    demands = copies_of("AG-8", 2)

    page = bulk_delete(curator_client, demands)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Why are you deleting this?" in html
    assert all(f"{demand.code}:" in html for demand in demands)  # the list of what goes
    response = bulk_delete(curator_client, demands, post="yes", change_reason=WHY)

    assert response.status_code == 302
    assert not Demand.objects.filter(pk__in=[d.pk for d in demands]).exists()
    for demand in demands:
        deletion = Demand.history.get(id=demand.pk, history_type="-")
        assert deletion.history_change_reason == WHY
        assert deletion.history_user.username == "curator"
        for model in (Citation, Parameter):
            row = model.history.get(demand_id=demand.pk, history_type="-")
            assert row.history_change_reason == f"Deleted with demand {demand.code} ({WHY})"


@pytest.mark.parametrize("data", [{}, {"change_reason": ""}], ids=["none", "blank"])
def test_bulk_delete_without_a_reason_deletes_nothing(curator_client, data):
    demands = copies_of("AG-8", 2)
    response = bulk_delete(curator_client, demands, post="yes", **data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert 'name="post"' in html  # the confirmation page again, ready to confirm
    assert Demand.objects.filter(pk__in=[d.pk for d in demands]).count() == 2
    assert not Demand.history.filter(history_type="-").exists()


def test_who_may_not_delete_a_record_cannot_delete_it_with_a_reason(curator_client):
    source = Source.objects.first()
    response = curator_client.post(delete_url(source), {"post": "yes", "change_reason": WHY})
    assert response.status_code == 403
    # Nor in bulk: the action is not offered, and posting it anyway deletes nothing.
    assert "delete_selected" not in curator_client.get(changelist_url(Source)).content.decode()
    bulk_delete(curator_client, [source], post="yes", change_reason=WHY)
    assert Source.objects.filter(pk=source.pk).exists()


def test_who_may_not_delete_the_dependants_cannot_delete_the_record(client, django_user_model):
    user = django_user_model.objects.create_user("partial", password="x-long-pass", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="negotiations",
            codename__in=["view_demand", "change_demand", "delete_demand"],
        )
    )
    client.force_login(user)
    demand = copies_of("AG-8", 1)[0]
    assert client.post(delete_url(demand), {"post": "yes", "change_reason": WHY}).status_code == 403
    response = bulk_delete(client, [demand], post="yes", change_reason=WHY)
    assert response.status_code == 403
    assert Demand.objects.filter(pk=demand.pk).exists()


def queries_to_bulk_delete(client, count):
    demands = copies_of("AG-8", count)
    ContentType.objects.clear_cache()  # the log entry's lookup, cached or not by earlier tests
    with CaptureQueriesContext(connection) as queries:
        response = bulk_delete(client, demands, post="yes", change_reason=WHY)
    assert response.status_code == 302
    assert not Demand.objects.filter(pk__in=[d.pk for d in demands]).exists()
    return len(queries)


def test_bulk_delete_costs_a_fixed_number_of_queries_per_record_it_removes(curator_client):
    one, three = (
        queries_to_bulk_delete(curator_client, 1),
        queries_to_bulk_delete(curator_client, 3),
    )
    # Per demand with one quote and one number, all per row and none of them this feature's:
    # - Django's list of what goes names the quote by its source: 1;
    # - each of the three rows gets its history row and a data version bump: 6;
    # - the demand's history row reloads a deferred column and snapshots its secondary topics: 2.
    # Neither the parent of each dependant nor the links of each demand cost a query per row.
    per_demand = 1 + 6 + 2
    assert three - one == 2 * per_demand
    # Session, user, permissions, filters, the selection, the log entry, the collector's queries
    # (the links between provisions, each way, in Django's list of what goes and in the delete).
    assert one == 38 + per_demand


def test_bulk_delete_of_linked_demands_records_each_link_and_each_comes_back(curator_client):
    demands = [Demand.objects.get(code=code) for code in ("AG-1", "AG-2")]
    owners = {
        demand.code: list(demand.relations.all()) + list(demand.disagreements.all())
        for demand in demands
    }
    assert all(owners.values())
    citations = list(demands[0].citations.values_list("pk", flat=True))

    response = bulk_delete(curator_client, demands, post="yes", change_reason=WHY)

    assert response.status_code == 302
    for code, linked in owners.items():
        removed = f"Link to {code} removed: {code} was deleted ({WHY})"
        for owner in linked:
            assert removed in {row.history_change_reason for row in owner.history.all()}
            assert not owner.demands.filter(code=code).exists()

    # Restoring one of them from its history brings back its own quotes and links only.
    deletion = Demand.history.get(id=demands[0].pk, history_type="-")
    page = curator_client.get(deletion.revert_url())
    response = curator_client.post(
        deletion.revert_url(), admin_form_data(page, change_reason="Deleted by mistake")
    )
    assert response.status_code == 302
    assert sorted(demands[0].citations.values_list("pk", flat=True)) == sorted(citations)
    assert all(owner.demands.filter(code="AG-1").exists() for owner in owners["AG-1"])
    assert not Demand.objects.filter(code="AG-2").exists()


# Every provision keeps at least one quote.


def test_a_provisions_only_quote_cannot_be_deleted(curator_client):
    demand = Demand.objects.annotate(quotes=Count("citations")).filter(quotes=1).first()
    citation = demand.citations.get()
    page = curator_client.get(delete_url(citation)).content.decode()
    assert f"Provision {demand.code}: these are all the quotes backing it." in page
    curator_client.post(delete_url(citation), {"post": "yes", "change_reason": WHY})
    assert Citation.objects.filter(pk=citation.pk).exists()


def test_deleting_all_of_a_provisions_quotes_at_once_is_refused(curator_client):
    demand = Demand.objects.annotate(quotes=Count("citations")).filter(quotes=2).first()
    citations = list(demand.citations.all())
    page = bulk_delete(curator_client, citations, post="yes", change_reason=WHY)
    assert f"Provision {demand.code}: these are all the quotes backing it." in page.content.decode()
    assert demand.citations.count() == 2
    # One of the two may go: the other still backs the provision.
    bulk_delete(curator_client, citations[:1], post="yes", change_reason=WHY)
    assert demand.citations.count() == 1
