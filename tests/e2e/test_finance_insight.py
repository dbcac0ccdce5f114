"""End-to-end: the earned-value page draws its S-curve with the vendored Chart.js under the CSP (no script error,
no violation), in Arabic right to left; the statement page offers its downloads; the portfolio lists the project."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from shafaf.finance.tests.helpers_insight import budget, phase, spend
from tests.e2e.test_browser import SCREENSHOTS, assert_no_problems, expect_canvas_drawn, expect_language, sign_in
from tests.factories import World

pytestmark = pytest.mark.e2e


def test_the_s_curve_statement_and_portfolio_in_arabic(open_page):
    world = World()
    project = world.project_a
    budget(project, world.najat, {"PRG-1": 1_000_000})
    phase(project, position=1, weight=3, start=dt.date(2027, 1, 1), end=dt.date(2027, 6, 30), percent=50)
    phase(project, position=2, weight=1, start=dt.date(2027, 7, 1), end=dt.date(2027, 12, 31))
    spend(project, world.najat, "PRG-1", 300_000, on=dt.date(2027, 2, 1))

    page = open_page(locale="ar-KW")
    sign_in(page, world.reviewer)
    expect_language(page, "ar")
    page.goto(f"/projects/{project.pk}/earned-value/?on=2027-03-31")
    expect(page.locator('[data-testid="ac"]')).to_have_text("300.000 KWD")
    canvas = page.locator("#s-curve")
    expect(canvas).to_be_visible()
    # Chart.js drew into the canvas: it sized it and some pixels are no longer transparent.
    expect_canvas_drawn(page, "s-curve", more_than=1000)
    assert page.evaluate("() => typeof window.Chart") == "function"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "earned_value_ar.png"), full_page=True)
    assert_no_problems(page)

    page.goto(f"/projects/{project.pk}/statement/")
    expect(page.locator('[data-testid="statement-budget"]')).to_have_text("1,000.000 KWD")
    expect(page.locator('[data-testid="statement-downloads"] a')).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "statement_ar.png"), full_page=True)
    assert_no_problems(page)

    page.locator('[data-testid="nav-portfolio"]').click()
    expect(page.locator(f'[data-testid="portfolio-row"][data-project="{project.pk}"]')).to_be_visible()
    assert_no_problems(page)
