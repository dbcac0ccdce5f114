"""End-to-end, in Arabic: the accreditation gate and sanctions screening in a real browser.

The partner implementing najat's project holds MoFA's accreditation only: her submission is refused and the
refusal names the missing MOSA accreditation. MOSA's accreditation officer records it on the partner's page.
A director of the partner bears the name of a person on the UN list (a name only: another date of birth, the
same nationality): her next submission screens the partner, finds the possible match and is refused, naming
the list entry. The ministry's reviewer reads the hit with its explanation and clears it with a reason; the
submission then goes through.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from shafaf.accounts.choices import Authority
from shafaf.partners import services as partner_services
from shafaf.partners.models import Accreditation, ScreeningHit
from shafaf.partners.sanctions import sanctions_import
from shafaf.partners.screening import reset_index_cache
from shafaf.projects.choices import ProjectStatus
from shafaf.projects.models import Project
from tests.e2e.test_browser import SCREENSHOTS, assert_no_problems, expect_language, sign_in
from tests.e2e.test_lifecycle import expect_status
from tests.factories import World, attach_required_documents

pytestmark = pytest.mark.e2e

UN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:00Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID><FIRST_NAME>ABDUL RAHMAN</FIRST_NAME><SECOND_NAME>YASIN</SECOND_NAME>
      <THIRD_NAME>AL-KHALIDI</THIRD_NAME>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.901</REFERENCE_NUMBER>
      <LISTED_ON>2010-01-01</LISTED_ON>
      <NAME_ORIGINAL_SCRIPT>عبد الرحمن ياسين الخالدي</NAME_ORIGINAL_SCRIPT>
      <NATIONALITY><VALUE>Sudan</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Abdulrahman al-Khalidi</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>1968</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES/>
</CONSOLIDATED_LIST>
""".encode()


def open_signed_in(open_page, user) -> Page:
    page = open_page(locale="ar-KW")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, user)
    expect_language(page, "ar")
    return page


def submit(page: Page, project: Project) -> int:
    page.goto(f"/projects/{project.pk}/")
    form = page.locator('[data-testid="action-submit"]')
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/submit/")) as response:
        form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    return response.value.status


def test_the_gate_and_screening_in_arabic(open_page):
    world = World()
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOSA).delete()
    project = world.project_a
    attach_required_documents(project, world.najat)

    # 1. najat's submission is refused: the partner lacks MOSA's accreditation, and the page says so.
    najat = open_signed_in(open_page, world.najat)
    assert submit(najat, project) == 409
    error = najat.locator('[data-testid="action-error"]')
    expect(error).to_contain_text("لا يوجد اعتماد للشريك من وزارة الشؤون الاجتماعية")
    expect_status(najat, ProjectStatus.DRAFT)
    assert_no_problems(najat)

    # 2. MOSA's accreditation officer records the accreditation on the partner's page.
    officer = open_signed_in(open_page, world.mosa_officer)
    officer.goto(f"/partners/{world.partner.pk}/")
    expect(officer.locator('[data-testid="gate-problems"]')).to_contain_text("وزارة الشؤون الاجتماعية")
    officer.locator("details:has([data-testid=accreditation-form]) > summary").click()
    form = officer.locator('[data-testid="accreditation-form"]')
    form.locator("#id_accreditation-number").fill("MOSA-2027-0042")
    form.locator("#id_accreditation-valid_from").fill("2026-01-01")
    form.locator("#id_accreditation-valid_until").fill("2030-12-31")
    with officer.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(officer.locator('[data-testid="accreditations-MOSA"]')).to_contain_text("MOSA-2027-0042")
    expect(officer.locator('[data-testid="gate-problems"]')).to_have_count(0)
    assert Accreditation.objects.filter(partner=world.partner, authority=Authority.MOSA, status="active").exists()
    assert_no_problems(officer)

    # 3. The UN list is loaded; the partner's new director bears a listed name. The submission screens the
    #    partner and is refused, naming the list entry.
    sanctions_import(actor=world.mosa_officer, source="un", path_or_file=UN_XML, rescreen=False)
    reset_index_cache()
    partner_services.officer_add(
        actor=world.mosa_officer,
        partner=world.partner,
        role="director",
        name_ar="عبدالرحمن ياسين الخالدى",
        name_en="Abdelrahman Yassin Khalidi",
        nationality="SD",
        date_of_birth=dt.date(1968, 5, 2),
    )
    assert submit(najat, project) == 409
    expect(najat.locator('[data-testid="action-error"]')).to_contain_text("QDi.901")
    hit = ScreeningHit.objects.get(partner=world.partner, status="open", entry__entry_id="QDi.901")

    # 4. The reviewer reads the hit and its explanation, and clears it with a reason.
    reviewer = open_signed_in(open_page, world.reviewer)
    reviewer.goto("/screening/hits/")
    reviewer.locator(f'a[href="/screening/hits/{hit.pk}/"]').first.click()
    expect(reviewer.locator('[data-testid="hit-explanation"]')).to_contain_text("QDi.901")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reviewer.screenshot(path=str(SCREENSHOTS / "screening-hit-ar.png"), full_page=True)
    decision = reviewer.locator('[data-testid="hit-decision-form"]')
    decision.locator("textarea").fill("شخص آخر: جواز السفر المرفق يثبت اختلاف الهوية وتاريخ الميلاد.")
    with reviewer.expect_navigation():
        decision.locator('[data-testid="hit-clear"]').click()
    expect(reviewer.locator('[data-testid="hit-decision"]')).to_contain_text("جواز السفر")
    hit.refresh_from_db()
    assert hit.status == "cleared" and hit.decided_by == world.reviewer
    assert_no_problems(reviewer)

    # 5. najat submits again: the cleared hit is remembered for this list version, the project goes through.
    assert submit(najat, project) == 302
    expect_status(najat, ProjectStatus.SUBMITTED)
    assert_no_problems(najat)
