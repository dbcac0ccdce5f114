"""End-to-end: the ministry's dashboard in Arabic (right to left) and English draws its charts with the vendored
Chart.js and its map with the vendored Leaflet and the shipped country boundaries (no internet tiles), under the
CSP; a filter changes the figures, charts and map; a figure opens the list behind it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from shafaf.finance.models import ProjectFinance
from shafaf.projects.models import ProjectLocation
from tests.e2e.test_browser import SCREENSHOTS, assert_no_problems, expect_language, sign_in
from tests.factories import World

pytestmark = pytest.mark.e2e

CHARTS = ["chart-status", "chart-country", "chart-sector", "chart-project_model", "chart-money"]


def _chart_state(page, chart_id: str) -> dict:
    return page.evaluate(
        """(id) => { const chart = window.Chart.getChart(document.getElementById(id));
            if (!chart) { return null; }
            return { reverse: chart.options.scales.x.reverse, y: chart.options.scales.y.position,
                     total: chart.data.datasets[0].data.reduce((a, b) => a + b, 0) }; }""",
        chart_id,
    )


def _map_ready(page):
    node = page.locator('[data-testid="dashboard-map"]')
    expect(node).to_have_attribute("data-ready", "true")
    return node


def test_the_ministry_dashboard_in_arabic_and_english(open_page):
    world = World()
    for project, budget in ((world.project_a, 10_000), (world.project_b, 7_000)):
        ProjectFinance.objects.create(
            project=project, charity_id=project.charity_id, currency="KWD", budget_minor=budget
        )
    ProjectLocation.objects.create(project=world.project_b, admin_area_en="Amman", latitude=31.95, longitude=35.93)

    page = open_page(locale="ar-KW")
    sign_in(page, world.reviewer)
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/ministry/$"))
    expect_language(page, "ar")
    expect(page.locator('[data-testid="figure-total"]')).to_have_text("2")
    for chart_id in CHARTS:
        expect(page.locator(f"canvas#{chart_id}")).to_have_attribute("data-chart-ready", "true")
    state = _chart_state(page, "chart-status")
    assert state == {"reverse": True, "y": "right", "total": 2}
    map_node = _map_ready(page)
    assert int(map_node.get_attribute("data-countries")) > 150  # the shipped boundaries
    assert map_node.get_attribute("data-shaded") == "2"
    assert page.locator("#dashboard-map .leaflet-overlay-pane path").count() > 150
    assert page.locator("#dashboard-map .leaflet-tile").count() == 0  # no internet tiles unless configured
    # The details arrive after the first paint: overdue reports, compliance classes, the objectives' progress.
    details = page.locator('[data-testid="dashboard-details"]')
    expect(details.locator('[data-testid="table-overdue"]')).to_be_visible()
    expect(details.locator('[data-testid="table-objectives"]')).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard_ministry_ar.png"), full_page=True)
    assert_no_problems(page)

    # A filter changes the figures, the charts and the map alike.
    page.fill("#id_country", "JO")
    page.locator('[data-testid="dashboard-apply"]').click()
    expect(page).to_have_url(re.compile(r"country=JO"))
    expect(page.locator('[data-testid="figure-total"]')).to_have_text("1")
    expect(page.locator("canvas#chart-status")).to_have_attribute("data-chart-ready", "true")
    assert _chart_state(page, "chart-status")["total"] == 1
    map_node = _map_ready(page)
    assert map_node.get_attribute("data-shaded") == "1"
    assert map_node.get_attribute("data-cells") == "1"
    assert_no_problems(page)

    # A figure opens the list behind it, with the same filter.
    page.locator('[data-testid="figure-total"]').click()
    expect(page).to_have_url(re.compile(r"/projects/\?country=JO$"))
    expect(page.get_by_text(world.project_b.reference)).to_be_visible()
    expect(page.get_by_text(world.project_a.reference)).to_have_count(0)

    # In English: left to right.
    page.goto("/dashboard/ministry/")
    page.locator('[data-testid="language-switch"]').click()
    expect_language(page, "en")
    expect(page).to_have_url(re.compile(r"/dashboard/ministry/$"))
    expect(page.locator("canvas#chart-money")).to_have_attribute("data-chart-ready", "true")
    assert _chart_state(page, "chart-status") == {"reverse": False, "y": "left", "total": 2}
    _map_ready(page)
    page.screenshot(path=str(SCREENSHOTS / "dashboard_ministry_en.png"), full_page=True)
    assert_no_problems(page)
