"""What ops will see in CloudWatch, seen locally: responses go through the running stack (invitation links, the
stream), and the operations dashboard at /local/dashboard, opened in headless Chromium, shows them in the widgets
of the same definition CloudWatch gets.

The stack is shared with the other e2e tests and carries the demo, so the test reads the dashboard's numbers
before and after its own traffic and checks the difference is exactly what it sent."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest
from e2e.browser import browser_page, chromium, screenshot
from playwright.sync_api import expect

from chalicelib.ops import dashboard
from nps_local.dashboard_page import widget_id

MINUTES = 180  # the whole life of the test session's stack: nothing it counted slides out between two reads
SCORES = [0, 3, 6, 2, 7, 9, 10, 10]  # 4 detractors, 1 passive, 3 promoters
CATEGORY = {**dict.fromkeys(range(7), "detractors"), 7: "passives", 8: "passives", 9: "promoters", 10: "promoters"}


def dashboard_json(stack) -> dict:
    answer = stack.get(f"/local/dashboard.json?minutes={MINUTES}")
    assert answer.status == 200, answer.text
    return answer.json


def series(model: dict, widget_title: str, metric_id: str) -> dict:
    widget = next(w for w in model["widgets"] if w["title"] == widget_title)
    return next(s for s in widget["series"] if s["id"] == metric_id)


def window(model: dict, widget_title: str, metric_id: str) -> float:
    return series(model, widget_title, metric_id)["window"] or 0.0


def all_tasks(stack) -> list[dict]:
    tasks, cursor = [], None
    while True:
        answer = stack.get("/v1/tasks?limit=100" + (f"&next={cursor}" if cursor else ""))
        assert answer.status == 200, answer.text
        tasks += answer.json["tasks"]
        cursor = answer.json["next"]
        if not cursor:
            return tasks


def send_responses(stack) -> tuple[list[str], set[str]]:
    """A survey, one invitation per score, each answered through its link; the response ids' channels."""
    answer = stack.post("/v1/surveys", {"name": "E2E dashboard", "question": "How likely are you to recommend us?"})
    assert answer.status == 201, answer.text
    survey_id = answer.json["survey_id"]
    run = secrets.token_hex(4)
    contacts = [
        {"contact_id": f"e2e-dash-{run}-{n}", "account_id": f"e2e-dash-{run}", "email": f"d{n}@example.org"}
        for n in range(len(SCORES))
    ]
    answer = stack.post(f"/v1/surveys/{survey_id}/invitations", {"contacts": contacts})
    assert answer.status == 201, answer.text
    links = [i["link"] for i in answer.json["invitations"]]
    assert len(links) == len(SCORES), answer.json
    for link, score in zip(links, SCORES, strict=True):
        answer = stack.post(link, {"score": score}, token=None)
        assert answer.status == 201, answer.text
    stack.drain_stream()
    answer = stack.get(f"/v1/responses?survey_id={survey_id}&limit=100")
    assert answer.status == 200, answer.text
    responses = answer.json["responses"]
    assert sorted(r["score"] for r in responses) == sorted(SCORES)
    return [r["channel"] for r in responses], {r["response_id"] for r in responses}


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def test_the_dashboard_shows_the_responses_sent_through_the_stack(stack, browser):
    before = dashboard_json(stack)
    tasks_before = {t["task_id"] for t in all_tasks(stack)}

    channels, response_ids = send_responses(stack)
    opened = Counter(
        t["kind"] for t in all_tasks(stack) if t["task_id"] not in tasks_before and t["response_id"] in response_ids
    )
    assert stack.get("/v1/no-such-route", token=None).status == 404  # one 4xx, as API Gateway counts them
    after = dashboard_json(stack)  # no API request from here on: the page must show these very numbers
    sent = Counter(CATEGORY[s] for s in SCORES)
    assert opened["recovery"] == sent["detractors"]  # every detractor opens a recovery task

    def delta(title: str, metric_id: str) -> float:
        return window(after, title, metric_id) - window(before, title, metric_id)

    # What the stack collected: exactly what was sent, in the widgets of the definition.
    for channel, count in Counter(channels).items():
        assert delta("Responses per minute by channel", f"responses_{channel}") == count
    assert delta("Detractors per hour", "detractors") == sent["detractors"]
    for category in ("promoters", "passives", "detractors"):
        assert delta("NPS (hourly, first answers)", category) == sent[category]
    for kind in dashboard.TASK_KIND.values():
        assert delta("Close-the-loop tasks", f"opened_{kind}") == opened[kind]
    assert delta("API errors", "api_4xx") == 1
    assert delta("API errors", "api_5xx") == 0
    p, pa, d = (window(after, "NPS (hourly, first answers)", c) for c in ("promoters", "passives", "detractors"))
    nps = series(after, "NPS (hourly, first answers)", "nps")
    assert nps["window"] == pytest.approx(100 * (p - d) / (p + pa + d), abs=1e-6)
    assert series(after, "Lambda duration (p95)", "duration_response_stream")["latest"] is not None
    assert series(after, "Lambda errors", "errors_response_stream")["window"] == 0
    failure_queue = next(w["title"] for w in after["widgets"] if any(s["id"] == "failed_batches" for s in w["series"]))
    assert series(after, failure_queue, "failed_batches")["latest"] == 0

    # What a person sees: the same numbers on the page, every widget of the definition, charts drawn.
    with browser_page("dashboard", browser=browser) as page:
        # refresh=0: no meta refresh while the test reads the page
        page.goto(f"{stack.base_url}/local/dashboard?token={stack.admin_token}&minutes={MINUTES}&refresh=0")
        expected_ids = [widget_id(w) for w in dashboard.widgets(dashboard.Names("dev"))]
        sections = page.locator("section.widget")
        expect(sections).to_have_count(len(expected_ids))
        assert [sections.nth(i).get_attribute("data-widget") for i in range(len(expected_ids))] == expected_ids
        for wid in expected_ids:
            expect(page.locator(f'section[data-widget="{wid}"] svg.chart')).to_have_count(1)

        def shown(wid: str, cls: str, metric_id: str) -> float | None:
            span = page.locator(f'section[data-widget="{wid}"] span.{cls}[data-metric="{metric_id}"]')
            value = span.get_attribute("data-value")
            return None if value is None else float(value)

        checks = {
            "responses-per-minute-by-channel": [f"responses_{c}" for c in set(channels)],
            "detractors-per-hour": ["detractors"],
            "nps-hourly-first-answers": ["nps", "promoters", "passives", "detractors"],
            "close-the-loop-tasks": [f"opened_{k}" for k in opened],
            "api-errors": ["api_4xx"],
        }
        for wid, metric_ids in checks.items():
            model = next(w for w in after["widgets"] if w["id"] == wid)
            assert model["has_data"]
            for metric_id in metric_ids:
                item = next(s for s in model["series"] if s["id"] == metric_id)
                assert shown(wid, "window", metric_id) == pytest.approx(item["window"])
                assert shown(wid, "latest", metric_id) == pytest.approx(item["latest"])
            expect(page.locator(f'section[data-widget="{wid}"] svg.chart circle.point').first).to_be_attached()
        detractors = page.locator('section[data-widget="detractors-per-hour"] span.window[data-metric="detractors"]')
        expect(detractors).to_have_text(f"{window(after, 'Detractors per hour', 'detractors'):,.0f}")

        # Nothing local throttles: said plainly, not drawn as zero.
        throttles = page.locator('section[data-widget="lambda-throttles"]')
        expect(throttles.locator("svg.chart")).to_contain_text("no local data")
        expect(throttles.locator('span.latest[data-metric="throttles_response_stream"]')).to_have_text("no local data")
        screenshot(page, "dashboard")


def test_the_dashboard_needs_the_admin_token(stack):
    for path in ("/local/dashboard", "/local/dashboard.json"):
        assert stack.get(path, token=None).status == 401
        assert stack.get(f"{path}?token=not-a-token", token=None).status == 401
        assert stack.get(f"{path}?token={stack.admin_token}", token=None).status == 200
    page = stack.get(f"/local/dashboard?token={stack.admin_token}", token=None)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<script" not in page.text and "https://" not in page.text
    assert stack.get("/local/dashboard.json?minutes=0").status == 422


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_the_dashboard_fits_the_screen(stack, browser, width):
    """No sideways scroll from a small phone up; every chart fits its widget; the hourly charts are labelled in
    hours."""
    with browser_page(f"dashboard-{width}", browser=browser, viewport={"width": width, "height": 900}) as page:
        page.goto(f"{stack.base_url}/local/dashboard?token={stack.admin_token}&refresh=0")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
        overflowing = page.evaluate("""() => [...document.querySelectorAll('section.widget')].filter(w => {
            const svg = w.querySelector('svg.chart');
            return svg.getBoundingClientRect().right > w.getBoundingClientRect().right + 0.5;
        }).map(w => w.dataset.widget)""")
        assert overflowing == []
        labels = page.locator('section[data-widget="detractors-per-hour"] svg.chart text.x-label')
        if labels.count():
            assert all(text.endswith(":00") for text in labels.all_text_contents())
        screenshot(page, f"dashboard-{width}")
