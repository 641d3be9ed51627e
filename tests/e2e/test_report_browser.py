"""The monthly report in a real browser (headless Debian Chromium): a seeded history loaded through the stack's
import API, the stream processed, a few months computed, then the report page opened with the admin token.
The charts must render (non-empty boxes), the NPS trend must show one point and one error bar per computed
month, the revenue-per-point caveat must be visible, and the page must load nothing from anywhere else.

The history ends in a fixed month long before the demo's, with its own account ids, so the demo data the shared
stack loaded has no revenue or responses in the months computed here."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urljoin

import pytest
from e2e.browser import browser_page, screenshot
from playwright.sync_api import expect

from nps_demo.generator import generate

END_MONTH = "2023-06"
REVENUE_MONTHS = 14
RESPONSE_MONTHS = 13
COMPUTED = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
CHARTS = ("nps-trend", "retention", "revenue-per-point", "themes-count", "themes-revenue")
PREFIX = "rpt-"  # keeps these accounts and contacts apart from the demo's acc-00001...


def ndjson(rows) -> str:
    return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)


def import_file(stack, path: str, rows: list[dict]) -> dict:
    answer = stack.post(path, raw=ndjson(rows), headers={"Content-Type": "application/x-ndjson"}, timeout=120)
    assert answer.status == 200, answer.text
    report = answer.json
    assert report["rejected_count"] == 0, report["rejected"][:5]
    assert report["accepted"] == len(rows)
    return report


@pytest.fixture(scope="module")
def report_month(stack) -> dict:
    """Load the history and compute COMPUTED; the metrics documents of the report's 12-month window."""
    data = generate(seed=11, accounts=40, months=REVENUE_MONTHS, end_month=END_MONTH)
    assert data.months[-1] == END_MONTH

    survey_ids = {}
    for body in data.surveys():
        key = body.pop("key")
        body["name"] = f"Report e2e: {body['name']}"
        answer = stack.post("/v1/surveys", body)
        assert answer.status == 201, answer.text
        survey_ids[key] = answer.json["survey_id"]

    accounts = [{**row, "account_id": PREFIX + row["account_id"]} for row in data.accounts_rows()]
    assert all(len(row["revenue"]) <= REVENUE_MONTHS for row in accounts)
    import_file(stack, "/v1/accounts/import", accounts)

    first_response_month = data.months[-RESPONSE_MONTHS]
    responses = []
    for row in data.iter_responses():
        if row["submitted_at"][:7] < first_response_month:
            continue
        row = dict(row)
        row["survey_id"] = survey_ids[row.pop("survey_key")]
        row["account_id"] = PREFIX + row["account_id"]
        row["contact_id"] = PREFIX + row["contact_id"]
        responses.append(row)
    assert len({row["account_id"] for row in responses}) >= 24, "a couple of dozen accounts answered"
    import_file(stack, "/v1/responses/import", responses)

    stack.drain_stream()
    for month in COMPUTED[:-1]:
        answer = stack.post(f"/v1/metrics/{month}/recompute", timeout=120)
        assert answer.status == 200, answer.text
    # The report's month is queued instead (?wait=false), as a large data set needs: the local stack runs the
    # monthly function in the background, as Lambda runs an asynchronous invocation.
    failed_before = stack.status()["queued_runs"]["failed"]
    assert stack.get(f"/v1/metrics/{END_MONTH}").status == 404
    answer = stack.post(f"/v1/metrics/{END_MONTH}/recompute?wait=false")
    assert answer.status == 202 and answer.json["status"] == "started", answer.text
    # As a client would: follow Location until the figures are there.
    location = urljoin(f"/v1/metrics/{END_MONTH}/recompute", answer.headers["Location"])
    assert location == f"/v1/metrics/{END_MONTH}"
    deadline = time.monotonic() + 120
    while (figures := stack.get(location)).status == 404:
        assert stack.status()["queued_runs"]["failed"] == failed_before, "the queued run failed"
        assert time.monotonic() < deadline, "the queued run did not finish in 120 s"
        time.sleep(0.2)  # polling the documented answer, not waiting in place of it
    assert figures.status == 200 and figures.json["month"] == END_MONTH, figures.text

    documents = {}
    for month in [f"2022-{m:02d}" for m in range(7, 13)] + COMPUTED:
        answer = stack.get(f"/v1/metrics/{month}")
        if answer.status == 200:
            documents[month] = answer.json
        else:
            assert answer.status == 404, answer.text
    assert sorted(documents) == COMPUTED
    return documents


def test_the_report_page_renders_its_charts_in_chromium(stack, report_month):
    current = report_month[END_MONTH]
    nps_values = {m: doc["nps"]["all"] for m, doc in report_month.items()}
    with_points = [m for m, nps in nps_values.items() if nps["nps"] is not None]
    with_bars = [m for m in with_points if nps_values[m]["moe95"] is not None]
    assert with_points == COMPUTED, "every computed month has responses"
    assert with_bars == COMPUTED

    requested: list[str] = []
    with browser_page("report", extra_http_headers={"Authorization": f"Bearer {stack.admin_token}"}) as page:
        page.on("request", lambda request: requested.append(request.url))
        answer = page.goto(f"{stack.base_url}/v1/reports/{END_MONTH}")
        assert answer.status == 200, answer.text()
        assert answer.headers["content-type"].startswith("text/html")
        expect(page.locator("h1")).to_contain_text("June 2023")

        for name in CHARTS:
            chart = page.locator(f'svg.chart[data-chart="{name}"]')
            expect(chart).to_have_count(1)
            expect(chart).to_be_visible()
            box = chart.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, (name, box)

        trend = page.locator('svg.chart[data-chart="nps-trend"]')
        points = trend.locator("circle.point")
        bars = trend.locator("line.error-bar")
        expect(points).to_have_count(len(with_points))
        expect(bars).to_have_count(len(with_bars))
        drawn = [float(v) for v in points.evaluate_all("els => els.map(e => e.getAttribute('data-value'))")]
        assert drawn == pytest.approx([nps_values[m]["nps"] for m in with_points], abs=0.01)
        errors = [float(v) for v in bars.evaluate_all("els => els.map(e => e.getAttribute('data-error'))")]
        assert errors == pytest.approx([nps_values[m]["moe95"] for m in with_bars], abs=0.01)
        for i in range(len(with_points)):
            point_box = points.nth(i).bounding_box()
            assert point_box and point_box["width"] > 0 and point_box["height"] > 0

        expect(page.locator('svg.chart[data-chart="retention"] rect.bar').first).to_be_visible()
        rpp = page.locator('svg.chart[data-chart="revenue-per-point"]')
        estimates = 0 if current["revenue_per_nps_point"]["monthly"] is None else 1
        expect(rpp.locator("circle.estimate")).to_have_count(estimates)
        themes = current["themes"]
        expect(page.locator('svg.chart[data-chart="themes-count"] rect.bar')).to_have_count(len(themes["by_count"]))
        expect(page.locator('svg.chart[data-chart="themes-revenue"] rect.bar')).to_have_count(len(themes["by_revenue"]))

        caveat = page.locator(".caveat")
        expect(caveat).to_be_visible()
        expect(caveat).to_contain_text("association")
        expect(caveat).to_contain_text("not proof that raising NPS causes revenue")
        screenshot(page, "report")

    # Self-contained: everything the page needed came from the stack itself.
    assert requested and all(url.startswith(stack.base_url + "/") for url in requested), requested


def test_the_report_page_needs_the_admin_token(stack, report_month):
    with browser_page("report-no-token", allowed_errors=r"status of 401") as page:
        answer = page.goto(f"{stack.base_url}/v1/reports/{END_MONTH}")
        assert answer.status == 401
        assert json.loads(answer.text())["error"]["code"] == "unauthorized"


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_the_banners_signed_report_link_opens_in_a_browser_without_the_admin_token(stack, width):
    """The banner prints a short-lived signed link to last month's report: a browser opens it with no admin token
    anywhere (not in the URL, not in a header), and the page fits the screen."""
    line = stack.banner["Monthly report"]
    url = line.split(" ", 1)[0]
    assert url.startswith(f"{stack.base_url}/r/"), line
    assert stack.admin_token not in line
    assert "valid 15 minutes" in line
    body = url.rsplit("/", 1)[1].split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if time.time() >= claims["e"]:
        # The session's stack has been up longer than the link lives: it has expired, as it should, and a
        # fresh link for the same month stands in for it.
        expired = stack.get(url.removeprefix(stack.base_url), token=None)
        assert expired.status == 410 and expired.json["error"]["code"] == "link_expired"
        fresh = stack.post(f"/v1/reports/{claims['m']}/link")
        assert fresh.status == 200, fresh.text
        url = fresh.json["url"]
    with browser_page(f"report-link-{width}", viewport={"width": width, "height": 900}) as page:
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        answer = page.goto(url)
        assert answer.status == 200, answer.text()
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
        expect(page.locator("h1")).to_contain_text("NPS and revenue report")
        expect(page.locator("header .meta")).to_contain_text("Computed ")
        expect(page.locator(".caveat")).to_have_count(1)
        expect(page.locator("#definitions")).to_contain_text("docs/metrics.md")
        assert no_sideways_scroll(page), "the report scrolls sideways"
        screenshot(page, f"report-{width}")
    assert all(url.startswith(stack.base_url + "/") for url in requested), requested


def test_a_report_link_asked_for_through_the_api_opens_the_computed_month(stack, report_month):
    answer = stack.post(f"/v1/reports/{END_MONTH}/link")
    assert answer.status == 200, answer.text
    with browser_page("report-link-api") as page:
        opened = page.goto(answer.json["url"])
        assert opened.status == 200
        expect(page.locator("h1")).to_contain_text("June 2023")
    tampered = answer.json["url"][:-3] + ("AAA" if not answer.json["url"].endswith("AAA") else "BBB")
    assert stack.get(tampered.removeprefix(stack.base_url), token=None).status == 403
