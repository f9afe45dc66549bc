"""Citations survive link rot: a check finds dead addresses, and pages send readers to the copy.

The checks run against a real HTTP server on 127.0.0.1, started here, and a port nothing
listens on.
"""

import io
import re
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from negotiations.changelog import recent_changes
from negotiations.curated import FIXTURE_FILES
from negotiations.dataversion import bump_data_version, data_version
from negotiations.management.commands.check_links import USER_AGENT, Command, check
from negotiations.models import Citation, Demand, LinkStatus, Source
from tests.conftest import admin_form_data

pytestmark = [pytest.mark.links, pytest.mark.django_db]

FIXTURES = Path(__file__).parent.parent / "fixtures"
SLOW = 1.5  # seconds the slow path takes; the checks here give up after TIMEOUT
TIMEOUT = 0.5
HOURS_13 = timedelta(hours=13)  # more than the 12 a dead finding waits to be confirmed
# Sources cited by a demand and with a known address.
SOURCE = "kyiv-independent-russia-passes-peace-memorandum"


class Pages(BaseHTTPRequestHandler):
    """Each path answers one way a server out there does."""

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        self.answer(head=False)

    def answer(self, head):
        self.server.seen.append((self.command, self.path, self.headers["User-Agent"]))
        code, headers = {
            "/ok": (200, {}),
            "/missing": (404, {}),
            "/gone": (410, {}),
            "/forbidden": (403, {}),
            "/no-head": (405 if head else 200, {}),
            "/head-forbidden": (403 if head else 200, {}),
            "/moved": (301, {"Location": "/ok"}),
            "/moved-away": (302, {"Location": "/missing"}),
            "/slow": (200, {}),
        }.get(self.path, (404, {}))
        if self.path == "/slow":
            time.sleep(SLOW)
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "2")
        self.end_headers()
        if not head:
            self.wfile.write(b"ok")

    def log_message(self, *args):
        pass  # keep the test output clean


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def base(server):
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_source(slug, **options):
    call_command("check_links", slug=slug, timeout=TIMEOUT, stdout=None, **options)


def point(slug, url, archived_url=""):
    """Give a source these addresses, unchecked, without recording a revision."""
    Source.objects.filter(slug=slug).update(
        url=url,
        archived_url=archived_url,
        link_status=LinkStatus.UNCHECKED,
        archive_status=LinkStatus.UNCHECKED,
    )


def mark_dead(slug, archived_url="https://web.archive.org/web/2025/example"):
    """A source whose original no longer answers and which has a copy."""
    Source.objects.filter(slug=slug).update(
        archived_url=archived_url,
        link_status=LinkStatus.DEAD,
        link_detail="HTTP 404",
        link_checked="2026-12-03T06:00:00Z",
        archive_status=LinkStatus.OK,
    )
    return Source.objects.get(slug=slug)


# The check


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/ok", LinkStatus.OK, "HTTP 200"),
        ("/missing", LinkStatus.DEAD, "HTTP 404"),
        ("/gone", LinkStatus.DEAD, "HTTP 410"),
        ("/forbidden", LinkStatus.REFUSED, "HTTP 403"),
        ("/no-head", LinkStatus.OK, "HTTP 200"),
        ("/head-forbidden", LinkStatus.OK, "HTTP 200"),
        ("/moved", LinkStatus.OK, "HTTP 200"),
        ("/moved-away", LinkStatus.DEAD, "HTTP 404"),
        ("/slow", LinkStatus.REFUSED, "timed out"),
    ],
)
def test_each_kind_of_answer_gets_its_status(base, path, status, detail):
    assert check(base + path, timeout=TIMEOUT) == (status, detail)


def test_nothing_listening_is_a_dead_link(unused_port):
    found = check(f"http://127.0.0.1:{unused_port}/page", timeout=TIMEOUT)
    assert found == (LinkStatus.DEAD, "connection refused")


def test_head_comes_first_and_get_only_when_head_is_refused(server, base):
    server.seen.clear()
    check(base + "/ok", timeout=TIMEOUT)
    check(base + "/no-head", timeout=TIMEOUT)
    assert [(method, path) for method, path, _ in server.seen] == [
        ("HEAD", "/ok"),
        ("HEAD", "/no-head"),
        ("GET", "/no-head"),
    ]
    assert {agent for _, _, agent in server.seen} == {USER_AGENT}
    assert "negotiations" in USER_AGENT


# The command


def test_the_command_records_the_address_and_the_copy(base):
    point(SOURCE, base + "/ok", base + "/forbidden")
    check_source(SOURCE)
    source = Source.objects.get(slug=SOURCE)
    assert (source.link_status, source.link_detail) == (LinkStatus.OK, "HTTP 200")
    assert (source.archive_status, source.archive_detail) == (LinkStatus.REFUSED, "HTTP 403")
    assert source.link_checked is not None and source.archive_checked is not None


def test_a_dead_link_is_failing_until_a_check_hours_later_agrees(base, capsys):
    point(SOURCE, base + "/missing")
    check_source(SOURCE)  # no error yet: the site may be down for an hour
    source = Source.objects.get(slug=SOURCE)
    assert (source.link_status, source.link_detail) == (LinkStatus.FAILING, "HTTP 404")
    revisions = source.history.count()

    call_command("check_links", slug=SOURCE, timeout=TIMEOUT)  # again, straight away
    assert "1 found dead once (to confirm), 0 dead" in capsys.readouterr().out
    assert Source.objects.get(slug=SOURCE).link_status == LinkStatus.FAILING
    assert source.history.count() == revisions

    Source.objects.filter(slug=SOURCE).update(link_checked=source.link_checked - HOURS_13)
    with pytest.raises(CommandError, match=r"1 dead link: .*/missing"):
        check_source(SOURCE)
    source = Source.objects.get(slug=SOURCE)
    assert source.link_status == LinkStatus.DEAD
    assert source.history.latest("history_id").history_change_reason == "Link check"


def test_a_failing_link_that_answers_again_is_ok(base):
    point(SOURCE, base + "/missing")
    check_source(SOURCE)
    point(SOURCE, base + "/ok")
    Source.objects.filter(slug=SOURCE).update(link_status=LinkStatus.FAILING)
    check_source(SOURCE)
    assert Source.objects.get(slug=SOURCE).link_status == LinkStatus.OK


def test_a_failing_link_found_refused_later_starts_over(base):
    point(SOURCE, base + "/forbidden")
    Source.objects.filter(slug=SOURCE).update(
        link_status=LinkStatus.FAILING, link_checked="2026-01-01T00:00:00Z"
    )
    check_source(SOURCE)
    assert Source.objects.get(slug=SOURCE).link_status == LinkStatus.REFUSED


def test_confirm_after_zero_makes_a_dead_link_dead_at_once(base):
    point(SOURCE, base + "/gone")
    with pytest.raises(CommandError, match=r"1 dead link: .*/gone"):
        check_source(SOURCE, confirm_after=0)
    assert Source.objects.get(slug=SOURCE).link_status == LinkStatus.DEAD


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_confirm_after_must_be_a_number_of_hours(hours):
    with pytest.raises(CommandError, match="0 or more hours"):
        check_source(SOURCE, confirm_after=hours)


def test_a_changed_status_is_one_revision_with_the_reason_link_check(base):
    point(SOURCE, base + "/ok")
    source = Source.objects.get(slug=SOURCE)
    revisions, version = source.history.count(), data_version()[0]
    check_source(SOURCE)
    assert source.history.count() == revisions + 1
    latest = source.history.latest("history_id")
    assert latest.history_change_reason == "Link check"
    assert latest.link_status == LinkStatus.OK
    assert data_version()[0] > version
    # A history id is unique within one model's history only.
    [change] = [
        c
        for c in recent_changes()
        if c["record"].instance_type is Source and c["record"].history_id == latest.history_id
    ]
    assert change["description"].endswith(
        "link status: unchecked → ok; link detail: empty → HTTP 200."
    )


def test_an_unchanged_run_records_nothing_and_leaves_the_data_version(base):
    point(SOURCE, base + "/ok", base + "/no-head")
    check_source(SOURCE)
    source = Source.objects.get(slug=SOURCE)
    revisions, version = source.history.count(), data_version()

    check_source(SOURCE)
    assert source.history.count() == revisions
    assert data_version() == version
    assert Source.objects.get(slug=SOURCE).revision == source.revision


def test_slug_checks_that_source_only(base):
    point(SOURCE, base + "/ok")
    other = Source.objects.exclude(slug=SOURCE).exclude(url="").first()
    point(other.slug, base + "/ok")
    check_source(SOURCE)
    assert Source.objects.get(slug=SOURCE).link_status == LinkStatus.OK
    assert Source.objects.get(pk=other.pk).link_status == LinkStatus.UNCHECKED


def test_without_slug_every_address_is_checked_and_summed_up(base, capsys):
    Source.objects.exclude(url="").update(url=base + "/ok")
    Source.objects.exclude(archived_url="").update(archived_url=base + "/gone")
    with_url = Source.objects.exclude(url="").count()
    copies = Source.objects.exclude(archived_url="").count()

    with pytest.raises(CommandError, match=f"{copies} dead links"):
        call_command("check_links", timeout=TIMEOUT, workers=4, confirm_after=0)
    assert set(Source.objects.exclude(url="").values_list("link_status", flat=True)) == {"ok"}
    assert set(Source.objects.filter(url="").values_list("link_status", flat=True)) == {"unchecked"}
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.startswith(f"{with_url + copies} links checked: {with_url} ok, ")


def test_an_address_with_non_ascii_letters_is_checked_as_sent_on_the_wire(base):
    # The model accepts such addresses (IRIs); HTTP needs them percent-encoded.
    assert check(base + "/статья", timeout=TIMEOUT) == (LinkStatus.DEAD, "HTTP 404")
    assert check("http://пример.invalid:1/", timeout=TIMEOUT)[0] in LinkStatus.values


def test_a_machine_where_nothing_answers_records_nothing(unused_port):
    Source.objects.exclude(url="").update(url=f"http://127.0.0.1:{unused_port}/page")
    Source.objects.exclude(archived_url="").update(archived_url="", copy_publisher="")
    revisions = Source.history.count()
    with pytest.raises(CommandError, match="is this machine offline"):
        call_command("check_links", timeout=TIMEOUT, workers=4, stdout=None)
    assert Source.history.count() == revisions
    assert set(Source.objects.values_list("link_status", flat=True)) == {"unchecked"}


def test_a_curators_edit_while_the_check_runs_is_kept(base, curator_client):
    point(SOURCE, base + "/gone")
    source = Source.objects.get(slug=SOURCE)
    found = {(source.pk, "url"): (source.url, *check(source.url, timeout=TIMEOUT))}
    # Meanwhile, a curator edits the source.
    url = reverse("admin:negotiations_source_change", args=[source.pk])
    data = admin_form_data(curator_client.get(url), title="Retitled", change_reason="Title")
    assert curator_client.post(url, data).status_code == 302
    edited = Source.objects.get(pk=source.pk)

    assert Command(stdout=io.StringIO()).record(source.pk, found)
    saved = Source.objects.get(pk=source.pk)
    assert (saved.title, saved.link_status) == ("Retitled", LinkStatus.FAILING)
    assert saved.revision == edited.revision  # machine findings are no curated change
    latest = saved.history.latest("history_id")
    assert (latest.history_change_reason, latest.title) == ("Link check", "Retitled")


def test_an_unknown_slug_is_an_error():
    with pytest.raises(CommandError, match="No source"):
        check_source("no-such-source")


# Curated data stays curated


def test_a_curators_save_keeps_the_findings(curator_client):
    source = mark_dead(SOURCE)
    url = reverse("admin:negotiations_source_change", args=[source.pk])
    page = curator_client.get(url)
    assert "HTTP 404" in page.content.decode()  # shown, read-only
    data = admin_form_data(page, title="A corrected title", change_reason="Typo")
    assert curator_client.post(url, data).status_code == 302
    source.refresh_from_db()
    assert source.title == "A corrected title"
    assert (source.link_status, source.link_detail) == (LinkStatus.DEAD, "HTTP 404")


def test_a_form_opened_before_a_check_saves_without_a_conflict(curator_client, base):
    point(SOURCE, base + "/ok")
    source = Source.objects.get(slug=SOURCE)
    url = reverse("admin:negotiations_source_change", args=[source.pk])
    page = curator_client.get(url)  # a curator opens the source...
    check_source(SOURCE)  # ...the daily check records a finding meanwhile...
    checked = Source.objects.get(pk=source.pk)
    assert checked.link_status == LinkStatus.OK
    assert (checked.revision, checked.updated_at) == (source.revision, source.updated_at)

    data = admin_form_data(page, title="A corrected title", change_reason="Typo")
    assert curator_client.post(url, data).status_code == 302  # ...and saves: no conflict
    saved = Source.objects.get(pk=source.pk)
    assert (saved.title, saved.link_status) == ("A corrected title", LinkStatus.OK)


def test_a_stale_form_names_the_curator_who_saved_not_the_link_check(
    curator_client, second_curator_client, base
):
    point(SOURCE, base + "/ok")
    source = Source.objects.get(slug=SOURCE)
    url = reverse("admin:negotiations_source_change", args=[source.pk])
    first, second = curator_client.get(url), second_curator_client.get(url)
    data = admin_form_data(first, title="The first curator's title", change_reason="Fix")
    assert curator_client.post(url, data).status_code == 302
    check_source(SOURCE)  # a finding saved after the curator's save
    data = admin_form_data(second, title="Mine", change_reason="Mine")
    html = second_curator_client.post(url, data).content.decode()
    assert "Someone else saved this record by curator at" in html


def test_a_new_address_is_unchecked_again(curator_client):
    source = mark_dead(SOURCE)
    url = reverse("admin:negotiations_source_change", args=[source.pk])
    page = curator_client.get(url)
    data = admin_form_data(page, url="https://example.org/moved-here", change_reason="Moved")
    assert curator_client.post(url, data).status_code == 302
    source.refresh_from_db()
    assert (source.link_status, source.link_checked) == (LinkStatus.UNCHECKED, None)
    assert source.archive_status == LinkStatus.OK  # the copy's address did not change


def test_a_revert_to_an_old_revision_keeps_the_latest_findings(curator_client):
    source = Source.objects.get(slug=SOURCE)
    first = source.history.latest("history_id")
    url = reverse("admin:negotiations_source_change", args=[source.pk])
    data = admin_form_data(curator_client.get(url), title="A typo", change_reason="Typo")
    assert curator_client.post(url, data).status_code == 302
    mark_dead(SOURCE, archived_url=source.archived_url)  # found since

    revert = reverse("admin:negotiations_source_simple_history", args=[source.pk, first.history_id])
    data = admin_form_data(curator_client.get(revert), change_reason="Undo the typo")
    assert curator_client.post(revert, data).status_code == 302
    source.refresh_from_db()
    assert source.title == first.title
    assert (source.link_status, source.link_detail) == (LinkStatus.DEAD, "HTTP 404")


def test_findings_stay_out_of_the_fixtures(tmp_path):
    mark_dead(SOURCE, archived_url=Source.objects.get(slug=SOURCE).archived_url)
    call_command("export_fixtures", dir=str(tmp_path), stdout=None)
    for name, _ in FIXTURE_FILES:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name


def test_an_import_keeps_the_findings():
    source = mark_dead(SOURCE, archived_url=Source.objects.get(slug=SOURCE).archived_url)
    Source.objects.filter(slug=SOURCE).update(title="Edited since the export")
    call_command("import_fixtures", stdout=None)
    source.refresh_from_db()
    assert source.title != "Edited since the export"
    assert (source.link_status, source.link_detail) == (LinkStatus.DEAD, "HTTP 404")


def test_admin_lists_and_filters_sources_by_link_status(curator_client):
    mark_dead(SOURCE)
    changelist = reverse("admin:negotiations_source_changelist")
    html = curator_client.get(changelist, {"link_status__exact": "dead"}).content.decode()
    assert "1 source" in html
    assert Source.objects.get(slug=SOURCE).title in html
    assert "By link status" in html


# What readers see


def test_source_page_says_the_original_is_dead_and_offers_the_copy_first(client):
    source = mark_dead(SOURCE)
    html = client.get(source.get_absolute_url()).content.decode()
    assert "The original page no longer answers (found dead on 3 December 2026)." in html
    assert html.index(source.archived_url) < html.index(source.url)


def test_citation_says_the_original_is_dead_and_offers_the_copy_first(client):
    source = mark_dead(SOURCE)
    demand = Citation.objects.filter(source=source, demand__isnull=False).first().demand
    html = client.get(demand.get_absolute_url()).content.decode()
    notice = html.index("The original page no longer answers (found dead on 3 December 2026).")
    copy = html.index(f'href="{source.archived_url}"', notice)
    assert copy < html.index(f'href="{source.url}"', notice)


def test_a_dead_copy_is_said_to_be_dead_too(client):
    source = mark_dead(SOURCE)
    Source.objects.filter(pk=source.pk).update(
        archive_status=LinkStatus.DEAD, archive_checked="2026-12-02T06:00:00Z"
    )
    html = client.get(source.get_absolute_url()).content.decode()
    assert "The copy no longer answers (found dead on 2 December 2026)." in html
    demand = Citation.objects.filter(source=source, demand__isnull=False).first().demand
    html = client.get(demand.get_absolute_url()).content.decode()
    assert "Neither the original page nor its copy answers any more" in html
    # With the original alive, the copy's line says so on its own.
    Source.objects.filter(pk=source.pk).update(link_status=LinkStatus.OK)
    bump_data_version()  # as a check's save would: the cached page is out of date
    html = client.get(demand.get_absolute_url()).content.decode()
    assert "copy of the page</a> (no longer answers)" in html
    assert "Neither the original" not in html


def test_marker_points_to_the_copy_when_the_original_is_dead(client):
    source = mark_dead(SOURCE)
    demand = Demand.objects.filter(citations__source=source).select_related("topic").first()
    html = client.get(demand.topic.get_absolute_url()).content.decode()
    marker = re.search(rf'<li><a href="/sources/{SOURCE}/">.*?</li>', html).group()
    assert f'href="{source.archived_url}"' in marker
    assert f'href="{source.url}"' not in marker
    assert ">copy at web.archive.org</a>" in marker  # never given as the publisher's address


@pytest.mark.parametrize("status", [LinkStatus.REFUSED, LinkStatus.FAILING])
def test_refused_and_unconfirmed_links_show_nothing_special(client, status):
    Source.objects.filter(slug=SOURCE).update(
        link_status=status, link_checked="2026-12-03T06:00:00Z"
    )
    source = Source.objects.get(slug=SOURCE)
    assert "no longer answers" not in client.get(source.get_absolute_url()).content.decode()
    cited = Citation.objects.filter(source=source, demand__isnull=False).first().demand
    assert "no longer answers" not in client.get(cited.get_absolute_url()).content.decode()
    assert "link dead" not in client.get(reverse("sources")).content.decode()


def test_sources_list_marks_dead_links_without_a_query_per_source(client):
    with CaptureQueriesContext(connection) as none_dead:
        html = client.get(reverse("sources")).content.decode()
    assert "link dead" not in html
    Source.objects.update(link_status=LinkStatus.DEAD, link_checked="2026-12-03T06:00:00Z")
    bump_data_version()  # as the check's saves would: the cached page is out of date
    with CaptureQueriesContext(connection) as all_dead:
        html = client.get(reverse("sources")).content.decode()
    assert html.count('<span class="status status--link-dead">link dead</span>') == (
        Source.objects.count()
    )
    assert len(all_dead) == len(none_dead)


def test_a_check_that_finds_a_dead_link_updates_the_cached_page(client, base):
    point(SOURCE, base + "/ok")
    check_source(SOURCE)
    page = Source.objects.get(slug=SOURCE).get_absolute_url()
    assert "no longer answers" not in client.get(page).content.decode()
    point(SOURCE, base + "/gone")
    Source.objects.filter(slug=SOURCE).update(link_status=LinkStatus.OK)
    with pytest.raises(CommandError):
        check_source(SOURCE, confirm_after=0)
    assert "no longer answers" in client.get(page).content.decode()


def test_the_sources_download_and_the_api_carry_the_findings(client):
    mark_dead(SOURCE)
    rows = client.get(reverse("sources"), {"format": "csv"}).content.decode().splitlines()
    header, *lines = rows
    assert "link_status,link_checked,archive_status,archive_checked," in header
    line = next(line for line in lines if line.startswith(SOURCE + ","))
    assert ",dead,2026-12-03T06:00:00+00:00,ok,," in line
    listed = client.get("/api/sources", {"limit": 100}).json()
    found = next(source for source in listed["items"] if source["slug"] == SOURCE)
    assert (found["link_status"], found["archive_status"]) == ("dead", "ok")
    assert found["link_checked"].startswith("2026-12-03T06:00:00")
    one = client.get(f"/api/sources/{SOURCE}").json()
    assert one["link_status"] == "dead" and one["archive_checked"] is None
