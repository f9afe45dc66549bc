"""Two curators on the same record: the second, stale save is refused and nothing is lost."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.admin import helpers
from django.db import DatabaseError
from django.db.models.signals import pre_save
from django.urls import reverse
from django.utils import timezone

from negotiations.models import Demand
from tests.conftest import admin_form_data

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).parent.parent


def change_url(demand):
    return reverse("admin:negotiations_demand_change", args=[demand.pk])


def test_second_curator_saving_a_stale_form_sees_a_conflict(curator_client, second_curator_client):
    demand = Demand.objects.get(code="RU-I-6")
    first_page = curator_client.get(change_url(demand))
    second_page = second_curator_client.get(change_url(demand))

    saved = curator_client.post(
        change_url(demand),
        admin_form_data(first_page, summary="The first curator's summary", change_reason="Fix"),
    )
    assert saved.status_code == 302

    stale = second_curator_client.post(
        change_url(demand),
        admin_form_data(second_page, summary="The second curator's summary", change_reason="Mine"),
    )
    html = stale.content.decode()
    assert stale.status_code == 200
    assert "Someone else saved this record by curator" in html
    assert "The second curator&#x27;s summary" in html  # their input is shown back to them
    demand.refresh_from_db()
    assert demand.summary == "The first curator's summary"
    assert not demand.history.filter(history_change_reason="Mine").exists()


def test_a_status_changes_on_the_demands_form_with_its_reason_not_in_the_list(
    curator_client,
):
    # A list edit would save without a reason and without the revision the curator saw.
    demand = Demand.objects.get(code="RU-I-6")
    changelist = reverse("admin:negotiations_demand_changelist")
    assert curator_client.get(changelist, {"q": "RU-I-6"}).context["cl"].formset is None
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(demand.pk),
        "form-0-status": "uncertain",
        "_save": "Save",
    }
    curator_client.post(f"{changelist}?q=RU-I-6", data)
    demand.refresh_from_db()
    assert demand.status != "uncertain"


def test_stale_admin_action_is_refused(curator_client, second_curator_client):
    demand = Demand.objects.get(code="RU-I-6")
    changelist = reverse("admin:negotiations_demand_changelist")
    seen_revision = demand.revision
    edit = admin_form_data(
        curator_client.get(change_url(demand)), summary="Changed meanwhile", change_reason="Edit"
    )
    assert curator_client.post(change_url(demand), edit).status_code == 302

    response = second_curator_client.post(
        changelist,
        {
            "action": "mark_verified_today",
            helpers.ACTION_CHECKBOX_NAME: [f"{demand.pk}:{seen_revision}"],
            "index": "0",
        },
        follow=True,
    )
    assert "changed after this page was loaded; nothing was done" in response.content.decode()
    demand.refresh_from_db()
    assert not demand.history.filter(
        history_change_reason="Quotes checked against their sources"
    ).exists()


def test_fresh_admin_action_runs_and_is_recorded(curator_client):
    demand = Demand.objects.get(code="RU-I-6")
    response = curator_client.post(
        reverse("admin:negotiations_demand_changelist"),
        {
            "action": "mark_verified_today",
            helpers.ACTION_CHECKBOX_NAME: [f"{demand.pk}:{demand.revision}"],
            "index": "0",
        },
    )
    assert response.status_code == 302
    seen_revision = demand.revision
    demand.refresh_from_db()
    assert demand.verified_on == timezone.localdate()
    assert demand.revision == seen_revision + 1
    assert demand.history.first().history_change_reason == "Quotes checked against their sources"


def test_list_rows_start_unselected(curator_client):
    html = curator_client.get(reverse("admin:negotiations_demand_changelist")).content.decode()
    rows = re.findall(r"<input[^>]*action-select[^>]*>", html)
    assert rows and not any("checked" in row for row in rows)


def test_an_admin_action_that_fails_halfway_changes_nothing(curator_client):
    demands = list(Demand.objects.filter(code__in=["RU-I-6", "RU-I-4"]).order_by("pk"))
    saved = []

    def fail_on_the_second(sender, instance, **kwargs):
        saved.append(instance.pk)
        if len(saved) == 2:
            raise DatabaseError("the database went away")

    pre_save.connect(fail_on_the_second, sender=Demand)
    try:
        with pytest.raises(DatabaseError):
            curator_client.post(
                reverse("admin:negotiations_demand_changelist"),
                {
                    "action": "mark_verified_today",
                    helpers.ACTION_CHECKBOX_NAME: [f"{d.pk}:{d.revision}" for d in demands],
                    "index": "0",
                },
            )
    finally:
        pre_save.disconnect(fail_on_the_second, sender=Demand)
    assert len(saved) == 2
    for demand in demands:
        fresh = Demand.objects.get(pk=demand.pk)
        assert (fresh.revision, fresh.verified_on) == (demand.revision, demand.verified_on)
        assert not fresh.history.filter(
            history_change_reason="Quotes checked against their sources"
        ).exists()


def test_a_revert_opened_before_someone_deletes_the_record_restores_nothing(
    curator_client, second_curator_client
):
    demand = Demand.objects.get(code="RU-III-2")
    pk, imported = demand.pk, demand.history.earliest()
    revert_url = reverse("admin:negotiations_demand_simple_history", args=[pk, imported.history_id])
    revert_page = curator_client.get(revert_url)

    delete_url = reverse("admin:negotiations_demand_delete", args=[pk])
    deleted = second_curator_client.post(delete_url, {"post": "yes", "change_reason": "Duplicate"})
    assert deleted.status_code == 302

    refused = curator_client.post(
        revert_url, admin_form_data(revert_page, change_reason="Back to the import")
    )
    assert refused.status_code == 200
    assert "Someone else deleted this record by second-curator" in refused.content.decode()
    assert not Demand.objects.filter(pk=pk).exists()

    # Opened after the delete, the same page restores it.
    reopened = curator_client.get(revert_url)
    restored = curator_client.post(
        revert_url, admin_form_data(reopened, change_reason="Not a duplicate")
    )
    assert restored.status_code == 302
    assert Demand.objects.filter(pk=pk, code="RU-III-2").exists()


def test_a_restore_opened_before_the_record_was_restored_and_deleted_again_restores_nothing(
    curator_client, second_curator_client
):
    demand = Demand.objects.get(code="RU-III-2")
    pk, imported = demand.pk, demand.history.earliest()
    restore_url = reverse(
        "admin:negotiations_demand_simple_history", args=[pk, imported.history_id]
    )
    delete_url = reverse("admin:negotiations_demand_delete", args=[pk])
    assert (
        curator_client.post(delete_url, {"post": "yes", "change_reason": "Dup"}).status_code == 302
    )
    stale_page = curator_client.get(restore_url)

    # Meanwhile the second curator restores it, then deletes it again.
    page = second_curator_client.get(restore_url)
    restore = admin_form_data(page, change_reason="Not a dup")
    assert second_curator_client.post(restore_url, restore).status_code == 302
    deleted = second_curator_client.post(delete_url, {"post": "yes", "change_reason": "A dup"})
    assert deleted.status_code == 302

    refused = curator_client.post(restore_url, admin_form_data(stale_page, change_reason="Mine"))
    assert refused.status_code == 200
    assert "Someone else deleted this record by second-curator" in refused.content.decode()
    assert not Demand.objects.filter(pk=pk).exists()


def test_a_restored_record_takes_a_revision_no_form_opened_before_its_delete_has(
    curator_client,
):
    demand = Demand.objects.get(code="RU-III-2")
    old_form = curator_client.get(change_url(demand))
    delete_url = reverse("admin:negotiations_demand_delete", args=[demand.pk])
    assert (
        curator_client.post(delete_url, {"post": "yes", "change_reason": "Dup"}).status_code == 302
    )
    restore_url = reverse(
        "admin:negotiations_demand_simple_history",
        args=[demand.pk, demand.history.earliest().history_id],
    )
    page = curator_client.get(restore_url)
    restored = curator_client.post(restore_url, admin_form_data(page, change_reason="Not a dup"))
    assert restored.status_code == 302

    stale = curator_client.post(
        change_url(demand), admin_form_data(old_form, summary="From before", change_reason="x")
    )
    assert stale.status_code == 200
    assert "Someone else saved this record" in stale.content.decode()


# Ten curators save one record at the same moment, each in its own thread with its own
# connection to a SQLite file, as the production server's workers would.
SIMULTANEOUS_SAVES = """
import json, threading
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from negotiations.models import Topic
from tests.conftest import admin_form_data, make_curator

setup_test_environment()  # so that a response carries its context, which admin_form_data reads
call_command("migrate", verbosity=0)
topic = Topic.objects.create(slug="t", code="T99", name="A topic", description="x", order=99)
url = reverse("admin:negotiations_topic_change", args=[topic.pk])
clients, pages = [], []
for number in range(10):
    client = Client(raise_request_exception=False)
    client.force_login(make_curator(f"curator-{number}"))
    clients.append(client)
    pages.append(client.get(url))
start, results = threading.Barrier(10), [None] * 10

def save(number):
    data = admin_form_data(pages[number], name=f"Name {number}", change_reason="Mine")
    start.wait()
    response = clients[number].post(url, data)
    if response.status_code == 302:
        results[number] = "saved"
    elif "Someone else saved this record" in response.content.decode():
        results[number] = "stale"
    else:
        results[number] = f"{response.status_code} {response.content[:200]!r}"

threads = [threading.Thread(target=save, args=[number]) for number in range(10)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"results": results, "name": Topic.objects.get(pk=topic.pk).name}))
"""


def test_simultaneous_saves_on_sqlite_wait_their_turn_and_all_but_one_are_stale(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "negotiations.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    run = subprocess.run(
        [sys.executable, "-c", SIMULTANEOUS_SAVES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout.splitlines()[-1])
    # No "database is locked": one save wins, the nine others are told someone else saved.
    assert sorted(outcome["results"]) == ["saved"] + ["stale"] * 9, outcome
    winner = outcome["results"].index("saved")
    assert outcome["name"] == f"Name {winner}"
