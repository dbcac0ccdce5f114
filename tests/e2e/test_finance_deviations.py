"""End-to-end, in Arabic: a budget deviation from its detection to the ministry's decision in a real browser.

Charity A's project spends 120 % of its first budget line (seeded through the models and the detection, as the
expenditure service does). najat reads the warning-free variance table with the line beyond its threshold and the
open deviation, and writes her justification. The ministry's reviewer finds it at the top of the deviation queue,
rejects it with a note: the line is blocked and najat sees why. najat justifies it again with the tender documents;
the reviewer approves it, and the line is free again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from shafaf.finance import deviations
from shafaf.finance.models import Deviation
from shafaf.finance.tests.helpers_deviations import line, set_budget, spend
from tests.e2e.test_browser import SCREENSHOTS, _ar, assert_no_problems, expect_language, sign_in
from tests.factories import World

pytestmark = pytest.mark.e2e

FIRST = "ارتفعت أسعار الإسمنت بمقدار الثلث بعد الفيضانات، وفواتير المقاول مرفقة بهذا التبرير."
SECOND = FIRST + " وأرفقنا محضر المناقصة ومقارنة العروض الثلاثة."
REJECTION = "لم تُطرح مناقصة لشراء الإسمنت؛ أرفقوا محضر المناقصة."


def open_signed_in(open_page, user) -> Page:
    page = open_page(locale="ar-KW")
    sign_in(page, user)
    expect_language(page, "ar")
    return page


def justify(page: Page, project, deviation, text: str) -> None:
    page.goto(f"/projects/{project.pk}/deviations/{deviation.pk}/")
    form = page.locator('[data-testid="justify-form"]')
    form.locator("textarea").fill(text)
    with page.expect_navigation():
        form.locator('[data-testid="justify-submit"]').click()
    expect(page.locator('[data-testid="deviation-status"]')).to_have_attribute("data-status", "justified")
    expect(page.locator('[data-testid="deviation-status"]')).to_have_text(_ar("Awaiting the ministry's decision"))


def decide(page: Page, deviation, decision: str, note: str = "") -> None:
    page.goto("/")
    page.locator('[data-testid="nav-deviation-queue"]').click()
    first = page.locator('[data-testid="queue-row"]').first
    expect(first).to_have_attribute("data-deviation", str(deviation.pk))
    expect(first).to_have_attribute("data-status", "justified")
    expect(first).to_contain_text("120.00 %")
    first.locator("a").click()
    form = page.locator('[data-testid="decide-form"]')
    form.locator(f'input[name="decision"][value="{decision}"]').check()
    if note:
        form.locator("textarea").fill(note)
    with page.expect_navigation():
        form.locator('[data-testid="decide-submit"]').click()


def test_a_deviation_from_detection_to_the_ministrys_decision_in_arabic(open_page):
    world = World()
    project = world.project_a
    set_budget(world, project, {"1": 1_000_000, "2": 9_000_000})
    spend(world, project, "1", 1_200_000)
    deviation = Deviation.objects.get(project=project)
    assert deviation.status == "open"

    # 1. najat sees the line beyond its threshold and the open deviation, and justifies it.
    najat = open_signed_in(open_page, world.najat)
    najat.goto(f"/projects/{project.pk}/deviations/")
    expect(najat.locator('[data-testid="variance-line"][data-code="1"]')).to_have_class("table-danger")
    expect(najat.locator('[data-testid="variance-line"][data-code="1"] [data-testid="line-ratio"]')).to_have_text(
        "120.00 %"
    )
    row = najat.locator(f'[data-testid="deviation-row"][data-deviation="{deviation.pk}"]')
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text(_ar("Awaiting justification"))
    short = najat.goto(f"/projects/{project.pk}/deviations/{deviation.pk}/")
    assert short.status == 200
    form = najat.locator('[data-testid="justify-form"]')
    form.locator("textarea").fill("قصير")
    form.locator("textarea").evaluate("element => element.removeAttribute('minlength')")
    with najat.expect_navigation():
        form.locator('[data-testid="justify-submit"]').click()
    expect(najat.locator('[data-field-error="text"]')).to_be_visible()
    justify(najat, project, deviation, FIRST)
    assert_no_problems(najat)

    # 2. The reviewer finds it first in the queue and rejects it with a note: spending on the line is blocked.
    reviewer = open_signed_in(open_page, world.reviewer)
    decide(reviewer, deviation, "reject", REJECTION)
    expect(reviewer.locator('[data-testid="deviation-status"]')).to_have_attribute("data-status", "rejected")
    expect(reviewer.locator('[data-testid="spending-blocked"]')).to_be_visible()
    assert deviations.spending_blocked(project, line(project, "1"))
    assert_no_problems(reviewer)

    # 3. najat reads the rejection and why, and justifies again.
    najat.goto(f"/projects/{project.pk}/deviations/")
    expect(najat.locator('[data-testid="spending-blocked"]')).to_be_visible()
    najat.goto(f"/projects/{project.pk}/deviations/{deviation.pk}/")
    expect(najat.locator('[data-testid="deviation-note"]')).to_contain_text("محضر المناقصة")
    justify(najat, project, deviation, SECOND)

    # 4. The reviewer approves: the spending so far is accepted and the line is free again.
    decide(reviewer, deviation, "approve")
    status = reviewer.locator('[data-testid="deviation-status"]')
    expect(status).to_have_attribute("data-status", "approved")
    expect(status).to_have_text(_ar("Approved"))
    expect(reviewer.locator('[data-testid="deviation-approved"]')).to_contain_text("1,200.000")
    history = reviewer.locator('[data-testid="history-event"]')
    expect(history).to_have_count(5)  # detected, justified, rejected, justified, approved
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reviewer.screenshot(path=str(SCREENSHOTS / "deviation-approved-ar.png"), full_page=True)
    assert_no_problems(reviewer)
    deviation.refresh_from_db()
    assert (deviation.status, deviation.approved_spent_minor, deviation.decided_by) == (
        "approved",
        1_200_000,
        world.reviewer,
    )
    assert deviations.spending_blocked(project, line(project, "1")) is None
