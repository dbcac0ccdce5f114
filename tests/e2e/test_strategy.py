"""End-to-end: a ministry reviewer opens a ministry objective and sees the projects, money and indicator values
behind it, with its chart drawn by the vendored Chart.js under the CSP, in Arabic (right to left) and in English;
a charity admin links a project to objectives, gives it an indicator and enters the indicator's value in a
progress report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shafaf.strategy.models import IndicatorValue
from shafaf.strategy.tests.test_views import build, charity_plan, licensed, ministry_plan
from tests.e2e.test_browser import SCREENSHOTS, assert_no_problems, expect_canvas_drawn, expect_language, sign_in
from tests.factories import World

pytestmark = pytest.mark.e2e


def test_a_ministry_objective_shows_what_is_behind_it_in_arabic_and_english(open_page):
    world = World()
    scene = build(world)
    objective = scene.ministry.objective

    page = open_page(locale="ar-KW")
    sign_in(page, world.reviewer)
    expect_language(page, "ar")
    page.locator('[data-testid="nav-strategy"]').click()
    expect(page.locator(f'[data-testid="plan-row"][data-plan="{scene.ministry.plan.pk}"]')).to_be_visible()
    page.goto(f"/strategy/objectives/{objective.pk}/")
    expect_language(page, "ar")
    expect(page.locator('[data-testid="objective-title"]')).to_have_text("توفير المياه الصالحة للشرب")
    row = page.locator(f'[data-testid="objective-project"][data-project="{scene.project.pk}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text(scene.project.reference)
    expect(page.locator('[data-testid="money-row"][data-currency="KWD"] [data-testid="money-budget"]')).to_have_text(
        "10,500.000 KWD"
    )
    block = page.locator(f'[data-testid="indicator-block"][data-indicator="{scene.ministry.indicator.pk}"]')
    expect(block.locator('[data-testid="rollup-target"]')).to_have_text("10")
    expect(block.locator('[data-testid="rollup-actual"]')).to_have_text("4")
    expect(block.locator('[data-testid="rollup-percent"]')).to_have_text("40.00%")
    chart_id = f"indicator-chart-{scene.ministry.indicator.pk}"
    expect(page.locator(f"#{chart_id}")).to_be_visible()
    expect_canvas_drawn(page, chart_id, more_than=500)
    # Right to left: the chart's value axis stands on the right and its periods run from the right.
    scales = page.evaluate(
        """(id) => { const chart = window.Chart.getChart(document.getElementById(id));
            return {y: chart.options.scales.y.position, reverse: chart.options.scales.x.reverse}; }""",
        chart_id,
    )
    assert scales == {"y": "right", "reverse": True}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "strategy_objective_ar.png"), full_page=True)
    assert_no_problems(page)

    page.locator('[data-testid="language-switch"]').click()
    expect_language(page, "en")
    expect(page.locator('[data-testid="objective-title"]')).to_have_text("Safe drinking water")
    expect(page.locator(f'[data-testid="objective-project"][data-project="{scene.project.pk}"]')).to_be_visible()
    expect(page.locator('[data-testid="money-budget"]')).to_have_text("10,500.000 KWD")
    expect(page.locator("#money-heading")).to_have_text("The money behind it")
    expect_canvas_drawn(page, chart_id, more_than=500)
    scales = page.evaluate(
        "(id) => window.Chart.getChart(document.getElementById(id)).options.scales.y.position", chart_id
    )
    assert scales == "left"
    page.screenshot(path=str(SCREENSHOTS / "strategy_objective_en.png"), full_page=True)
    assert_no_problems(page)

    # The indicator page lists the project's contributing value with its report.
    page.locator(
        f'[data-testid="indicator-block"] h3 a[href="/strategy/indicators/{scene.ministry.indicator.pk}/"]'
    ).click()
    expect(page.locator('[data-testid="contributor-value"]')).to_have_count(1)
    expect(page.locator('[data-testid="rule-text"]')).to_contain_text("added up")
    page.screenshot(path=str(SCREENSHOTS / "strategy_indicator_en.png"), full_page=True)
    assert_no_problems(page)

    page.goto(f"/strategy/plans/{scene.ministry.plan.pk}/")
    expect(page.locator('[data-testid="tree-objective"]')).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "strategy_plan_en.png"), full_page=True)
    assert_no_problems(page)


def test_a_charity_admin_links_a_project_and_enters_an_indicator_value(open_page):
    world = World()
    ministry = ministry_plan(world)
    charity = charity_plan(world, ministry)
    project = world.project_a

    page = open_page(locale="en-US")
    sign_in(page, world.najat)
    page.locator('[data-testid="language-switch"]').click()
    expect_language(page, "en")
    page.goto(f"/projects/{project.pk}/")
    form = page.locator('[data-testid="project-objectives-form"]')
    form.locator("select").select_option([str(ministry.objective.pk), str(charity.objective.pk)])
    form.locator('button[type="submit"]').click()
    links = page.locator('[data-testid="project-objectives"] li')
    expect(links).to_have_count(2)
    expect(page.locator('[data-testid="project-objectives"]')).to_contain_text("Wells in Africa")
    assert_no_problems(page)

    licensed(project)
    page.goto(f"/projects/{project.pk}/")
    page.locator('[data-testid="project-indicator-add"]').click()
    indicator_form = page.locator('[data-testid="indicator-form"]')
    indicator_form.locator('[name="code"]').fill("W")
    indicator_form.locator('[name="name_en"]').fill("Wells drilled")
    indicator_form.locator('[name="unit"]').select_option("facilities")
    indicator_form.locator('[name="feeds"]').select_option(str(ministry.indicator.pk))
    indicator_form.locator('button[type="submit"]').click()
    expect(page.locator('[data-testid="project-indicator"][data-code="W"]')).to_be_visible()
    page.locator('[data-testid="project-strategy"]').screenshot(path=str(SCREENSHOTS / "strategy_project_en.png"))
    assert_no_problems(page)

    page.goto(f"/projects/{project.pk}/reports/new/")
    field = page.locator('[data-testid="report-indicator"][data-code="W"] input[type="text"]')
    field.fill("many")
    page.locator('[data-testid="report-form"] button[type="submit"]').click()
    expect(page.locator('[data-testid="report-indicator"][data-code="W"] .invalid-feedback')).to_contain_text("W")
    page.screenshot(path=str(SCREENSHOTS / "strategy_report_form_en.png"), full_page=True)
    assert not IndicatorValue.objects.exists()
    page.locator('[data-testid="report-indicator"][data-code="W"] input[type="text"]').fill("4")
    page.locator('[data-testid="report-form"] button[type="submit"]').click()
    expect(page.locator('[data-testid="report-indicator-value"][data-code="W"]')).to_contain_text("4")
    page.screenshot(path=str(SCREENSHOTS / "strategy_report_values_en.png"), full_page=True)
    assert_no_problems(page)
    assert IndicatorValue.objects.get().value_milli == 4000
