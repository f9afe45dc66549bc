from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

FIXTURES = sorted(str(path) for path in (Path(__file__).parent.parent / "fixtures").glob("*.json"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test sees the curated data; each test's changes are rolled back."""
    with django_db_blocker.unblock():
        call_command("loaddata", *FIXTURES, verbosity=0)


@pytest.fixture
def curator(db):
    user = User.objects.create_user("curator", password="a-long-test-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Curators"))
    return user


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def tenfold_data(db):
    """Nine more copies of every demand, with its citations and parameters, in the same places."""
    from negotiations.models import Demand

    originals = list(Demand.objects.prefetch_related("citations", "parameters", "secondary_topics"))
    for copy_number in range(1, 10):
        for demand in originals:
            citations, parameters = demand.citations.all(), demand.parameters.all()
            secondary = list(demand.secondary_topics.all())
            clone = Demand.objects.get(pk=demand.pk)
            clone.pk = None
            clone.code = f"{demand.code}-x{copy_number}"
            clone.order = demand.order + 100 * copy_number
            clone.save()
            clone.secondary_topics.set(secondary)
            for citation in citations:
                citation.pk = None
                citation.demand = clone
                citation.save()
            for parameter in parameters:
                parameter.pk = None
                parameter.demand = clone
                parameter.save()
    return Demand.objects.count()
