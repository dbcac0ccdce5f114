"""End-to-end: a project's life in Arabic, in a real browser, between a charity and the ministry.

najat (admin of charity A) creates a project, attaches its required documents and submits it; the ministry's
reviewer starts the review and requests changes; najat edits and resubmits; the reviewer approves it (the
project is licensed); najat starts it, plans a phase and reports it done, and submits a progress report that
the reviewer accepts; najat completes the project; the reviewer closes it. Each sees the other's decisions on
the project's timeline.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from shafaf.audit.models import AuditEvent
from shafaf.finance.budgets import admin_share_licence_set
from shafaf.projects.choices import ProjectStatus
from shafaf.projects.models import Project
from shafaf.projects.selectors import missing_project_documents
from tests.e2e.test_browser import (
    PROJECTS,
    SCREENSHOTS,
    _path,
    assert_no_problems,
    expect_language,
    fill_project_form,
    sign_in,
    submit_project_form,
    url,
)
from tests.factories import PDF_BYTES, World

pytestmark = pytest.mark.e2e

REQUEST = "يرجى توضيح عدد المستفيدين وإرفاق مخطط الموقع."


def open_signed_in(open_page, user) -> Page:
    page = open_page(locale="ar-KW")
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of data-confirm
    sign_in(page, user)
    expect_language(page, "ar")
    return page


def expect_status(page: Page, status: ProjectStatus) -> None:
    badge = page.locator('[data-testid="project-status"]')
    expect(badge).to_have_attribute("data-status", status.value)
    with translation.override("ar"):
        expect(badge).to_have_text(str(status.label))


def take(page: Page, action: str, *, reason: str | None = None) -> None:
    """Takes one workflow action from the project page (its form's button), and waits for the page after it."""
    form = page.locator(f'[data-testid="action-{action}"]')
    expect(form).to_be_visible()
    if reason is not None:
        form.locator("textarea").fill(reason)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/{action}/")) as response:
        form.locator("button[type=submit]").click()
    assert response.value.status == 302, (action, response.value.status)
    expect(page.locator(".alert-success")).to_be_visible()


def actions_offered(page: Page) -> list[str]:
    forms = page.locator('[data-testid="project-actions"] form')
    return [name.removeprefix("action-") for name in forms.evaluate_all("els => els.map(e => e.dataset.testid)")]


def test_a_project_from_draft_to_closure_in_arabic(open_page):
    world = World()
    najat_page = open_signed_in(open_page, world.najat)

    # 1. najat drafts the project.
    najat_page.goto("/projects/new/")
    fill_project_form(najat_page, PROJECTS["ar"])
    najat_page.select_option("#id_implementing_partner", str(world.partner.pk))  # an external project's partner
    submit_project_form(najat_page)
    expect(najat_page).to_have_url(url(r"/projects/\d+/$"))
    project = Project.objects.get(pk=int(_path(najat_page).strip("/").split("/")[-1]))
    project_url = f"/projects/{project.pk}/"
    expect_status(najat_page, ProjectStatus.DRAFT)
    assert actions_offered(najat_page) == ["submit", "cancel"]

    # 1b. She attaches the documents its MOSA project model requires, through the upload form.
    for item in missing_project_documents(project):
        najat_page.locator('[data-testid="project-documents"] summary').click()
        najat_page.select_option("#id_document-kind", item["kind"])
        najat_page.fill("#id_document-title", item["label_ar"])
        najat_page.set_input_files(
            "#id_document-file",
            files=[{"name": f"{item['kind']}.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
        )
        with najat_page.expect_navigation():
            najat_page.locator('[data-testid="document-form"] button[type=submit]').click()
    assert missing_project_documents(project) == []
    expect(najat_page.locator('[data-testid="document-row"]')).not_to_have_count(0)

    # 1c. She enters its budget on the project's budget page (the rulebook checks it, and the administrative
    #     share against the licence the ministry gave the charity, at approval).
    admin_share_licence_set(actor=world.ministry_admin, charity=world.charity_a, percent="12.5")
    najat_page.locator('[data-testid="project-budget-link"]').click()
    najat_page.locator('[data-testid="budget-create"]').click()
    for index, (category, name, amount) in enumerate(
        [("programme", "حفر البئر", "9000.000"), ("administration", "مصاريف إدارية", "1000.000")]
    ):
        najat_page.select_option(f"#id_lines-{index}-category", category)
        najat_page.fill(f"#id_lines-{index}-name_ar", name)
        najat_page.fill(f"#id_lines-{index}-amount", amount)
    with najat_page.expect_navigation():
        najat_page.locator('[data-testid="budget-save"]').click()
    expect(najat_page.locator('[data-testid="budget-total"]')).to_have_text("10,000.000 KWD")
    expect(najat_page.locator('[data-testid="admin-share-percent"]')).to_have_text("10.00 %")
    assert_no_problems(najat_page)
    najat_page.goto(project_url)

    # 2. She submits it; it can no longer be edited.
    take(najat_page, "submit")
    expect_status(najat_page, ProjectStatus.SUBMITTED)
    expect(najat_page.locator('[data-testid="edit-project"]')).to_have_count(0)
    assert actions_offered(najat_page) == ["cancel"]

    # 3. The reviewer finds it in the ministry's queue, starts the review and requests changes.
    reviewer_page = open_signed_in(open_page, world.reviewer)
    expect(reviewer_page.locator('[data-testid="review-queue-count"]')).to_have_text("1")
    reviewer_page.click('[data-testid="nav-review-queue"]')
    expect(reviewer_page).to_have_url(url(r"/projects/review/$"))
    expect_language(reviewer_page, "ar")
    queue = reviewer_page.locator('[data-testid="review-queue"]')
    expect(queue).to_contain_text(project.reference)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reviewer_page.screenshot(path=str(SCREENSHOTS / "review-queue-ar.png"), full_page=True)
    queue.get_by_role("link", name=PROJECTS["ar"]["title_ar"]).click()
    expect(reviewer_page).to_have_url(url(re.escape(project_url) + "$"))
    take(reviewer_page, "start-review")
    expect_status(reviewer_page, ProjectStatus.UNDER_REVIEW)
    assert actions_offered(reviewer_page) == ["request-changes", "approve", "reject"]
    reviewer_page.screenshot(path=str(SCREENSHOTS / "project-under-review-ar.png"), full_page=True)
    take(reviewer_page, "request-changes", reason=REQUEST)
    expect_status(reviewer_page, ProjectStatus.CHANGES_REQUESTED)
    expect(reviewer_page.locator('[data-testid="timeline-reason"]')).to_have_text(REQUEST)

    # 4. najat sees the request on her home page and on the timeline, edits the project and resubmits it.
    najat_page.goto("/")
    expect(najat_page.locator('[data-testid="changes-requested-count"]')).to_have_text("1")
    najat_page.goto(project_url)
    expect_status(najat_page, ProjectStatus.CHANGES_REQUESTED)
    expect(najat_page.locator('[data-testid="project-timeline"]')).to_contain_text(REQUEST)
    najat_page.click('[data-testid="edit-project"]')
    expect(najat_page).to_have_url(url(re.escape(project_url) + "edit/$"))
    najat_page.fill("#id_beneficiary_count", "320")
    submit_project_form(najat_page)
    expect(najat_page).to_have_url(url(re.escape(project_url) + "$"))
    take(najat_page, "submit")
    expect_status(najat_page, ProjectStatus.SUBMITTED)

    # 5. The reviewer reviews it again and approves it: the project is licensed.
    reviewer_page.goto(project_url)
    take(reviewer_page, "start-review")
    take(reviewer_page, "approve")
    expect_status(reviewer_page, ProjectStatus.APPROVED)
    project.refresh_from_db()
    assert re.fullmatch(r"MOSA-\d{4}-000001", project.licence_number), project.licence_number
    expect(reviewer_page.locator('[data-testid="licence-number"]')).to_have_text(project.licence_number)
    assert actions_offered(reviewer_page) == ["suspend"]

    # 6. najat starts the execution and, at its end, marks the project completed.
    najat_page.goto(project_url)
    expect(najat_page.locator('[data-testid="licence-number"]')).to_have_text(project.licence_number)
    take(najat_page, "start")
    expect_status(najat_page, ProjectStatus.IN_EXECUTION)

    # 6b. She plans a phase and reports it done, then writes the first progress report; the ministry accepts it.
    phases = najat_page.locator('[data-testid="project-phases"]')
    phases.locator("summary").click()
    najat_page.fill("#id_phase-name_ar", "حفر البئر وتركيب المضخة")
    najat_page.fill("#id_phase-planned_start", project.planned_start.isoformat())
    najat_page.fill("#id_phase-planned_end", project.planned_end.isoformat())
    najat_page.fill("#id_phase-weight", "1")
    with najat_page.expect_navigation():
        phases.locator('[data-testid="phase-form"] button[type=submit]').click()
    phase = project.phases.get()
    najat_page.fill(f"#id_p{phase.pk}-percent_complete", "100")
    najat_page.select_option(f"#id_p{phase.pk}-status", "done")
    with najat_page.expect_navigation():
        najat_page.locator('[data-testid="phase-progress-form"] button[type=submit]').click()
    phase.refresh_from_db()
    assert (phase.percent_complete, phase.status) == (100, "done")
    expect(najat_page.locator('[data-testid="project-progress"]')).to_contain_text("100")

    najat_page.goto(f"{project_url}reports/new/")
    najat_page.fill("#id_narrative_ar", "اكتمل حفر البئر وتركيب المضخة، وبدأ ضخ المياه إلى القرية.")
    with najat_page.expect_navigation():
        najat_page.locator('[data-testid="report-form"] button[type=submit]').click()
    with najat_page.expect_navigation():
        najat_page.locator('[data-testid="report-submit"] button[type=submit]').click()
    expect(najat_page.locator('[data-testid="report-status"]')).to_have_attribute("data-status", "submitted")
    report_url = _path(najat_page)
    reviewer_page.goto(report_url)
    with reviewer_page.expect_navigation():
        reviewer_page.locator('[data-testid="report-review"] button.btn-success').click()
    expect(reviewer_page.locator('[data-testid="report-status"]')).to_have_attribute("data-status", "accepted")
    report = project.progress_reports.get()
    assert report.phase_progress == {str(phase.pk): 100}
    assert report.reviewed_by == world.reviewer

    najat_page.goto(project_url)
    take(najat_page, "complete")
    expect_status(najat_page, ProjectStatus.COMPLETED)
    assert actions_offered(najat_page) == []

    # 7. The ministry closes it; nobody can do anything more with it.
    reviewer_page.goto(project_url)
    take(reviewer_page, "close")
    expect_status(reviewer_page, ProjectStatus.CLOSED)
    expect(reviewer_page.locator('[data-testid="project-actions"]')).to_have_count(0)

    # The timeline holds the whole story, in order, and so do the history and the audit chain.
    steps = [
        "submit",
        "start-review",
        "request-changes",
        "submit",
        "start-review",
        "approve",
        "start",
        "complete",
        "close",
    ]
    timeline = reviewer_page.locator('[data-testid="timeline-transition"]')
    expect(timeline).to_have_count(len(steps))
    assert timeline.evaluate_all("els => els.map(e => e.dataset.action)") == steps
    expect(reviewer_page.locator('[data-testid="timeline-record"]')).to_have_count(2)  # created, edited
    reports = reviewer_page.locator('[data-testid="timeline-report"]')
    assert reports.evaluate_all("els => els.map(e => e.dataset.step)") == ["submitted", "accepted"]
    checks = reviewer_page.locator('[data-testid="timeline-check"]')
    assert checks.count() == project.rulebook_runs.count() >= 3  # at both submissions and at approval
    project.refresh_from_db()
    assert project.status == ProjectStatus.CLOSED
    history = list(project.transitions.values_list("action", "actor__username"))
    charity, ministry = "najat", "reviewer"
    assert history == [
        ("submit", charity),
        ("start-review", ministry),
        ("request-changes", ministry),
        ("submit", charity),
        ("start-review", ministry),
        ("approve", ministry),
        ("start", charity),
        ("complete", charity),
        ("close", ministry),
    ]
    events = AuditEvent.objects.filter(subject_type="projects.project", subject_id=str(project.pk))
    assert [e for e in events.order_by("seq").values_list("action", flat=True) if e != "project.rulebook_run"] == [
        "project.create",
        *(f"project.{step}" for step in steps[:3]),
        "project.update",
        *(f"project.{step}" for step in steps[3:]),
    ]
    assert events.get(action="project.request-changes").reason == REQUEST
    reviewer_page.screenshot(path=str(SCREENSHOTS / "project-closed-timeline-ar.png"), full_page=True)
    for page in (najat_page, reviewer_page):
        expect_language(page, "ar")
        assert_no_problems(page)
