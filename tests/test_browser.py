"""The comparison in a real browser: htmx swaps, history, no-JavaScript fallback, keyboard, axe."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/?topic=ceasefire",
    "/demands/AG-6/",
    "/demands/UA-R-1/",
    "/proposals/ru-memorandum/",
    "/proposals/ua-framework/",
    "/topics/humanitarian/",
    "/sources/",
    "/sources/konkors-13508/",
    "/parties/russia/",
    "/rounds/",
    "/search/?q=Orthodox",
    "/compare/?a=ru-position-2025-05-28&b=ru-memorandum",
    "/changes/",
    "/about/",
]


def rows(page: Page):
    return page.locator("table.comparison tbody th[scope=row]").all_inner_texts()


def mark_document(page: Page):
    """A marker that survives an htmx swap but not a full page load."""
    page.evaluate("window.__loadedOnce = true")


def still_same_document(page: Page):
    return page.evaluate("window.__loadedOnce === true")


def test_filter_swaps_results_and_pushes_the_url(site, page: Page):
    page.goto(site.url + "/")
    expect(page.locator("#result-count")).to_contain_text("76 provisions")
    mark_document(page)
    page.get_by_label("Topic").focus()
    page.get_by_label("Topic").select_option("neutrality")
    expect(page).to_have_url(re.compile(r"\?.*topic=neutrality"))
    expect(page.locator("#result-count")).to_contain_text("5 provisions shown for this filter")
    assert rows(page) == ["Neutrality and alliances (NATO, EU)"]
    assert still_same_document(page), "the filter reloaded the page instead of swapping"
    # The live region announces the count; focus stays on the control that changed.
    expect(page.locator("#result-count")).to_have_attribute("aria-live", "polite")
    assert page.evaluate("document.activeElement.id") == "id_topic"


def test_search_as_you_type_narrows_the_grid(site, page: Page):
    page.goto(site.url + "/")
    mark_document(page)
    page.get_by_label("Search").fill("Orthodox")
    expect(page).to_have_url(re.compile(r"q=Orthodox"))
    expect(page.locator("table.comparison")).to_contain_text("Ukrainian Orthodox Church")
    assert rows(page) == ['Language, identity, religion and "denazification"']
    assert still_same_document(page)
    assert page.evaluate("document.activeElement.id") == "id_q"


def test_back_and_forward_restore_each_state(site, page: Page):
    restored = []
    page.on(
        "request",
        lambda request: (
            "hx-history-restore-request" in request.headers and restored.append(request.url)
        ),
    )
    page.goto(site.url + "/")
    page.get_by_label("Topic").select_option("neutrality")
    expect(page).to_have_url(re.compile(r"topic=neutrality"))
    page.get_by_label("Party").select_option("ukraine")
    expect(page).to_have_url(re.compile(r"party=ukraine"))
    expect(page.locator("table.comparison thead")).not_to_contain_text("Russia")
    page.go_back()
    expect(page).to_have_url(re.compile(r"topic=neutrality(?!.*party=ukraine)"))
    expect(page.locator("table.comparison thead")).to_contain_text("Russia")
    # The controls show the URL's filter, so the next change keeps it.
    expect(page.get_by_label("Topic")).to_have_value("neutrality")
    expect(page.get_by_label("Party")).to_have_value("")
    page.go_back()
    expect(page).to_have_url(site.url + "/")
    expect(page.locator("#result-count")).to_contain_text("76 provisions")
    expect(page.get_by_label("Topic")).to_have_value("")
    page.go_forward()
    expect(page.locator("#result-count")).to_contain_text("5 provisions")
    expect(page.get_by_label("Topic")).to_have_value("neutrality")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"topic=neutrality.*party=ukraine"))
    expect(page.get_by_label("Topic")).to_have_value("neutrality")
    expect(page.get_by_label("Party")).to_have_value("ukraine")
    # Each step asked the server for the whole page: htmx keeps no snapshot of the controls.
    assert len(restored) == 4, restored
    page.get_by_label("Kind").select_option(index=1)
    expect(page).to_have_url(re.compile(r"topic=neutrality.*party=ukraine.*kind=\w"))


def test_back_and_forward_restore_the_search_box(site, page: Page):
    page.goto(site.url + "/search/")
    page.get_by_label("Search").fill("Orthodox")
    expect(page).to_have_url(re.compile(r"q=Orthodox"))
    page.get_by_label("Search").fill("satellite")
    expect(page).to_have_url(re.compile(r"q=satellite"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=Orthodox"))
    expect(page.locator("#search-count")).to_contain_text("Orthodox")
    expect(page.get_by_label("Search")).to_have_value("Orthodox")
    page.go_back()
    expect(page).to_have_url(site.url + "/search/")
    expect(page.get_by_label("Search")).to_have_value("")
    page.go_forward()
    expect(page.get_by_label("Search")).to_have_value("Orthodox")
    page.go_forward()
    expect(page.locator("#search-count")).to_contain_text("satellite")
    expect(page.get_by_label("Search")).to_have_value("satellite")


def test_htmx_neither_evaluates_attributes_nor_runs_swapped_scripts(site, page: Page):
    page.goto(site.url + "/")
    config = page.evaluate("[htmx.config.allowEval, htmx.config.allowScriptTags]")
    assert config == [False, False]


def test_a_pushed_url_loaded_directly_renders_the_whole_page(site, page: Page):
    page.goto(site.url + "/?topic=neutrality&party=russia")
    expect(page.locator("h1")).to_have_text("What each side demands, topic by topic")
    expect(page.get_by_label("Topic")).to_have_value("neutrality")
    assert rows(page) == ["Neutrality and alliances (NATO, EU)"]


def test_without_javascript_the_same_filter_gives_the_same_rows(site, page: Page, browser):
    page.goto(site.url + "/")
    page.get_by_label("Topic").select_option("neutrality")
    expect(page.locator("#result-count")).to_contain_text("5 provisions")
    with_js = page.locator("table.comparison").inner_text()

    context = browser.new_context(java_script_enabled=False)
    no_js = context.new_page()
    no_js.goto(site.url + "/")
    no_js.get_by_label("Topic").select_option("neutrality")
    no_js.get_by_role("button", name="Show").click()
    no_js.wait_for_url(re.compile(r"topic=neutrality"))
    assert no_js.locator("table.comparison").inner_text() == with_js
    context.close()


def test_a_bad_filter_shows_a_form_error_through_htmx(site, page: Page):
    page.goto(site.url + "/")
    page.evaluate("""() => {
        const select = document.getElementById('id_topic');
        select.add(new Option('bogus', 'bogus'));
        select.value = 'bogus';
        select.dispatchEvent(new Event('change', {bubbles: true}));
    }""")
    expect(page.locator("#results [role=alert]")).to_contain_text(
        "Some filter values are not valid"
    )


def fail_htmx_requests(page: Page, answer):
    """Every htmx request fails as `answer` makes it; full page loads still work."""

    def handle(route):
        if route.request.headers.get("hx-request"):
            answer(route)
        else:
            route.continue_()

    page.route(re.compile(r"/\?"), handle)


def test_a_failed_filter_says_so_and_marks_the_results_stale(site, page: Page):
    page.goto(site.url + "/")
    fail_htmx_requests(page, lambda route: route.fulfill(status=500, body="Server error"))
    page.get_by_label("Topic").select_option("neutrality")
    expect(page.locator("#result-count")).to_have_text(
        "The page could not be updated (error 500). Reload to try again."
    )
    expect(page.locator("#results")).to_have_class(re.compile(r"\bis-stale\b"))
    # The next update that works clears both.
    page.unroute_all()
    page.get_by_label("Topic").select_option("territory")
    expect(page.locator("#result-count")).to_contain_text("for this filter")
    expect(page.locator("#results")).not_to_have_class(re.compile(r"\bis-stale\b"))


def test_a_filter_without_a_connection_says_so(site, page: Page):
    page.goto(site.url + "/")
    fail_htmx_requests(page, lambda route: route.abort("internetdisconnected"))
    page.get_by_label("Topic").select_option("neutrality")
    expect(page.locator("#result-count")).to_have_text(
        "The page could not be updated (no connection). Reload to try again."
    )
    expect(page.locator("#results")).to_have_class(re.compile(r"\bis-stale\b"))


def test_in_debug_mode_a_failed_filter_keeps_the_page(site, page: Page, settings):
    settings.DEBUG = True  # what `make run` serves
    page.goto(site.url + "/")
    fail_htmx_requests(page, lambda route: route.fulfill(status=500, body="<style>b{}</style>"))
    page.get_by_label("Topic").select_option("neutrality")
    expect(page.locator("#result-count")).to_contain_text("could not be updated (error 500)")
    expect(page.locator("h1")).to_have_text("What each side demands, topic by topic")


def test_a_failed_back_says_so(site, page: Page):
    page.goto(site.url + "/?topic=neutrality")
    page.get_by_label("Party").select_option("ukraine")
    expect(page).to_have_url(re.compile(r"party=ukraine"))
    fail_htmx_requests(page, lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.go_back()
    expect(page.locator("#result-count")).to_have_text(
        "The page could not be updated (error 502). Reload to try again."
    )
    expect(page.locator("#main")).to_have_class(re.compile(r"\bis-stale\b"))


def test_citation_marker_leads_to_the_source_page(site, page: Page):
    page.goto(site.url + "/?topic=nuclear")
    marker = page.locator("a.cite").first
    name = marker.get_attribute("title").split(":")[0]
    marker.click()
    expect(page).to_have_url(re.compile(r"/sources/[\w-]+/#citation-\d+$"))
    expect(page.locator("dl.facts")).to_contain_text(name)
    expect(page.locator("li:target blockquote")).to_be_in_viewport()  # the quote itself


def test_keyboard_alone_reaches_every_control(site, page: Page):
    page.goto(site.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    wanted = {"id_topic", "id_party", "id_proposal", "id_kind", "id_relation", "id_q"}
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"))
        if page.evaluate("document.activeElement.textContent") == "Show":
            reached.add("submit")
    assert wanted | {"submit"} <= reached
    # The keyboard alone can filter: choose a topic and submit with Enter.
    page.get_by_label("Topic").focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("button", name="Show").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"topic=territory"))


def test_focus_is_visible(site, page: Page):
    page.goto(site.url + "/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_violations(site, page: Page, path, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(site.url + path)
    results = Axe().run(
        page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
    )
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_after_an_htmx_swap(site, page: Page, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(site.url + "/")
    page.get_by_label("Search").fill("ceasefire")
    expect(page).to_have_url(re.compile(r"q=ceasefire"))
    expect(page.locator("#result-count")).to_contain_text("for this filter")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_no_console_errors_and_no_request_to_another_host(site, page: Page):
    errors, hosts = [], set()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    # Chromium reports a blocked inline style or script as an event, whatever the console says.
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', event =>"
        " window.__violations.push(event.violatedDirective + ' ' + event.blockedURI));"
    )
    page.goto(site.url + "/")
    expect(page.locator("#result-count")).to_contain_text("76 provisions")
    assert page.evaluate("window.__violations") == []
    page.get_by_label("Topic").select_option("territory")
    expect(page.locator("#result-count")).to_contain_text("for this filter")
    page.go_back()
    expect(page.get_by_label("Topic")).to_have_value("")
    assert page.evaluate("window.__violations") == []
    assert errors == []
    assert hosts == {site.url.split("/")[2]}


def test_a_curator_deletes_a_demand_saying_why(site, page: Page, django_user_model):
    from negotiations.models import Demand

    django_user_model.objects.create_superuser("chief", password="a-long-test-password")
    demand = Demand.objects.get(code="AG-8")
    page.goto(site.url + "/admin/login/")
    page.get_by_label("Username").fill("chief")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{site.url}/admin/negotiations/demand/{demand.pk}/delete/")
    why = page.get_by_label("Why are you deleting this?")
    confirm = page.locator("#content form input[type=submit]")

    why.fill("   ")  # the browser lets blanks through; the server must not
    confirm.click()
    expect(page.locator(".errornote")).to_contain_text("Please correct the error below.")
    expect(page.locator(".errorlist")).to_contain_text("This field is required.")
    assert Demand.objects.filter(pk=demand.pk).exists()

    page.get_by_label("Why are you deleting this?").fill("Entered twice")
    confirm.click()
    expect(page).to_have_url(re.compile(r"/admin/negotiations/demand/$"))
    expect(page.locator(".messagelist")).to_contain_text("was deleted successfully")
    assert Demand.history.get(id=demand.pk, history_type="-").history_change_reason == (
        "Entered twice"
    )
