"""The widget on web pages in a real browser (headless Debian Chromium) against the local stack.

Host pages come from a small web server on 127.0.0.1 (another origin than the stack's, added to the survey's
allowed_origins), so the widget runs cross-origin as on a customer's site, next to the page's own CSS: a
deliberately hostile stylesheet in most tests. What the widget draws sits in an open shadow root, which
Playwright's CSS locators pierce."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from e2e.browser import browser_page, chromium, screenshot
from playwright.sync_api import expect

QUESTION = "How likely are you to recommend Acme Cloud to a friend or colleague?"
# The hostile global CSS, plus rules that would shrink, hide or recolour a widget living in the page.
HOSTILE_CSS = """
* {font-size: 28px !important; color: #fff}
button {background: #eee; width: 100%}
html {font-size: 40px; background: #333}
section, div, p {margin: 30px !important; padding: 0 !important; display: block}
"""
HOST_CSS = """
body {font: 17px/1.6 Georgia, serif; background: #fdf6e3; margin: 0; padding: 1rem}
h1 {font-size: 2rem; color: #073642; letter-spacing: .02em}
.buy {background: #b58900; color: #002b36; border-radius: 3px; padding: .4rem 1rem}
"""
VIEWPORTS = {320: 568, 390: 844, 1280: 800}
DAY_MS = 86_400_000


class HostSite:
    """Pages registered by the tests, served on 127.0.0.1 from a free port."""

    def __init__(self):
        self.pages: dict[str, tuple[str, dict]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                page, headers = site.pages.get(urlsplit(self.path).path, (None, {}))
                body = (page or "").encode()
                self.send_response(200 if page is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, html: str, headers: dict | None = None) -> str:
        path = f"/shop-{secrets.token_hex(4)}.html"
        self.pages[path] = (html, headers or {})
        return self.origin + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def site():
    running = HostSite()
    yield running
    running.close()


def new_survey(stack, name: str, origins: list[str], **fields) -> str:
    body = {"name": name, "question": QUESTION, "allowed_origins": origins, **fields}
    answer = stack.post("/v1/surveys", body)
    assert answer.status == 201, answer.text
    return answer.json["survey_id"]


def stored(stack, survey_id: str) -> list[dict]:
    answer = stack.get(f"/v1/responses?survey_id={survey_id}")
    assert answer.status == 200, answer.text
    return answer.json["responses"]


def snippet(stack, survey_id: str, attrs: str = "", question: str | None = QUESTION) -> str:
    asked = f'data-question="{question}"' if question else ""
    return f'<script src="{stack.base_url}/widget.js" data-survey="{survey_id}" {asked} async {attrs}></script>'


def host_page(
    stack,
    survey_id: str,
    *,
    hostile: bool = True,
    widget: bool = True,
    attrs: str = "",
    lang: str = "en",
    question: str | None = QUESTION,
) -> str:
    script = snippet(stack, survey_id, attrs, question) if widget else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>Acme shop</title>'
        f"<style>{HOST_CSS}</style>" + (f"<style>{HOSTILE_CSS}</style>" if hostile else "") + "</head><body>"
        '<h1 id="title">Acme Cloud</h1><p id="copy">Plans for teams of every size.</p>'
        '<button id="buy" class="buy" type="button">Buy now</button>'
        '<section id="promo"><div id="inner">Spring offer</div></section>'
        f"{script}</body></html>"
    )


# WCAG 2.x contrast of every element inside the widget that shows text, from computed styles: the text colour
# over the backgrounds behind it (composited up through the shadow host and the page).
CONTRASTS_JS = """
host => {
  const parse = c => {
    const n = c.match(/[\\d.]+/g).map(Number);
    return {r: n[0], g: n[1], b: n[2], a: n.length > 3 ? n[3] : 1};
  };
  const over = (top, bottom) => ({r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
  const lum = c => [c.r, c.g, c.b].map(v => { v /= 255; return v <= 0.04045 ? v / 12.92
    : Math.pow((v + 0.055) / 1.055, 2.4); }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const parentOf = e => e.parentElement || (e.getRootNode() && e.getRootNode().host) || null;
  const backdrop = e => {
    const layers = [];
    for (let n = e; n; n = parentOf(n)) {
      const bg = parse(getComputedStyle(n).backgroundColor);
      if (bg.a > 0) layers.push(bg);
      if (bg.a === 1) break;
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), {r: 255, g: 255, b: 255, a: 1});
  };
  const out = [];
  for (const e of host.shadowRoot.querySelectorAll('*')) {
    const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!own || !e.checkVisibility()) continue;
    const bg = backdrop(e), fg = over(parse(getComputedStyle(e).color), bg);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({text: own, ratio: (l1 + 0.05) / (l2 + 0.05), color: getComputedStyle(e).color,
              background: getComputedStyle(e).backgroundColor});
  }
  return out;
}
"""


def assert_readable(page, expected_texts: set[str]) -> None:
    contrasts = page.locator("nps-widget").evaluate(CONTRASTS_JS)
    low = [c for c in contrasts if c["ratio"] < 4.5]
    assert not low, low
    assert expected_texts <= {c["text"] for c in contrasts}, contrasts


def box_of(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def assert_inside(inner: dict, outer: dict, what: str) -> None:
    assert inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5, (what, inner, outer)
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5, (what, inner, outer)
    assert inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5, (what, inner, outer)


def assert_on_top(page, locator, what: str) -> None:
    """The element is what a tap at its centre hits: shown, not covered, not clipped away."""
    hit = locator.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return e.getRootNode().elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === e; }"
    )
    assert hit, what


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_on_a_hostile_page_the_widget_is_readable_with_one_row_of_equal_scores(stack, browser, site, width):
    survey_id = new_survey(stack, f"E2E widget: hostile page {width}", [site.origin])
    viewport = {"width": width, "height": VIEWPORTS[width]}
    window = {"x": 0, "y": 0, **viewport}

    with browser_page(f"widget-hostile-{width}", browser=browser, viewport=viewport) as page:
        page.goto(site.add(host_page(stack, survey_id)))
        # The hostile rules really are in force on the page around the widget.
        assert page.locator("#buy").evaluate("e => getComputedStyle(e).fontSize") == "28px"
        assert page.locator("#buy").evaluate("e => getComputedStyle(e).width") == page.locator("body").evaluate(
            "e => getComputedStyle(e).width"
        )

        card = page.locator("nps-widget .card")
        expect(card).to_be_visible()
        expect(card).to_contain_text(QUESTION)
        card_box = box_of(card)
        assert_inside(card_box, window, "card")
        scores = page.locator("nps-widget button[data-score]")
        expect(scores).to_have_count(11)
        boxes = [box_of(scores.nth(n)) for n in range(11)]
        assert [scores.nth(n).inner_text() for n in range(11)] == [str(n) for n in range(11)]
        assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 0.5, boxes  # one row
        assert max(b["width"] for b in boxes) - min(b["width"] for b in boxes) < 0.5, boxes  # equal widths
        assert all(boxes[n]["x"] < boxes[n + 1]["x"] for n in range(10)), boxes  # 0 to 10, left to right
        assert min(b["width"] for b in boxes) >= 20 and min(b["height"] for b in boxes) >= 36, boxes
        for n in range(11):
            assert_inside(boxes[n], card_box, f"score {n}")
            assert_on_top(page, scores.nth(n), f"score {n}")
        close = page.get_by_role("button", name="Close")
        expect(close).to_be_visible()
        assert_inside(box_of(close), card_box, "close")
        assert_on_top(page, close, "close")
        assert_readable(page, {QUESTION, "0", "10", "\u00d7", "Not at all likely", "Extremely likely"})
        screenshot(page, f"widget-hostile-{width}")

        # The next step (a comment) also fits and reads well on the same page.
        scores.nth(8).click()
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "recorded")
        comment = page.get_by_label("Anything you would like to add? (optional)")
        expect(comment).to_be_visible()
        card_box = box_of(card)
        assert_inside(card_box, window, "card with the comment")
        for part in (comment, page.get_by_role("button", name="Send"), close):
            assert_inside(box_of(part), card_box, "comment step")
            assert_on_top(page, part, "comment step")
        assert_readable(
            page, {"Thank you! Your score is recorded.", "Send", "Anything you would like to add? (optional)"}
        )
        screenshot(page, f"widget-hostile-{width}-comment")

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["channel"], answer["contact_id"]) == (8, "widget", None)


STYLE_PROBE_JS = """
() => Object.fromEntries(['html', 'body', '#title', '#copy', '#buy', '#promo', '#inner'].map(sel => {
  const s = getComputedStyle(document.querySelector(sel));
  return [sel, ['color', 'background-color', 'font-size', 'font-family', 'line-height', 'width', 'height',
                'margin-top', 'padding-left', 'display', 'letter-spacing', 'border-radius']
               .map(p => p + ': ' + s.getPropertyValue(p))];
}))
"""
PAGE_SHEETS_JS = (
    "() => [document.styleSheets.length, document.adoptedStyleSheets.length, "
    "document.querySelectorAll('style, link[rel=stylesheet]').length]"
)


@pytest.mark.parametrize("hostile", [False, True], ids=["plain-page", "hostile-page"])
def test_the_host_pages_own_styles_are_the_same_with_the_widget(stack, browser, site, hostile):
    survey_id = new_survey(stack, "E2E widget: host styles", [site.origin])

    with browser_page("widget-host-styles", browser=browser, viewport={"width": 390, "height": 844}) as page:
        page.goto(site.add(host_page(stack, survey_id, hostile=hostile, widget=False)))
        without = page.evaluate(STYLE_PROBE_JS)
        sheets_without = page.evaluate(PAGE_SHEETS_JS)
        page.goto(site.add(host_page(stack, survey_id, hostile=hostile)))
        expect(page.locator("nps-widget .card")).to_be_visible()
        assert page.evaluate(STYLE_PROBE_JS) == without
        # Nothing added to the page's own style sheets: every rule of the widget is in its shadow root.
        assert page.evaluate(PAGE_SHEETS_JS) == sheets_without


def tab_to(page, wanted: str, limit: int = 20) -> list[str]:
    """Press Tab until the focused element (inside the widget or not) is `wanted`; what was focused on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => { const a = document.activeElement;"
                " const e = a && a.shadowRoot ? a.shadowRoot.activeElement : a;"
                " return e ? (e.getAttribute('data-score') ?? e.getAttribute('aria-label')"
                " ?? e.id ?? e.tagName) : ''; }"
            )
        )
        if seen[-1] == wanted:
            return seen
    raise AssertionError(f"Tab never reached {wanted!r}: {seen}")


def test_the_widget_works_by_keyboard_with_a_visible_focus(stack, browser, site):
    survey_id = new_survey(stack, "E2E widget: keyboard", [site.origin])

    with browser_page("widget-keyboard", browser=browser, viewport={"width": 390, "height": 844}) as page:
        page.goto(site.add(host_page(stack, survey_id)))
        expect(page.locator("nps-widget .card")).to_be_visible()
        seen = tab_to(page, "Close")
        assert [s for s in seen if s.isdigit()] == [str(n) for n in range(11)], seen
        # The focus ring of every stop is drawn, and stands out from the white card.
        close = page.get_by_role("button", name="Close")
        ring = close.evaluate(
            "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth,"
            " getComputedStyle(e).outlineColor]"
        )
        assert ring == ["solid", "3px", "rgb(31, 79, 209)"], ring
        page.keyboard.press("Shift+Tab")
        seven = page.locator("nps-widget button[data-score='7']")
        for _ in range(3):
            page.keyboard.press("Shift+Tab")
        expect(seven).to_be_focused()
        assert seven.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
        screenshot(page, "widget-keyboard-focus")
        page.keyboard.press("Enter")
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "recorded")
        # A keyboard user lands in the comment field, and Escape closes the widget.
        comment = page.get_by_label("Anything you would like to add? (optional)")
        expect(comment).to_be_focused()
        page.keyboard.press("Escape")
        expect(page.locator("nps-widget")).to_have_count(0)

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["comment"]) == (7, None)


def test_a_comment_after_the_score_reaches_the_stored_response_then_the_widget_hides(stack, browser, site):
    survey_id = new_survey(stack, "E2E widget: comment", [site.origin])
    comment = "The new dashboard saves me an hour a week."
    posts = []

    with browser_page("widget-comment", browser=browser, viewport={"width": 390, "height": 844}) as page:
        page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
        page.clock.install()
        url = site.add(host_page(stack, survey_id))
        page.goto(url + "?email=jane%40example.com&reset=secret#account")
        page.locator("nps-widget button[data-score='9']").click()
        expect(page.get_by_role("status")).to_have_text("Thank you! Your score is recorded.")
        # Counted at once, before any comment.
        [answer] = stored(stack, survey_id)
        assert (answer["score"], answer["comment"], answer.get("status", "counted")) == (9, None, "counted")

        page.get_by_label("Anything you would like to add? (optional)").fill(comment)
        page.get_by_role("button", name="Send").click()
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "sent")
        expect(page.get_by_role("status")).to_have_text("Thank you for your feedback!")
        screenshot(page, "widget-comment-thanks")
        page.clock.run_for(5_000)
        expect(page.locator("nps-widget")).to_have_count(0)

    first, second = (json.loads(r.post_data) for r in posts)
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert (first["score"], "comment" in first) == (9, False)
    assert (second["score"], second["comment"]) == (9, comment)
    assert first["page"] == second["page"] == url, "the page's address without its query and fragment"
    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["comment"]) == (9, comment), "H1's comment follow-up on the same key"


def storage(page, survey_id: str, kind: str = "localStorage"):
    raw = page.evaluate(f"() => {kind}.getItem('nps-widget:{survey_id}')")
    return json.loads(raw) if raw else None


def wait_for_the_script(page, survey_id: str) -> None:
    """The widget script has run for this survey (and decided whether to show itself)."""
    page.wait_for_function(f"() => window.NpsWidget && window.NpsWidget.surveys[{json.dumps(survey_id)}]")


def test_after_an_answer_this_browser_does_not_see_it_again_within_the_throttle_unless_asked(stack, browser, site):
    survey_id = new_survey(stack, "E2E widget: throttle", [site.origin], throttle_days=30)
    url = site.add(host_page(stack, survey_id))
    forced = site.add(host_page(stack, survey_id, attrs='data-force="true"'))

    with browser_page("widget-throttle", browser=browser) as page:
        page.goto(url)
        page.locator("nps-widget button[data-score='6']").click()
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "recorded")
        # Held for the survey's throttle_days, as the capture answer says (30 here, not the default 90).
        days = (storage(page, survey_id)["until"] - page.evaluate("Date.now()")) / DAY_MS
        assert 29.99 < days <= 30, days

        page.reload()
        wait_for_the_script(page, survey_id)
        expect(page.locator("nps-widget")).to_have_count(0)
        page.evaluate("() => window.NpsWidget.open()")  # asked by the site: shown anyway
        expect(page.locator("nps-widget .card")).to_be_visible()
        page.evaluate("() => window.NpsWidget.close()")
        expect(page.locator("nps-widget")).to_have_count(0)

        page.goto(forced)
        expect(page.locator("nps-widget .card")).to_be_visible()

        # Once the throttle has run out it shows on its own again.
        key = f"nps-widget:{survey_id}"
        page.evaluate(f"() => localStorage.setItem('{key}', JSON.stringify({{until: Date.now() - 1}}))")
        page.goto(url)
        expect(page.locator("nps-widget .card")).to_be_visible()

    assert [a["score"] for a in stored(stack, survey_id)] == [6]


def test_closing_without_an_answer_holds_it_for_the_browser_session(stack, browser, site):
    survey_id = new_survey(stack, "E2E widget: closed", [site.origin])
    url = site.add(host_page(stack, survey_id))

    with browser_page("widget-closed", browser=browser) as page:
        page.goto(url)
        page.get_by_role("button", name="Close").click()
        expect(page.locator("nps-widget")).to_have_count(0)
        page.reload()
        wait_for_the_script(page, survey_id)
        expect(page.locator("nps-widget")).to_have_count(0)
        assert storage(page, survey_id) is None, "closing is not an answer"
    with browser_page("widget-closed-new-session", browser=browser) as page:
        page.goto(url)
        expect(page.locator("nps-widget .card")).to_be_visible()
    assert stored(stack, survey_id) == []


@pytest.mark.parametrize(
    ("attrs", "page_lang", "lang", "question", "close", "low"),
    [
        (
            'data-lang="de"',
            "en",
            "de",
            "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen weiterempfehlen?",
            "Schließen",
            "Überhaupt nicht wahrscheinlich",
        ),
        (
            'data-lang="fr-CA"',
            "en",
            "fr",
            "Quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue\u00a0?",
            "Fermer",
            "Pas du tout probable",
        ),
        ("", "es", "es", "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?", "Cerrar", "Nada probable"),
        (
            'data-lang="xx"',
            "de",
            "en",
            "How likely are you to recommend us to a friend or colleague?",
            "Close",
            "Not at all likely",
        ),
    ],
    ids=["de", "fr-CA", "page-lang-es", "unknown-falls-back-to-en"],
)
def test_data_lang_chooses_the_widgets_strings(stack, browser, site, attrs, page_lang, lang, question, close, low):
    # The built-in question: the survey speaks every built-in language (one with its own question speaks only
    # the languages it has it in, tests/e2e/test_widget_strings_browser.py).
    survey_id = new_survey(stack, f"E2E widget: {lang}", [site.origin], question=None)

    with browser_page(f"widget-lang-{lang}", browser=browser, viewport={"width": 320, "height": 568}) as page:
        page.goto(site.add(host_page(stack, survey_id, attrs=attrs, lang=page_lang, question=None)))
        card = page.locator("nps-widget .card")
        expect(card.locator(".question")).to_have_text(question)
        expect(card).to_have_attribute("lang", lang)
        expect(card).to_contain_text(low)
        close_button = page.get_by_role("button", name=close)
        expect(close_button).to_be_visible()
        assert_inside(box_of(card), {"x": 0, "y": 0, "width": 320, "height": 568}, "card")
        assert_on_top(page, close_button, "close")
        if lang == "de":
            screenshot(page, "widget-lang-de-320")


@pytest.mark.parametrize("variant", ["plain", "hostile"])
def test_the_demo_page_shows_the_widget_and_records_a_click(stack, browser, variant):
    survey_id = new_survey(stack, "E2E widget: demo page", [stack.base_url])
    demo_url = f"{stack.base_url}/local/widget-demo?survey={survey_id}" + ("&hostile=1" if variant == "hostile" else "")

    with browser_page(f"widget-demo-{variant}", browser=browser, viewport={"width": 390, "height": 844}) as page:
        page.goto(demo_url)
        card = page.locator("nps-widget .card")
        expect(card).to_be_visible()
        expect(card).to_contain_text(QUESTION)
        hostile = page.locator("h1").evaluate("e => getComputedStyle(e).fontSize") == "28px"
        assert hostile == (variant == "hostile")
        assert_inside(box_of(card), {"x": 0, "y": 0, "width": 390, "height": 844}, "card")
        assert_readable(page, {QUESTION, "0", "10"})
        screenshot(page, f"widget-demo-{variant}-390")
        page.locator("nps-widget button[data-score='10']").click()
        expect(page.get_by_role("status")).to_have_text("Thank you! Your score is recorded.")

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["channel"]) == (10, "widget")
    assert answer["contact_id"] is None and answer["invitation_id"] is None


def test_a_signed_in_visitors_identity_passes_through_to_the_stored_response(stack, browser, site):
    from chalicelib.domain.tokens import identity_signature

    created = stack.post(
        "/v1/surveys", {"name": "E2E widget: identity", "question": QUESTION, "allowed_origins": [site.origin]}
    )
    assert created.status == 201, created.text
    survey_id, secret = created.json["survey_id"], created.json["identity_secret"]
    contact_id, account_id = f"c-{secrets.token_hex(4)}", "acct-widget-e2e"
    # What the site's server renders into the snippet for the signed-in visitor.
    signed = (
        f'data-contact="{contact_id}" data-account="{account_id}" '
        f'data-identity="{identity_signature(secret, contact_id, account_id)}"'
    )

    with browser_page("widget-identity", browser=browser) as page:
        page.goto(site.add(host_page(stack, survey_id, attrs=signed)))
        page.locator("nps-widget button[data-score='4']").click()
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "recorded")

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["contact_id"], answer["account_id"]) == (4, contact_id, account_id)


def test_an_answer_that_cannot_be_sent_says_so_and_can_be_tried_again(stack, browser, site):
    # The survey does not allow this page's origin: the API refuses the preflight, as it would for a typo.
    survey_id = new_survey(stack, "E2E widget: refused origin", ["https://elsewhere.example.com"])

    with browser_page(
        "widget-refused",
        browser=browser,
        viewport={"width": 320, "height": 568},
        allowed_errors="CORS policy|Failed to load resource|ERR_FAILED",
    ) as page:
        page.goto(site.add(host_page(stack, survey_id)))
        page.locator("nps-widget button[data-score='5']").click()
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "error")
        failed = "Sorry, your answer could not be sent. Please try again."
        expect(page.get_by_role("status")).to_have_text(failed)
        assert_readable(page, {failed, "5"})
        screenshot(page, "widget-refused-320")
        # The scores stay, ready for another try; nothing makes this browser skip the survey.
        expect(page.locator("nps-widget button[data-score]")).to_have_count(11)
        assert storage(page, survey_id) is None
        page.locator("nps-widget button[data-score='6']").click()
        expect(page.get_by_role("status")).to_have_text(failed)
    assert stored(stack, survey_id) == []


def test_the_snippet_twice_shows_one_widget_and_a_new_showing_outlives_the_last_thanks(stack, browser, site):
    survey_id = new_survey(stack, "E2E widget: twice", [site.origin])
    twice = host_page(stack, survey_id).replace("</body>", snippet(stack, survey_id) + "</body>")

    with browser_page("widget-twice", browser=browser) as page:
        page.clock.install()
        page.goto(site.add(twice))
        assert page.locator("script[data-survey]").count() == 2
        expect(page.locator("nps-widget .card")).to_be_visible()
        expect(page.locator("nps-widget")).to_have_count(1)
        page.locator("nps-widget button[data-score='10']").click()
        page.get_by_role("button", name="Send").click()  # no comment: straight to the thanks
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "sent")
        page.get_by_role("button", name="Close").click()
        page.evaluate("() => window.NpsWidget.open()")
        expect(page.locator("nps-widget")).to_have_attribute("data-state", "open")
        page.clock.run_for(10_000)
        expect(page.locator("nps-widget .card")).to_be_visible()
        expect(page.locator("nps-widget button[data-score]")).to_have_count(11)

    assert [a["score"] for a in stored(stack, survey_id)] == [10]


def test_a_page_whose_content_security_policy_refuses_inline_styles_still_gets_a_styled_widget(stack, browser, site):
    survey_id = new_survey(stack, "E2E widget: strict CSP", [site.origin])
    nonce = secrets.token_hex(8)
    # A strict policy as many shops send: scripts and requests only from the widget's API, styles by nonce only.
    policy = (
        f"default-src 'none'; script-src {stack.base_url}; connect-src {stack.base_url}; "
        f"style-src 'nonce-{nonce}'; img-src 'self'"
    )
    html = host_page(stack, survey_id).replace("<style>", f'<style nonce="{nonce}">')

    with browser_page("widget-strict-csp", browser=browser, viewport={"width": 390, "height": 844}) as page:
        page.goto(site.add(html, {"Content-Security-Policy": policy}))
        card = page.locator("nps-widget .card")
        expect(card).to_be_visible()
        assert card.evaluate("e => getComputedStyle(e).position") == "fixed"
        assert_inside(box_of(card), {"x": 0, "y": 0, "width": 390, "height": 844}, "card")
        assert_readable(page, {QUESTION, "0", "10"})
        page.locator("nps-widget button[data-score='3']").click()
        expect(page.get_by_role("status")).to_have_text("Thank you! Your score is recorded.")
        screenshot(page, "widget-strict-csp-390")

    [answer] = stored(stack, survey_id)
    assert answer["score"] == 3
