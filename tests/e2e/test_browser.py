"""End-to-end: a person in a real (headless Chromium) browser, against the live server.

Each test builds the personas of tests.factories.World in a transactional database that the live
server's thread shares, signs in through the real login form and the real two-factor page, and asserts
what the person sees (and what the database then holds).

Arabic strings are asserted through Django's catalogues (`_ar(...)`) so the tests hold before and after
locale/ar/LC_MESSAGES/django.mo exists; where the Arabic word itself matters it is asserted once the
compiled catalogue exists.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from shafaf.accounts.models import User
from shafaf.audit.models import AuditEvent
from shafaf.projects.choices import BeneficiaryGroup, ProjectModel, ProjectStatus
from shafaf.projects.models import Project
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.e2e

ARABIC_MO = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.mo"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ARABIC_LETTERS = re.compile(r"[\u0600-\u06FF]")


def _ar(message: str) -> str:
    with translation.override("ar"):
        return translation.gettext(message)


def _en(message: str) -> str:
    with translation.override("en"):
        return translation.gettext(message)


def url(path_pattern: str) -> re.Pattern:
    """A whole-URL pattern for a path on the live server (anchored, so "/" does not match "?next=/")."""
    return re.compile(r"^https?://[^/]+" + path_pattern)


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def expect_language(page: Page, language: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    stylesheet = "bootstrap.rtl.min.css" if language == "ar" else "bootstrap.min.css"
    expect(page.locator(f'link[rel="stylesheet"][href*="{stylesheet}"]')).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.body).direction") == ("rtl" if language == "ar" else "ltr")


_PAINTED = """(id) => { const c = document.getElementById(id); if (!c) { return 0; } const d = c.getContext('2d')
    .getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4)
    { if (d[i]) n++; } return n; }"""


def expect_canvas_drawn(page: Page, canvas_id: str, *, more_than: int) -> None:
    """A chart is drawn by a deferred script after the page has loaded: wait (as `expect` does, up to five
    seconds) until its canvas holds more than `more_than` painted pixels, rather than reading it once and racing
    the script."""
    page.wait_for_function(f"({_PAINTED})({canvas_id!r}) > {int(more_than)}", timeout=5000)


def assert_no_problems(page: Page) -> None:
    assert page.problems == [], page.problems


# --- two-factor ----------------------------------------------------------------------------------


def totp_code(secret: str, user: User) -> str:
    """The code an authenticator app shows now for this base32 key, one the server has not yet used.

    The server refuses a time step it has already accepted (replay protection), so a second sign-in
    within the same 30 s uses the next step, which its tolerance of one step still accepts.
    """
    key = base64.b32decode(secret)
    device = TOTPDevice.objects.filter(user=user).order_by("-confirmed").first()
    drift, last_t, tolerance = (device.drift, device.last_t, device.tolerance) if device else (0, -1, 1)
    totp = TOTP(key, step=30, t0=0, digits=6, drift=drift)
    now = totp.t()
    step = now if now > last_t else last_t + 1
    assert step <= now + tolerance, "no unused time step is left within the server's tolerance"
    return f"{hotp(key, step, digits=6):06d}"


def wrong_code(secret: str) -> str:
    totp = TOTP(base64.b32decode(secret))
    valid = set()
    for offset in range(-3, 4):
        totp.time = time.time() + 30 * offset
        valid.add(totp.token())
    return next(f"{n:06d}" for n in range(123456, 999999) if n not in valid)


def sign_in(page: Page, user: User, *, secret: str | None = None) -> str:
    """Signs in through the login form and the two-factor page; returns the TOTP key.

    On the first sign-in the two-factor page shows the key (enrolment); later sign-ins need `secret`.
    """
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click('[data-testid="login-submit"]')
    expect(page).to_have_url(url(r"/accounts/two-factor/\?next="))
    shown = page.locator('[data-testid="totp-secret"]')
    if shown.count():
        secret = shown.inner_text().strip()
    assert secret, "the two-factor page shows no key and none was given"
    page.fill("#id_token", totp_code(secret, user))
    page.locator("form:has(#id_token) button[type=submit]").click()
    expect(page).to_have_url(url(r"/$"))
    return secret


# --- 1. login and two-factor enrolment -----------------------------------------------------------


def test_charity_admin_signs_in_and_enrols_two_factor_then_lands_on_the_arabic_home_page(open_page):
    world = World()
    najat = world.najat
    assert not najat.is_demo and settings.SHAFAF_DEMO_MODE  # demo mode does not spare a real user
    page = open_page()  # the browser prefers English; the platform and najat's profile say Arabic

    page.goto("/projects/")
    expect(page).to_have_url(url(r"/accounts/login/\?next=/projects/"))

    page.goto("/accounts/login/")
    page.fill("#id_username", "najat")
    page.fill("#id_password", "not her password")
    with page.expect_response(lambda r: r.request.method == "POST") as failed:
        page.click('[data-testid="login-submit"]')
    assert failed.value.status == 400
    expect(page.locator(".alert-danger")).to_contain_text(
        _en("The username or password is not right. Both are case-sensitive.")
    )

    page.fill("#id_username", "najat")
    page.fill("#id_password", PASSWORD)
    page.click('[data-testid="login-submit"]')
    expect(page).to_have_url(url(r"/accounts/two-factor/\?next=/$"))
    expect_language(page, "ar")
    secret = page.locator('[data-testid="totp-secret"]').inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    expect(page.locator(".qr svg")).to_have_count(1)

    # Signed in but not verified: every page still leads back to the two-factor check.
    page.goto("/projects/")
    expect(page).to_have_url(url(r"/accounts/two-factor/\?next=/projects/$"))
    page.goto("/accounts/two-factor/")
    assert page.locator('[data-testid="totp-secret"]').inner_text().strip() == secret  # same key, not a new one

    page.fill("#id_token", wrong_code(secret))
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.locator("form:has(#id_token) button[type=submit]").click()
    assert refused.value.status == 400
    expect(page.locator('[data-field-error="token"]')).to_have_text(
        _ar("This code is not right, or it has expired. Try the newest code.")
    )
    assert not TOTPDevice.objects.get(user=najat).confirmed
    time.sleep(1.1)  # django-otp refuses any code for 1 s after a wrong one

    code = f"{TOTP(base64.b32decode(secret)).token():06d}"
    page.fill("#id_token", code)
    page.locator("form:has(#id_token) button[type=submit]").click()
    expect(page).to_have_url(url(r"/$"))
    assert _path(page) == "/"

    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect_language(page, "ar")
    expect(page.locator('[data-testid="profile-link"]')).to_have_text("najat")
    expect(page.locator('[data-testid="draft-count"]')).to_have_text("1")
    expect(page.locator('[data-testid="language-switch"]')).to_have_text("English")
    assert TOTPDevice.objects.get(user=najat).confirmed
    assert AuditEvent.objects.filter(action="user.two_factor_enrol", subject_id=str(najat.pk)).count() == 1
    assert AuditEvent.objects.filter(action="user.login", subject_id=str(najat.pk)).count() == 1
    assert_no_problems(page)


# --- 2. language switch, kept on the profile -----------------------------------------------------


def test_language_switch_turns_the_page_left_to_right_and_is_kept_on_the_profile(open_page):
    world = World()
    page = open_page()
    secret = sign_in(page, world.najat)
    expect_language(page, "ar")
    nav = page.locator("nav")
    expect(nav).to_contain_text(_ar("Projects"))
    if ARABIC_MO.exists():
        expect(nav).not_to_contain_text("Sign out")

    page.click('[data-testid="language-switch"]')
    expect(page).to_have_url(url(r"/$"))
    expect_language(page, "en")
    for label in ("Home", "Projects", "Organisations", "Sign out"):
        expect(nav).to_contain_text(label)
    expect(page.locator('[data-testid="language-switch"]')).to_have_text("العربية")
    najat = User.objects.get(pk=world.najat.pk)
    assert najat.language == "en"
    assert AuditEvent.objects.filter(action="user.set_language", subject_id=str(najat.pk)).count() == 1

    page.reload()
    expect_language(page, "en")
    page.goto("/projects/")
    expect_language(page, "en")
    expect(page.locator("h1")).to_have_text("Projects")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(url(r"/accounts/login/$"))
    page.goto("/")
    expect(page).to_have_url(url(r"/accounts/login/\?next=/$"))

    # A fresh browser that prefers Arabic and holds no language cookie: only the profile can say English.
    page = open_page(locale="ar-KW")
    page.goto("/accounts/login/")
    expect_language(page, "ar")
    sign_in(page, world.najat, secret=secret)
    expect_language(page, "en")
    expect(page.locator("nav")).to_contain_text("Sign out")
    assert User.objects.get(pk=world.najat.pk).language == "en"

    # And back: Arabic is kept the same way.
    page.click('[data-testid="language-switch"]')
    expect_language(page, "ar")
    assert User.objects.get(pk=world.najat.pk).language == "ar"
    assert_no_problems(page)


# --- 3. creating a project through the form, in Arabic and in English ----------------------------

PROJECTS = {
    "ar": {
        "title_ar": "بناء مدرسة ابتدائية في قرية الأمل",
        "title_en": "A primary school in Al-Amal village",
        "description_ar": "بناء ست فصول دراسية لثلاثمئة تلميذ.",
        "description_en": "Six classrooms for three hundred pupils.",
        "project_model": ProjectModel.CONSTRUCTION_EXTERNAL,
        "sector": "11220",
        "country": "YE",
        "beneficiary_group": BeneficiaryGroup.STUDENTS,
        "beneficiary_count": "300",
        "planned_start": "2027-02-01",
        "planned_end": "2027-11-30",
        "locations-0-admin_area_ar": "محافظة حضرموت",
        "locations-0-admin_area_en": "Hadramawt",
        "locations-0-latitude": "15.930000",
        "locations-0-longitude": "48.790000",
    },
    "en": {
        "title_ar": "كفالة أسر محتاجة في إربد",
        "title_en": "Sponsoring families in need in Irbid",
        "description_ar": "كفالة شهرية لمئتي أسرة.",
        "description_en": "A monthly sponsorship for two hundred families.",
        "project_model": ProjectModel.SPONSORSHIP_EXTERNAL,
        "sector": "16010",
        "country": "JO",
        "beneficiary_group": BeneficiaryGroup.FAMILIES,
        "beneficiary_count": "200",
        "planned_start": "2027-03-01",
        "planned_end": "2028-02-29",
        "locations-0-admin_area_ar": "محافظة إربد",
        "locations-0-admin_area_en": "Irbid Governorate",
    },
}
SELECTS = {"project_model", "sector", "country", "beneficiary_group"}


def fill_project_form(page: Page, data: dict) -> None:
    for name, value in data.items():
        field = page.locator(f"#id_{name}")
        if name in SELECTS:
            field.select_option(str(value))
        else:
            field.fill(str(value))


def submit_project_form(page: Page) -> int:
    with page.expect_response(lambda r: r.request.method == "POST" and "/projects/" in r.url) as response:
        page.click('[data-testid="project-save"]')
    return response.value.status


@pytest.mark.parametrize("language", ["ar", "en"])
def test_charity_admin_creates_a_project_through_the_form(open_page, language):
    world = World()
    page = open_page()
    sign_in(page, world.najat)
    page.goto("/projects/")
    page.click('[data-testid="new-project"]')
    expect(page).to_have_url(url(r"/projects/new/$"))
    if language == "en":
        page.click('[data-testid="language-switch"]')
        expect(page).to_have_url(url(r"/projects/new/$"))
    expect_language(page, language)
    gettext = _ar if language == "ar" else _en
    data = PROJECTS[language]
    expect(page.locator("#id_charity")).to_have_value(str(world.charity_a.pk))  # her only charity, hidden
    expect(page.locator("#id_currency")).to_have_value("KWD")
    projects_before = Project.objects.count()
    events_before = AuditEvent.objects.filter(action="project.create").count()

    # Bad input: the end before the start, and the number of beneficiaries left out.
    fill_project_form(page, {**data, "planned_end": "2026-12-31", "beneficiary_count": ""})
    assert submit_project_form(page) == 400
    expect(page.locator('[data-testid="project-form"]')).to_be_visible()
    expect_language(page, language)
    end_error = page.locator('[data-field-error="planned_end"]')
    count_error = page.locator('[data-field-error="beneficiary_count"]')
    expect(end_error).to_have_text(gettext("The planned end cannot be before the planned start."))
    expect(count_error).to_have_text(gettext("This field is required."))
    if language == "ar":
        assert ARABIC_LETTERS.search(count_error.inner_text())  # Django's own Arabic catalogue
        if ARABIC_MO.exists():
            assert ARABIC_LETTERS.search(end_error.inner_text()), end_error.inner_text()
    else:
        expect(end_error).to_have_text("The planned end cannot be before the planned start.")
        expect(count_error).to_have_text("This field is required.")
    expect(page.locator("#id_planned_end")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#id_title_ar")).to_have_value(data["title_ar"])  # nothing typed is lost
    expect(page.locator("#id_locations-0-admin_area_ar")).to_have_value(data["locations-0-admin_area_ar"])
    expect(page.locator("#id_country")).to_have_value(data["country"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"project-form-errors-{language}.png"), full_page=True)
    assert Project.objects.count() == projects_before
    assert AuditEvent.objects.filter(action="project.create").count() == events_before

    # Corrected, it saves.
    page.fill("#id_planned_end", data["planned_end"])
    page.fill("#id_beneficiary_count", data["beneficiary_count"])
    if language == "en":
        page.select_option("#id_implementing_partner", str(world.partner.pk))
    submit_project_form(page)
    expect(page).to_have_url(url(r"/projects/\d+/$"))
    expect_language(page, language)
    title = data["title_ar"] if language == "ar" else data["title_en"]
    expect(page.locator("h1")).to_have_text(title)
    status = page.locator('[data-testid="project-status"]')
    if language == "ar" and ARABIC_MO.exists():
        expect(status).to_have_text("مسودة")
    else:
        expect(status).to_have_text(gettext("Draft"))
    if language == "en":
        expect(status).to_have_text("Draft")
    area = data["locations-0-admin_area_ar"] if language == "ar" else data["locations-0-admin_area_en"]
    expect(page.locator(".list-group-item").first).to_contain_text(area)
    expect(page.locator(".alert-success")).to_have_text(gettext("Saved."))

    project = Project.objects.get(pk=int(_path(page).strip("/").split("/")[-1]))
    assert project.charity_id == world.charity_a.pk
    assert project.created_by_id == world.najat.pk
    assert project.status == ProjectStatus.DRAFT
    assert (project.title_ar, project.title_en) == (data["title_ar"], data["title_en"])
    assert (project.description_ar, project.description_en) == (data["description_ar"], data["description_en"])
    assert (project.project_model, project.sector, project.country) == (
        data["project_model"],
        data["sector"],
        data["country"],
    )
    assert project.beneficiary_group == data["beneficiary_group"]
    assert project.beneficiary_count == int(data["beneficiary_count"])
    assert project.planned_start == dt.date.fromisoformat(data["planned_start"])
    assert project.planned_end == dt.date.fromisoformat(data["planned_end"])
    assert project.currency == "KWD"
    assert project.implementing_partner_id == (world.partner.pk if language == "en" else None)
    expect(page.locator("main")).to_contain_text(project.reference)
    locations = list(project.locations.values("admin_area_ar", "admin_area_en", "latitude", "longitude"))
    expected_point = (
        (Decimal(data["locations-0-latitude"]), Decimal(data["locations-0-longitude"]))
        if "locations-0-latitude" in data
        else (None, None)
    )
    assert locations == [
        {
            "admin_area_ar": data["locations-0-admin_area_ar"],
            "admin_area_en": data["locations-0-admin_area_en"],
            "latitude": expected_point[0],
            "longitude": expected_point[1],
        }
    ]
    assert Project.objects.count() == projects_before + 1
    event = AuditEvent.objects.get(action="project.create", subject_id=str(project.pk))
    assert event.actor_id == world.najat.pk
    assert event.organization_id == world.charity_a.pk

    # The new draft is in her list, in her language.
    page.goto("/projects/")
    expect(page.locator("#results")).to_contain_text(project.reference)
    expect(page.locator("#results a", has_text=title)).to_have_count(1)
    assert_no_problems(page)


# --- 4. tenant isolation -------------------------------------------------------------------------


def test_another_charitys_admin_cannot_open_or_list_the_project(open_page):
    world = World()
    page = open_page()
    sign_in(page, world.rahma)
    project_a = world.project_a

    for url in (f"/projects/{project_a.pk}/", f"/projects/{project_a.pk}/edit/"):
        response = page.goto(url)
        assert response.status == 404, url
        expect_language(page, "ar")
        expect(page.locator("h1")).to_have_text(_ar("Not found"))
        expect(page.locator("main")).to_contain_text(_ar("There is nothing here, or you may not see it."))
        content = page.content()
        for leaked in (project_a.reference, project_a.title_ar, project_a.title_en):
            assert leaked not in content, (url, leaked)

    page.goto("/projects/")
    results = page.locator("#results")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text(world.project_b.reference)
    expect(results).to_contain_text(world.project_b.title_ar)
    expect(results).not_to_contain_text(project_a.reference)
    expect(results).not_to_contain_text(project_a.title_ar)

    # Her own project, to show that the 404 above is about the tenant, not a broken page.
    response = page.goto(f"/projects/{world.project_b.pk}/")
    assert response.status == 200
    expect(page.locator("h1")).to_have_text(world.project_b.title_ar)
    assert_no_problems(page)


# --- 5. screenshots of the Arabic pages, with the right-to-left layout checked -------------------


def _box(page: Page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


def test_arabic_project_list_and_form_are_laid_out_right_to_left(open_page):
    world = World()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(locale="ar-KW")  # a browser that asks for Arabic, as in a Kuwaiti ministry
    sign_in(page, world.najat)

    page.goto("/projects/")
    expect_language(page, "ar")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    width = page.viewport_size["width"]
    heading, button = _box(page, "main h1"), _box(page, '[data-testid="new-project"]')
    assert heading["x"] > button["x"] + button["width"], "the heading starts on the right, the button on the left"
    assert heading["x"] + heading["width"] > width * 0.75
    brand, switch = _box(page, ".navbar-brand"), _box(page, '[data-testid="language-switch"]')
    assert brand["x"] > switch["x"], "the brand is on the right of the navigation bar"
    headers = page.locator("#results thead th")
    first, last = headers.first.bounding_box(), headers.last.bounding_box()
    assert first["x"] > last["x"], "the table's first column (reference) is its rightmost"
    list_png = SCREENSHOTS / "project-list-ar.png"
    page.screenshot(path=str(list_png), full_page=True)

    page.click('[data-testid="new-project"]')
    expect(page).to_have_url(url(r"/projects/new/$"))
    expect_language(page, "ar")
    label, field = _box(page, 'label[for="id_title_ar"]'), _box(page, "#id_title_ar")
    assert abs((label["x"] + label["width"]) - (field["x"] + field["width"])) < 2, "label and field end together"
    assert label["x"] > field["x"] + field["width"] / 2, "the label sits over the field's right end"
    assert page.locator("#id_title_en").evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert page.locator("#id_title_ar").evaluate("el => getComputedStyle(el).direction") == "rtl"
    save, cancel = _box(page, '[data-testid="project-save"]'), _box(page, "form a.btn-link")
    assert save["x"] > cancel["x"], "the save button comes first, on the right"
    form_png = SCREENSHOTS / "project-form-ar.png"
    page.screenshot(path=str(form_png), full_page=True)

    for png in (list_png, form_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, png
    assert_no_problems(page)
