"""Curators keep the data right in the admin; nobody else gets in."""

import pytest
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse

from negotiations.models import Citation, Demand, Option, Parameter, Source, Topic
from tests.conftest import admin_form_data

pytestmark = pytest.mark.django_db

MODELS = [model for model in admin.site._registry if model._meta.app_label == "negotiations"]


def admin_url(model, view, *args):
    return reverse(f"admin:negotiations_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_curator_sees_changelist_add_and_change_pages(curator_client, model):
    assert curator_client.get(admin_url(model, "changelist")).status_code == 200
    assert curator_client.get(admin_url(model, "changelist"), {"q": "Russia"}).status_code == 200
    assert curator_client.get(admin_url(model, "add")).status_code == 200
    obj = model.objects.first()
    assert curator_client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_anonymous_users_are_sent_to_login(client, model):
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_curator_cannot_delete_a_source(curator_client):
    source = Source.objects.first()
    assert curator_client.get(admin_url(Source, "delete", source.pk)).status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()


def test_demand_form_shows_its_citations_inline(curator_client):
    demand = Demand.objects.get(code="RU-I-11")
    response = curator_client.get(admin_url(Demand, "change", demand.pk))
    for citation in demand.citations.all():
        assert citation.quote in response.content.decode()


def test_a_curator_adds_a_demand_with_its_quote_from_the_add_page(curator_client):
    # Posted as the browser would: only what the rendered page holds, filled in.
    like = Demand.objects.get(code="RU-I-4")
    page = curator_client.get(admin_url(Demand, "add"))
    data = admin_form_data(
        page,
        code="RU-TEST-2",
        summary="A test provision",
        paraphrase="A test provision, in our words.",
        kind=like.kind,
        section=like.section_id,
        order=99,
        topic=like.topic_id,
        change_reason="New provision",
        **{
            "citations-0-source": like.citations.first().source_id,
            "citations-0-quote": like.citations.first().quote,
            "citations-0-order": 1,
        },
    )
    assert curator_client.post(admin_url(Demand, "add"), data).status_code == 302
    added = Demand.objects.get(code="RU-TEST-2")
    assert added.revision == 1 and added.citations.count() == 1


def test_a_curator_adds_a_topic_from_the_add_page(curator_client):
    data = admin_form_data(
        curator_client.get(admin_url(Topic, "add")),
        name="A test topic",
        slug="a-test-topic",
        code="T99",
        description="What a test topic holds.",
        order=99,
        change_reason="New topic",
    )
    assert curator_client.post(admin_url(Topic, "add"), data).status_code == 302
    assert Topic.objects.get(slug="a-test-topic").revision == 1


def test_a_range_without_an_upper_end_is_a_form_error_in_words(curator_client):
    parameter = Parameter.objects.first()
    url = admin_url(Parameter, "change", parameter.pk)
    data = admin_form_data(curator_client.get(url), bound="range", value_max="", change_reason="x")
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert "A range (between) needs an upper end above its lower end" in response.content.decode()
    assert Parameter.objects.get(pk=parameter.pk).bound == parameter.bound


def test_an_over_long_quote_is_a_form_error_in_words(curator_client):
    citation = Citation.objects.first()
    url = admin_url(Citation, "change", citation.pk)
    data = admin_form_data(curator_client.get(url), quote="word " * 130, change_reason="x")
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert "A quote is at most 600 characters" in response.content.decode()


def test_every_inline_row_carries_the_revision_it_was_opened_at():
    # Without it, every save of the row would be refused as stale. An inline that lists no
    # fields shows them all, the revision (hidden) among them.
    for model_admin in admin.site._registry.values():
        for inline in model_admin.inlines:
            assert not inline.fields or "revision" in inline.fields, inline.__name__


def test_a_demand_cannot_be_saved_without_a_citation(curator_client):
    count = Demand.objects.count()
    response = curator_client.post(
        admin_url(Demand, "add"),
        {
            "code": "RU-TEST-1",
            "summary": "A test",
            "paraphrase": "A test",
            "kind": Demand.Kind.SETTLEMENT_TERM,
            "section": Demand.objects.get(code="RU-I-4").section_id,
            "order": 99,
            "topic": Demand.objects.get(code="RU-I-4").topic_id,
            "status": Demand.Status.CONFIRMED,
            "citations-TOTAL_FORMS": "0",
            "citations-INITIAL_FORMS": "0",
            "parameters-TOTAL_FORMS": "0",
            "parameters-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Please submit at least 1 form." in response.content.decode()
    assert Demand.objects.count() == count


def test_staff_without_permissions_sees_no_content(client, django_user_model):
    user = django_user_model.objects.create_user("staff", password="x-long-password", is_staff=True)
    client.force_login(user)
    assert client.get(admin_url(Demand, "changelist")).status_code == 403


def test_a_provisions_only_quote_cannot_be_moved_to_another(curator_client):
    demand = Demand.objects.annotate(quotes=Count("citations")).filter(quotes=1).first()
    citation = demand.citations.get()
    other = Demand.objects.exclude(pk=demand.pk).first()
    url = admin_url(Citation, "change", citation.pk)
    data = admin_form_data(curator_client.get(url), demand=other.pk, change_reason="Move")
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert "This is the only quote backing its provision" in response.content.decode()
    assert Citation.objects.get(pk=citation.pk).demand == demand


def test_a_provisions_option_must_be_one_of_its_sections(curator_client):
    demand = Demand.objects.filter(option__isnull=True).first()
    elsewhere = Option.objects.exclude(section=demand.section).first()
    url = admin_url(Demand, "change", demand.pk)
    data = admin_form_data(curator_client.get(url), option=elsewhere.pk, change_reason="Option")
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert "This option belongs to another section" in response.content.decode()
    assert Demand.objects.get(pk=demand.pk).option is None


@pytest.mark.parametrize(
    "path",
    [
        "/admin/negotiations/demand/abc/history/",
        "/admin/negotiations/demand/{pk}/history/abc/",
        "/admin/negotiations/demand/abc/history/1/",
    ],
)
def test_a_history_address_with_no_id_in_it_is_a_404(curator_client, path):
    pk = Demand.objects.get(code="RU-I-4").pk
    assert curator_client.get(path.format(pk=pk)).status_code == 404


@pytest.mark.parametrize(
    "tampered",
    [{"topic": "abc"}, {"secondary_topics": "abc"}, {"citations-0-source": "abc"}],
    ids=["foreign-key", "many-to-many", "inline-row"],
)
def test_a_post_with_no_id_where_a_record_is_chosen_is_a_form_error(curator_client, tampered):
    demand = Demand.objects.get(code="RU-I-4")
    url = admin_url(Demand, "change", demand.pk)
    data = admin_form_data(curator_client.get(url), change_reason="x", **tampered)
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert Demand.objects.get(pk=demand.pk).revision == demand.revision


@pytest.mark.parametrize(
    ("model", "changes", "message"),
    [
        (Source, {"published": "2099-05-01"}, "A publication date cannot be in the future."),
        (Source, {"accessed": "2099-05-01"}, "The day we read the page cannot be in the future."),
        (
            Source,
            {"published": "2025-06-02", "accessed": "2025-06-01"},
            "The page cannot have been read before it was published",
        ),
        (Source, {"language": "klingon123"}, "Use a two-letter ISO 639-1 code"),
        (Demand, {"verified_on": "2099-01-01"}, "A verification date cannot be in the future."),
    ],
    ids=["published-later", "read-later", "read-before-published", "language", "verified-later"],
)
def test_an_impossible_date_or_language_is_a_form_error(curator_client, model, changes, message):
    record = (Source.objects.exclude(published=None) if model is Source else Demand.objects).first()
    url = admin_url(model, "change", record.pk)
    data = admin_form_data(curator_client.get(url), change_reason="x", **changes)
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert model.objects.get(pk=record.pk).revision == record.revision


@pytest.mark.parametrize("model", [Topic, Demand], ids=["topic", "demand"])
def test_an_order_postgresql_cannot_store_is_a_form_error_on_every_database(curator_client, model):
    record = model.objects.first()
    url = admin_url(model, "change", record.pk)
    data = admin_form_data(curator_client.get(url), order="40000", change_reason="x")
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["order"] == [
        "Ensure this value is less than or equal to 32767."
    ]
    assert model.objects.get(pk=record.pk).revision == record.revision


def edit_citation(client, citation, **changes):
    url = admin_url(Citation, "change", citation.pk)
    response = client.post(url, admin_form_data(client.get(url), change_reason="x", **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    citation.refresh_from_db()
    return citation


def test_a_changed_quote_is_verified_only_when_the_curator_says_they_checked_it(curator_client):
    citation = Citation.objects.filter(quote_verified=True, demand__isnull=False).first()
    quote = citation.quote

    assert edit_citation(curator_client, citation, locator="para. 3").quote_verified
    assert not edit_citation(curator_client, citation, quote=quote[:-1]).quote_verified
    demand_page = curator_client.get(citation.demand.get_absolute_url()).content.decode()
    assert "quote not re-verified" in demand_page
    assert edit_citation(curator_client, citation, quote=quote, checked="yes").quote_verified
    assert not edit_citation(curator_client, citation, checked="no").quote_verified
    assert edit_citation(curator_client, citation, checked="yes").quote_verified
    other = Source.objects.exclude(pk=citation.source_id).first()
    assert not edit_citation(curator_client, citation, source=other.pk).quote_verified


@pytest.mark.parametrize(("ticked", "verified"), [({}, False), ({"checked": "yes"}, True)])
def test_a_quote_added_on_a_provisions_form_is_verified_only_if_ticked(
    curator_client, ticked, verified
):
    demand = Demand.objects.get(code="RU-I-4")
    url = admin_url(Demand, "change", demand.pk)
    page = curator_client.get(url)
    rows = int(admin_form_data(page)["citations-TOTAL_FORMS"])
    source = Source.objects.first()
    new_row = {
        f"citations-{rows}-source": source.pk,
        f"citations-{rows}-quote": "A further quote.",
        f"citations-{rows}-order": 9,
        **{f"citations-{rows}-{name}": value for name, value in ticked.items()},
    }
    data = admin_form_data(page, change_reason="x", **new_row)
    data["citations-TOTAL_FORMS"] = str(rows + 1)
    assert curator_client.post(url, data).status_code == 302
    assert demand.citations.get(quote="A further quote.").quote_verified is verified
