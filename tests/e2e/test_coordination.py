"""End-to-end, in Arabic: the same project submitted by two charities, from the overlap found at submission to the
ministry's decision, in a real browser.

Charity A's well project is licensed. Charity B's resubmission of it — reworded, in Arabic only, a little later and
a little bigger, by the same partner a few hundred metres away — is submitted by rahma in the browser: its page shows
the overlap with charity A's project, with the reasons and their weights. The ministry's reviewer cannot approve it
while the overlap is undecided; he finds it in the coordination queue, compares both projects side by side and
decides "distinct" with a reason: the approval now goes through. A second resubmission is decided "duplicate": it is
rejected, and rahma reads why."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from shafaf.coordination.choices import FlagStatus
from shafaf.coordination.models import Flag, OverlapCheck
from shafaf.coordination.tests.app_helpers import WELL_B, WELL_SITE_NEARBY, new_project
from shafaf.projects import services as project_services
from shafaf.projects.choices import ProjectStatus
from tests.e2e.test_browser import SCREENSHOTS, _ar, assert_no_problems, expect_language, sign_in
from tests.factories import World, attach_required_documents, budget, make_project

pytestmark = pytest.mark.e2e

DISTINCT = "مشروعان مختلفان: الأول في قرية النور شمال الخرطوم والثاني في حي النور جنوبها، وقد تحققنا من الموقعين."
DUPLICATE = "المشروع نفسه قُدم مرة ثانية بصياغة أخرى؛ تنفذه جمعية النور."


def open_signed_in(open_page, user) -> Page:
    page = open_page(locale="ar-KW")
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of data-confirm
    sign_in(page, user)
    expect_language(page, "ar")
    return page


def licensed_project(world):
    """Charity A's well project, submitted, reviewed and approved through the workflow."""
    project = new_project(world.najat, world.charity_a, implementing_partner=world.partner)
    budget(world, project)
    attach_required_documents(project, world.najat)
    project = project_services.project_transition(actor=world.najat, project=project, action="submit")
    project = project_services.project_transition(actor=world.reviewer, project=project, action="start-review")
    project = project_services.project_transition(actor=world.reviewer, project=project, action="approve")
    assert project.status == ProjectStatus.APPROVED
    return project


def resubmission_draft(world, **fields):
    """Charity B's draft of the same work, ready to submit (budget and documents attached)."""
    project = make_project(
        world.rahma,
        world.charity_b,
        locations=WELL_SITE_NEARBY,
        implementing_partner=world.partner,
        **{**WELL_B, **fields},
    )
    budget(world, project)
    attach_required_documents(project, world.rahma)
    return project


def take(page: Page, action: str, *, expect_status: int = 302):
    form = page.locator(f'[data-testid="action-{action}"]')
    expect(form).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/{action}/")) as response:
        form.locator("button[type=submit]").click()
    assert response.value.status == expect_status, (action, response.value.status)
    page.wait_for_load_state()


def decide_from_the_queue(page: Page, flag: Flag, decision: str, reason: str, *, duplicate=None) -> None:
    page.goto("/")
    page.locator('[data-testid="nav-coordination"]').click()
    row = page.locator(f'[data-testid="flag-row"][data-flag="{flag.pk}"]')
    expect(row).to_have_attribute("data-status", "open")
    expect(page.locator('[data-testid="flag-row"]').first).to_have_attribute("data-status", "open")
    row.locator("a").first.click()
    expect(page.locator('[data-testid="flag-status"]')).to_have_attribute("data-status", "open")
    form = page.locator('[data-testid="decide-form"]')
    form.locator(f'input[name="decide-decision"][value="{decision}"]').check()
    if duplicate is not None:
        form.locator(f'input[name="decide-duplicate_project"][value="{duplicate.pk}"]').check()
    form.locator("textarea").fill(reason)
    with page.expect_navigation():
        form.locator('[data-testid="decide-submit"]').click()
    expect(page.locator('[data-testid="flag-status"]')).to_have_attribute("data-status", "decided")
    expect(page.locator('[data-testid="flag-decision"]')).to_have_attribute("data-decision", decision)


def test_a_resubmitted_project_is_stopped_until_the_ministry_decides_in_arabic(open_page):
    world = World()
    licensed = licensed_project(world)
    draft = resubmission_draft(world)

    # 1. rahma submits charity B's resubmission in the browser: the page shows the overlap and why.
    rahma = open_signed_in(open_page, world.rahma)
    rahma.goto(f"/projects/{draft.pk}/")
    take(rahma, "submit")
    expect(rahma.locator('[data-testid="project-status"]')).to_have_attribute("data-status", "submitted")
    panel = rahma.locator('[data-testid="coordination-panel"]')
    expect(panel).to_be_visible()
    overlap = panel.locator(f'[data-testid="coordination-overlap"][data-project="{licensed.pk}"]')
    expect(overlap).to_be_visible()
    expect(overlap).to_contain_text(licensed.reference)
    expect(overlap).to_contain_text(licensed.title_ar)
    expect(overlap.locator('[data-testid="overlap-level"]')).to_have_text(
        re.compile(f"{re.escape(_ar('Likely duplicate'))}|{re.escape(_ar('Possible overlap'))}")
    )
    reasons = overlap.locator('[data-testid="reason"]')
    assert reasons.count() >= 3
    weights = [float(w) for w in reasons.evaluate_all("els => els.map(e => e.dataset.weight)")]
    assert weights == sorted(weights, key=abs, reverse=True) and max(weights) > 0
    assert re.search(r"[\u0600-\u06FF]", reasons.first.inner_text())  # the sentences in the page's language
    assert reasons.locator(".text-bg-success").count() >= 1  # a positive weight, in green
    expect(panel.locator('[data-testid="coordination-blocking"]')).to_be_visible()
    check = OverlapCheck.objects.filter(project=draft).first()
    assert check is not None and check.trigger == "submission" and check.overlaps >= 1
    flag = Flag.objects.get(project_a=licensed, project_b=draft)
    assert flag.status == FlagStatus.OPEN
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    rahma.screenshot(path=str(SCREENSHOTS / "coordination-overlap-ar.png"), full_page=True)
    # Of charity A's project, rahma reads its reference, title, country and sector, nothing confidential.
    overlap.locator('[data-testid="overlap-flag-link"]').click()
    expect(rahma.locator('[data-testid="flag-status"]')).to_have_attribute("data-status", "open")
    expect(rahma.locator('[data-testid="decide-form"]')).to_have_count(0)
    expect(rahma.locator('[data-testid="side-row"][data-field="budget"]')).to_contain_text(
        _ar("Not shown to your charity")
    )
    assert_no_problems(rahma)

    # 2. The reviewer takes it into review; the approval is refused while the overlap is undecided.
    reviewer = open_signed_in(open_page, world.reviewer)
    reviewer.goto(f"/projects/{draft.pk}/")
    take(reviewer, "start-review")
    take(reviewer, "approve", expect_status=400)
    expect(reviewer.locator('[data-testid="action-error"]')).to_contain_text("تشابه")
    draft.refresh_from_db()
    assert draft.status == ProjectStatus.UNDER_REVIEW

    # 3. He finds the overlap in the coordination queue, compares both projects and decides "distinct".
    decide_from_the_queue(reviewer, flag, "distinct", DISTINCT)
    expect(reviewer.locator('[data-testid="decision-reason"]')).to_contain_text("قرية النور")
    expect(reviewer.locator('[data-testid="side-row"][data-field="partner"]')).to_contain_text("منظمة الأمل")
    reviewer.screenshot(path=str(SCREENSHOTS / "coordination-decided-ar.png"), full_page=True)

    # 4. The approval now goes through.
    reviewer.goto(f"/projects/{draft.pk}/")
    take(reviewer, "approve")
    expect(reviewer.locator('[data-testid="project-status"]')).to_have_attribute("data-status", "approved")
    assert_no_problems(reviewer)

    # 5. A second resubmission, decided "duplicate": it is rejected, and rahma reads why.
    second = resubmission_draft(
        world,
        title_ar="حفر عشرة آبار لمياه الشرب بقرية النور في ولاية الخرطوم",
        description_ar="مشروع حفر ١٠ آبار ارتوازية بعمق ١٢٠ متراً لتأمين مياه الشرب لخمسمئة أسرة في قرية النور.",
    )
    rahma.goto(f"/projects/{second.pk}/")
    take(rahma, "submit")
    expect(rahma.locator(f'[data-testid="coordination-overlap"][data-project="{licensed.pk}"]')).to_be_visible()
    expect(rahma.locator(f'[data-testid="coordination-internal"] [data-project="{draft.pk}"]')).to_be_visible()
    duplicate_flag = Flag.objects.get(project_a=licensed, project_b=second)
    decide_from_the_queue(reviewer, duplicate_flag, "duplicate", DUPLICATE, duplicate=second)
    expect(reviewer.locator('[data-testid="decision-duplicate"]')).to_have_text(second.reference)
    second.refresh_from_db()
    assert second.status == ProjectStatus.REJECTED
    rahma.goto(f"/projects/{second.pk}/")
    expect(rahma.locator('[data-testid="project-status"]')).to_have_attribute("data-status", "rejected")
    overlap = rahma.locator(f'[data-testid="coordination-overlap"][data-project="{licensed.pk}"]')
    expect(overlap.locator('[data-testid="overlap-decision"]')).to_have_text(_ar("Duplicate"))
    overlap.locator('[data-testid="overlap-flag-link"]').click()
    expect(rahma.locator('[data-testid="decision-reason"]')).to_contain_text("تنفذه جمعية النور")
    for page in (rahma, reviewer):
        expect_language(page, "ar")
        assert_no_problems(page)
