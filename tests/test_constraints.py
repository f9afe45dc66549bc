"""The database itself refuses data that would mislead a reader."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from negotiations.models import Citation, Demand, Parameter, Source, Topic

pytestmark = pytest.mark.django_db


def make_source(**fields):
    defaults = {
        "slug": "test-source",
        "title": "A page",
        "publisher": "Test",
        "url": "https://example.org/page",
        "accessed": "2026-11-22",
        "kind": Source.Kind.NEWSPAPER,
    }
    return Source(**(defaults | fields))


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.org/", "file:///etc/passwd"]
)
def test_database_rejects_a_non_http_url(url):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_source(url=url).save()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi"])
def test_form_validation_rejects_a_non_http_url(url):
    with pytest.raises(ValidationError) as error:
        make_source(url=url, archived_url=url).full_clean()
    assert {"url", "archived_url"} <= set(error.value.message_dict)


def test_a_source_without_url_must_say_why():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_source(url="", url_note="").save()
    make_source(url="", url_note="Canonical URL not found.").save()


def test_duplicate_slugs_are_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_source(slug="tass-1967385").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Topic.objects.create(slug="territory", code="T99", name="Other", description="x", order=99)


def test_a_demand_needs_a_summary():
    demand = Demand.objects.get(code="RU-I-4")
    demand.summary = "   "
    with pytest.raises(IntegrityError), transaction.atomic():
        demand.save()


def test_two_demands_cannot_share_a_place_in_the_document():
    demand = Demand.objects.get(code="RU-I-4")
    demand.order = Demand.objects.get(code="RU-I-3").order
    with pytest.raises(IntegrityError), transaction.atomic():
        demand.save()


def test_a_citation_backs_exactly_one_thing():
    source = Source.objects.get(slug="tass-1967385")
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(source=source, quote="text")
    demand = Demand.objects.get(code="RU-I-4")
    relation = demand.relations.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(source=source, demand=demand, relation=relation, quote="text")


def test_a_cited_source_cannot_be_deleted():
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Source.objects.get(slug="tass-1967385").delete()


def test_a_range_parameter_needs_an_upper_end():
    demand = Demand.objects.get(code="RU-I-4")
    with pytest.raises(IntegrityError), transaction.atomic():
        Parameter.objects.create(
            demand=demand, name="x", bound=Parameter.Bound.RANGE, value=3, unit="days"
        )


@pytest.mark.parametrize("code", ["RU I 4", "RU/I/4", "RU-I-4\x00", "РУ-1"])
def test_a_demand_code_must_fit_its_url(code):
    demand = Demand.objects.get(code="RU-I-4")
    demand.code = code
    with pytest.raises(ValidationError) as error:
        demand.full_clean()
    assert "code" in error.value.message_dict
