"""The comparison in a real browser: htmx swaps, history, no-JavaScript fallback, keyboard, axe."""

import re
from urllib.parse import parse_qs, quote, urlsplit

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
    "/topics/ceasefire/?party=russia",
    "/sources/",
    "/sources/konkors-13508/",
    "/parties/russia/",
    "/rounds/",
    "/search/?q=Orthodox",
    "/compare/?a=ru-position-2025-05-28&b=ru-memorandum",
    "/changes/",
    "/about/",
    "/overview/",
    "/?topic=neutrality&reasoning=on",
]


def rows(page: Page):
    return page.locator("table.comparison tbody th[scope=row]").all_inner_texts()


def mark_document(page: Page):
    """A marker that survives an htmx swap but not a full page load."""
    page.evaluate("window.__loadedOnce = true")


def provisions(topic=None):
    """How many provisions the comparison holds, in all or on one topic, as its count says."""
    from negotiations.models import Demand, Topic

    if topic is None:
        return Demand.objects.count()
    return Demand.objects.on_topic(Topic.objects.get(slug=topic)).count()


def second_of_pages():
    """The title of the ceasefire topic's second page, four provisions a page."""
    return re.compile(rf"^Page 2 of {-(-provisions('ceasefire') // 4)} · Ceasefire")


def still_same_document(page: Page):
    return page.evaluate("window.__loadedOnce === true")


def test_filter_swaps_results_and_pushes_the_url(site, page: Page):
    page.goto(site.url + "/")
    expect(page.locator("#result-count")).to_contain_text(f"{provisions()} provisions")
    mark_document(page)
    page.get_by_label("Topic").focus()
    page.get_by_label("Topic").select_option("neutrality")
    expect(page).to_have_url(re.compile(r"\?.*topic=neutrality"))
    expect(page.locator("#result-count")).to_contain_text(
        f"{provisions('neutrality')} provisions shown for this filter"
    )
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
    assert rows(page) == ["Language, identity, religion and glorification of Nazism"]
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
    expect(page.locator("#result-count")).to_contain_text(f"{provisions()} provisions")
    expect(page.get_by_label("Topic")).to_have_value("")
    page.go_forward()
    expect(page.locator("#result-count")).to_contain_text(f"{provisions('neutrality')} provisions")
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
    # Enter ends the typing stretch, so the next query is a view of its own, not a correction.
    page.get_by_label("Search").press("Enter")
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


# The two pages whose query box updates the results while one types, and their live count.
TYPING_PAGES = [("/", "#result-count"), ("/search/", "#search-count")]


def record_history_updates(page: Page):
    """Each history update htmx makes from now on, "push" or "replace", in window.__updates."""
    page.evaluate(
        "window.__updates = [];"
        "for (const type of ['push', 'replace']) {"
        " const name = type === 'push' ? 'htmx:pushedIntoHistory' : 'htmx:replacedInHistory';"
        " document.addEventListener(name, () => window.__updates.push(type)); }"
    )


def type_with_pauses(page: Page, *pieces):
    """Type piece by piece, each time waiting for the live update the pause brings."""
    typed = ""
    for piece in pieces:
        typed += piece
        page.locator("#id_q").press_sequentially(piece)
        expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote(typed)) + "(&|$)"))
    return typed


def url_query(page: Page):
    return parse_qs(urlsplit(page.url).query).get("q", [""])[0]


@pytest.mark.parametrize(("path", "count"), TYPING_PAGES)
def test_typing_with_pauses_makes_one_history_entry(site, page: Page, path, count):
    page.goto(site.url + path)
    before = page.locator(count).inner_text()
    length = page.evaluate("history.length")
    mark_document(page)
    typed = type_with_pauses(page, "cease", "fire", " monit", "oring")
    assert typed == "ceasefire monitoring"
    assert still_same_document(page)
    # One entry for the whole stretch, and the address bar says what the box and results show.
    assert page.evaluate("history.length") == length + 1
    assert url_query(page) == page.locator("#id_q").input_value() == typed
    expect(page).to_have_title(re.compile("“ceasefire monitoring”"))
    expect(page.locator(count)).not_to_have_text(before)
    # Back returns to the view before typing began, not to a half-typed query.
    page.go_back()
    expect(page).to_have_url(site.url + path)
    expect(page.locator(count)).to_have_text(before)
    expect(page.locator("#id_q")).to_have_value("")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"q=ceasefire%20monitoring(&|$)"))
    expect(page.locator("#id_q")).to_have_value(typed)


def test_a_filter_change_after_typing_is_a_new_entry(site, page: Page):
    page.goto(site.url + "/")
    page.get_by_label("Topic").select_option("humanitarian")
    expect(page).to_have_url(re.compile(r"topic=humanitarian"))
    type_with_pauses(page, "pris", "oners")
    page.get_by_label("Party").select_option("ukraine")
    expect(page).to_have_url(re.compile(r"party=ukraine.*q=prisoners"))
    expect(page.locator("table.comparison thead")).not_to_contain_text("Russia")
    page.go_back()
    expect(page).to_have_url(re.compile(r"topic=humanitarian&(round=&)?party=&.*q=prisoners(&|$)"))
    expect(page.locator("table.comparison thead")).to_contain_text("Russia")
    expect(page.get_by_label("Party")).to_have_value("")
    expect(page.locator("#id_q")).to_have_value("prisoners")
    page.go_back()
    expect(page).to_have_url(re.compile(r"topic=humanitarian(?!.*q=\w)"))
    expect(page.locator("#id_q")).to_have_value("")
    expect(page.get_by_label("Topic")).to_have_value("humanitarian")


@pytest.mark.parametrize(("path", "count"), TYPING_PAGES)
def test_submitting_the_same_query_again_adds_no_entry(site, page: Page, path, count):
    page.goto(site.url + path)
    type_with_pauses(page, "Orthodox")
    length = page.evaluate("history.length")
    record_history_updates(page)
    mark_document(page)
    page.locator("#id_q").press("Enter")
    page.wait_for_function("() => window.__updates.length === 1")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_function("() => window.__updates.length === 2")
    assert page.evaluate("window.__updates") == ["replace", "replace"]
    assert page.evaluate("history.length") == length
    assert still_same_document(page), "the submit reloaded the page instead of swapping"
    # A new query submitted is a new view: it pushes.
    page.locator("#id_q").fill("satellite")
    page.locator("#id_q").press("Enter")
    page.wait_for_function("() => window.__updates.length >= 3")
    assert page.evaluate("window.__updates[2]") == "push"
    expect(page.locator(count)).to_contain_text("1 provision")
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=Orthodox(&|$)"))
    page.go_back()
    expect(page).to_have_url(site.url + path)


def test_a_slow_earlier_response_never_replaces_a_newer_one(site, page: Page):
    held = []
    page.route(lambda url: url.endswith("?q=Ortho"), lambda route: held.append(route))
    page.goto(site.url + "/search/")
    with page.expect_request(lambda request: request.url.endswith("?q=Ortho")):
        page.locator("#id_q").press_sequentially("Ortho")
    # The request for "Ortho" hangs; the newer one is sent at once and aborts it.
    with page.expect_event("requestfailed", lambda request: request.url.endswith("?q=Ortho")):
        page.locator("#id_q").press_sequentially("dox")
    expect(page.locator("#search-count")).to_contain_text("“Orthodox”")
    expect(page).to_have_url(re.compile(r"q=Orthodox$"))
    held[0].fulfill(status=200, body="<title>Stale</title><p>stale results</p>")
    page.locator("#id_q").press("Enter")
    expect(page.locator("#search-count")).to_contain_text("“Orthodox”")
    expect(page.locator("#search-results")).not_to_contain_text("stale results")


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
    expect(page.locator("#result-count")).to_contain_text(f"{provisions('neutrality')} provisions")
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


def test_fixing_a_bad_filter_clears_its_error_from_the_form(site, page: Page):
    page.goto(site.url + "/?topic=nope")  # a stale or mistyped shared link: a 400 page
    expect(page.locator("form.filters .field--error #id_topic_error")).to_be_visible()
    expect(page.get_by_label("Topic")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Topic").select_option("neutrality")
    expect(page.locator("#result-count")).to_contain_text(
        f"{provisions('neutrality')} provisions shown for this filter"
    )
    # htmx swapped only the results; the form's error is out of date and goes too.
    expect(page.locator("form.filters .error, form.filters .field--error")).to_have_count(0)
    expect(page.get_by_label("Topic")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Topic")).not_to_have_attribute("aria-describedby", re.compile("."))


def test_fixing_a_bad_party_on_a_topic_page_clears_its_error(site, page: Page):
    page.goto(site.url + "/topics/humanitarian/?party=nobody")
    expect(page.locator("form.filters .field--error")).to_have_count(1)
    page.get_by_label("Party").select_option("ukraine")
    expect(page.locator("#topic-count")).to_contain_text("from Ukraine")
    expect(page.locator("form.filters .field--error")).to_have_count(0)


def test_back_and_forward_raise_no_script_error(site, page: Page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path, control, value in (
        ("/", "Topic", "neutrality"),
        ("/topics/humanitarian/", "Party", "ukraine"),
    ):
        page.goto(site.url + path)
        page.get_by_label(control).select_option(value)
        expect(page).to_have_url(re.compile(rf"={value}"))
        page.go_back()
        expect(page.get_by_label(control)).to_have_value("")
        page.go_forward()
        expect(page.get_by_label(control)).to_have_value(value)
    assert errors == []


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


def test_citation_marker_leads_to_the_quote_with_its_publisher_date_and_address(site, page: Page):
    page.goto(site.url + "/?topic=nuclear")
    sources = page.locator("details.sources").first
    sources.locator("summary").click()
    entry = sources.locator(".source-list li").first
    credit = entry.locator("a").first.inner_text()
    entry.get_by_role("link", name="quote 1").click()
    expect(page).to_have_url(re.compile(r"/sources/[\w-]+/#citation-\d+$"))
    expect(page.locator("li:target blockquote")).to_be_in_viewport()  # the quote itself
    origin = page.locator("li:target .quote-source")
    expect(origin).to_be_in_viewport()  # with who published it, when, and where to read it
    expect(origin).to_contain_text(credit)
    expect(origin).to_contain_text("2025")


def test_a_cards_source_markers_are_one_tab_stop(site, page: Page):
    page.goto(site.url + "/?topic=ceasefire")
    page.locator(".demand-summary a").first.focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('details.sources') !== null")
    assert focused  # the card's sources, as one stop
    page.keyboard.press("Tab")  # past every marker of that card at once
    assert page.evaluate("document.activeElement.closest('.demand-summary') !== null")


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


def record_policy_violations(page: Page):
    """What the Content-Security-Policy blocks from now on, in window.__violations: Chromium
    reports a blocked inline style or script as an event, whatever the console says."""
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', event =>"
        " window.__violations.push(event.violatedDirective + ' ' + event.blockedURI));"
    )


def test_no_console_errors_and_no_request_to_another_host(site, page: Page):
    errors, hosts = [], set()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    record_policy_violations(page)
    page.goto(site.url + "/")
    expect(page.locator("#result-count")).to_contain_text(f"{provisions()} provisions")
    assert page.evaluate("window.__violations") == []
    page.get_by_label("Topic").select_option("territory")
    expect(page.locator("#result-count")).to_contain_text("for this filter")
    page.go_back()
    expect(page.get_by_label("Topic")).to_have_value("")
    assert page.evaluate("window.__violations") == []
    assert errors == []
    assert hosts == {site.url.split("/")[2]}


def test_topic_pages_are_links_without_javascript_and_swaps_with_htmx(
    site, page: Page, browser, monkeypatch
):
    from negotiations import views

    monkeypatch.setattr(views, "TOPIC_PAGE_SIZE", 4)  # the ceasefire provisions, four a page
    summaries = "#topic-provisions .demand-summary"

    context = browser.new_context(java_script_enabled=False)
    no_js = context.new_page()
    no_js.goto(site.url + "/topics/ceasefire/")
    no_js.get_by_role("link", name="Next page").click()
    no_js.wait_for_url(re.compile(r"\?page=2$"))
    expect(no_js).to_have_title(second_of_pages())
    without_js = no_js.locator(summaries).all_inner_texts()
    assert len(without_js) == 4
    context.close()

    page.goto(site.url + "/topics/ceasefire/")
    first = page.locator(summaries).all_inner_texts()
    mark_document(page)
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(page).to_have_title(second_of_pages())
    expect(page.locator("#topic-count")).to_contain_text(
        f"Provisions 5–8 of {provisions('ceasefire')}"
    )
    assert still_same_document(page), "the page link reloaded the page instead of swapping"
    assert page.locator(summaries).all_inner_texts() == without_js
    # The link that was followed is gone: focus moves to where the new page starts.
    assert page.evaluate("document.activeElement.id") == "topic-count"
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    page.go_back()
    expect(page).to_have_url(site.url + "/topics/ceasefire/")
    expect(page.locator("#topic-count")).to_contain_text(
        f"Provisions 1–4 of {provisions('ceasefire')}"
    )
    assert page.locator(summaries).all_inner_texts() == first
    page.go_forward()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(page.locator("#topic-count")).to_contain_text(
        f"Provisions 5–8 of {provisions('ceasefire')}"
    )

    page.get_by_label("Party").select_option("ukraine")
    expect(page).to_have_url(re.compile(r"\?party=ukraine$"))
    expect(page.locator("#topic-provisions h2")).to_have_text(["Ukraine"])


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


def test_the_admin_history_breaks_no_policy_and_names_the_import(
    site, page: Page, django_user_model
):
    from negotiations.models import Demand

    django_user_model.objects.create_superuser("curator", password="a-long-test-password")
    demand = Demand.objects.get(code="AG-8")
    demand.save()  # saved by no user, as the import and commands save
    page.goto(site.url + "/admin/login/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools")).to_contain_text("curator")
    record_policy_violations(page)
    page.goto(f"{site.url}/admin/negotiations/demand/{demand.pk}/history/")
    imported = page.locator("#change-history tbody tr").last
    expect(imported.locator("td").nth(3)).to_have_text("import")
    revisions = Demand.history.filter(id=demand.pk).count()
    expect(page.locator("#change-history tbody tr")).to_have_count(revisions)
    expect(page.locator(".paginator")).to_have_text(re.compile(rf"^\s*{revisions} entr(y|ies)\s*$"))
    assert page.evaluate("window.__violations") == []
    # Chromium asks for /favicon.ico (a 404 in the log) unless the page names its icon.
    expect(page.locator("head link[rel=icon]")).to_have_count(1)


NEUTRALITY_PAIR = "Neutrality outside any alliance, against no obligation to be neutral."


def test_the_reasoning_control_swaps_in_every_pairs_reasoning(site, page: Page):
    page.goto(site.url + "/?topic=neutrality")
    expect(page.locator("table.comparison")).not_to_contain_text(NEUTRALITY_PAIR)
    mark_document(page)
    page.get_by_label("Show the reasoning for every pair").check()
    expect(page).to_have_url(re.compile(r"topic=neutrality.*reasoning=on"))
    expect(page.locator("table.comparison")).to_contain_text(NEUTRALITY_PAIR)
    assert still_same_document(page), "the control reloaded the page instead of swapping"
    # The URL reopens it; unticking hides it again.
    page.reload()
    expect(page.locator("table.comparison")).to_contain_text(NEUTRALITY_PAIR)
    expect(page.get_by_label("Show the reasoning for every pair")).to_be_checked()
    page.get_by_label("Show the reasoning for every pair").uncheck()
    expect(page.locator("table.comparison")).not_to_contain_text(NEUTRALITY_PAIR)
    assert "reasoning" not in page.url


def test_without_javascript_the_reasoning_control_is_a_link_and_a_form(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url + "/?topic=neutrality")
    page.get_by_role("link", name="Show the reasoning for every pair").click()
    expect(page).to_have_url(re.compile(r"topic=neutrality&reasoning=on"))
    expect(page.locator("table.comparison")).to_contain_text(NEUTRALITY_PAIR)
    page.get_by_role("link", name="Hide the reasoning for each pair").click()
    expect(page.locator("table.comparison")).not_to_contain_text(NEUTRALITY_PAIR)
    page.get_by_label("Show the reasoning for every pair").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"reasoning=on"))
    expect(page.locator("table.comparison")).to_contain_text(NEUTRALITY_PAIR)
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_the_overview_fits_two_screens_and_opens_each_topic(site, browser, javascript):
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    page.goto(site.url + "/overview/")
    bottom = page.evaluate(
        "document.querySelector('table.overview').getBoundingClientRect().bottom + scrollY"
    )
    assert bottom <= 2 * 900
    page.get_by_role(
        "link", name="Political order: martial law, elections, governing bodies", exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"/topics/political-order/$"))
    context.close()
