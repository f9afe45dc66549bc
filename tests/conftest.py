import copy
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; the ORM would refuse to run there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The flags keep Chromium from reaching out to the network it does not need.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI") == "true"

FIXTURES = sorted(str(path) for path in (Path(__file__).parent.parent / "fixtures").glob("*.json"))


DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):
    """Every test sees the curated data, with its history; each test's changes are rolled back."""
    if not any(
        item.get_closest_marker("django_db") or DB_FIXTURES & set(item.fixturenames)
        for item in request.session.items
    ):
        return  # no test database was set up (`-m production` alone): never fill the real one
    with django_db_blocker.unblock():
        call_command("import_fixtures", verbosity=0)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test's data changes are rolled back, so its cached pages must not outlive it."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def curator(db):
    return make_curator("curator")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def tenfold_data(db):
    """Nine more copies of every demand, with its citations, parameters and secondary topics,
    in the same places. Written in bulk, with history, as generate_synthetic writes: a second,
    not the ten that saving some 2,000 rows one by one took."""
    from negotiations.changelog import bulk_create, bulk_link
    from negotiations.dataversion import bump_data_version
    from negotiations.models import Citation, Demand, Parameter

    originals = list(Demand.objects.prefetch_related("citations", "parameters", "secondary_topics"))
    reason = "Ten times the data for a test"
    clones = [
        (demand, copy_row(demand, code=f"{demand.code}-x{n}", order=demand.order + 100 * n))
        for n in range(1, 10)
        for demand in originals
    ]
    bulk_create(Demand, [clone for _, clone in clones], reason=reason)
    codes = [clone.code for _, clone in clones]
    ids = dict(Demand.objects.filter(code__in=codes).values_list("code", "pk"))
    citations, parameters, links = [], [], []
    for demand, clone in clones:
        clone.pk = ids[clone.code]
        citations += [copy_row(citation, demand_id=clone.pk) for citation in demand.citations.all()]
        parameters += [copy_row(p, demand_id=clone.pk) for p in demand.parameters.all()]
        links += [(clone, topic.pk) for topic in demand.secondary_topics.all()]
    bulk_create(Citation, citations, reason=reason)
    bulk_create(Parameter, parameters, reason=reason)
    bulk_link(Demand._meta.get_field("secondary_topics"), links)
    bump_data_version()  # as a save would: no page cached before stays valid
    return Demand.objects.count()


def copy_row(obj, **changes):
    """An unsaved copy of a row, with some values changed."""
    clone = copy.copy(obj)
    clone.pk = clone.id = None
    clone._state = copy.copy(obj._state)
    clone._state.adding = True
    for name, value in changes.items():
        setattr(clone, name, value)
    return clone


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's Chromium: skip them loudly where it is missing, never in CI."""
    if Path(CHROMIUM).exists() or IN_CI:
        return
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM}: browser tests skipped "
        "(install Debian's chromium package to run them)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session", autouse=True)
def one_request_at_a_time_on_in_memory_sqlite(django_db_setup):
    """The live server shares the test's in-memory SQLite connection across its threads, and two
    requests at once on one SQLite connection fail ("bad parameter or other API misuse"). A
    browser does send two at once (a submit while a live update is running), so on SQLite the
    test server takes one request at a time. A real server has a connection per thread."""
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    class OneAtATime(WSGIServer):
        # Serving in its own thread, which already uses the shared connection.
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        LiveServerThread.server_class = OneAtATime


@pytest.fixture
def site(live_server, transactional_db):
    """The live server with the curated data (transactional tests start from an empty database)."""
    call_command("loaddata", *FIXTURES, verbosity=0)
    return live_server


@pytest.fixture(scope="session")
def java():
    path = shutil.which("java")
    if path is None:
        if IN_CI:
            pytest.fail("java is needed for the HTML checker; .ci/run installs it")
        pytest.skip("java not found: HTML validation skipped (install a Java runtime)")
    return path


def make_curator(username):
    user = User.objects.create_user(username, password="a-long-test-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Curators"))
    return user


@pytest.fixture
def second_curator_client(db):
    from django.test import Client

    client = Client()
    client.force_login(make_curator("second-curator"))
    return client


class _FormFields(HTMLParser):
    """What a browser submits from the admin's main form: its inputs, selects and textareas
    as rendered, so a field the page never shows is never posted."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.data = form_id, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self.data.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in attrs, "options": []}
        elif tag == "option" and self.select is not None:
            self.select["options"].append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_data(self, text):
        if self.textarea is not None:
            self.textarea[1] += text

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.select["options"] if selected]
            if not chosen and not self.select["multiple"] and self.select["options"]:
                chosen = [self.select["options"][0][0]]  # a browser sends the first option
            self.data += [(self.select["name"], value) for value in chosen]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self.data.append((name, text.removeprefix("\n")))  # as browsers do
            self.textarea = None


def admin_form_data(response, **changes):
    """The data a browser would post back from an admin add or change page, with some values
    changed: built from the HTML, so a field the page leaves out is missing here too."""
    opts = response.context["opts"]
    parser = _FormFields(f"{opts.model_name}_form")
    parser.feed(response.content.decode())
    data = {}
    for name, value in parser.data:
        if name in data:
            data[name] = [*(data[name] if isinstance(data[name], list) else [data[name]]), value]
        else:
            data[name] = value
    data.update(changes)
    return data
