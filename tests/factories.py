"""Factories and the named personas of DESIGN.md §5.8, shared by every app's tests."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from shafaf.accounts.choices import Authority, OrganizationKind, Role
from shafaf.accounts.models import Membership, Organization, User
from shafaf.projects import services as project_services
from shafaf.projects.choices import BeneficiaryGroup, ProjectModel

PASSWORD = "correct horse battery staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = OrganizationKind.CHARITY
    slug = factory.Sequence(lambda n: f"org-{n}")
    name_ar = factory.Sequence(lambda n: f"جمعية الخير رقم {n}")
    name_en = factory.Sequence(lambda n: f"Charity number {n}")
    country = "KW"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def member(role: str, organization: Organization, username: str | None = None) -> User:
    user = UserFactory(username=username) if username else UserFactory()
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def verified_login(client, user: User) -> None:
    """Signs the user in as if they had also confirmed a TOTP code."""
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def verified_session_cookie(user: User) -> str:
    """A session key for a verified login, for clients outside Django's test client (a browser, schemathesis)."""
    from django.conf import settings

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    assert settings.SESSION_COOKIE_NAME
    return session.session_key


def project_data(**overrides) -> dict:
    data = {
        "title_ar": "حفر بئر ارتوازي في قرية النور",
        "title_en": "Drilling an artesian well in Al-Noor village",
        "description_ar": "حفر بئر بعمق ١٢٠ متراً لتوفير مياه الشرب لخمسمئة أسرة.",
        "description_en": "A 120 m well giving drinking water to 500 families.",
        "project_model": ProjectModel.CONSTRUCTION_EXTERNAL,
        "sector": "14030",
        "country": "SD",
        "beneficiary_group": BeneficiaryGroup.FAMILIES,
        "beneficiary_count": 500,
        "planned_start": dt.date(2027, 1, 1),
        "planned_end": dt.date(2027, 12, 31),
        "currency": "KWD",
    }
    data.update(overrides)
    return data


def make_project(actor: User, charity: Organization, locations=None, **overrides):
    return project_services.project_create(
        actor=actor,
        charity=charity,
        locations=locations
        if locations is not None
        else [{"admin_area_ar": "ولاية الخرطوم", "admin_area_en": "Khartoum"}],
        **project_data(**overrides),
    )


def accredit(partner: Organization, mofa_officer: User, mosa_officer: User, **overrides) -> list:
    """Active accreditations of `partner` by both ministries, valid 2020-2035 for every country and model
    (what the gate needs), written directly: tests of the accreditation services use the services."""
    from shafaf.partners.models import Accreditation

    values = {"valid_from": dt.date(2020, 1, 1), "valid_until": dt.date(2035, 12, 31), **overrides}
    return [
        Accreditation.objects.create(
            partner=partner, authority=authority, number=f"{authority}-{partner.slug}", recorded_by=officer, **values
        )
        for authority, officer in ((Authority.MOFA, mofa_officer), (Authority.MOSA, mosa_officer))
    ]


def screening_hit(world, *, status: str = "open", officer=None):
    """A hit of world.partner (or one of its officers) on a UN list version, written directly: what the
    screening would store, for tests of what a hit blocks."""
    from shafaf.partners.models import SanctionsEntry, SanctionsListVersion, Screening, ScreeningHit

    version = SanctionsListVersion.objects.create(
        source="un", published="2026-02-27", file_name="UN_consolidated.xml", sha256="a" * 64, is_current=True
    )
    entry = SanctionsEntry.objects.create(
        version=version,
        entry_id="QDe.999",
        entity_type="entity",
        primary_name="HOPE ORGANISATION FOR RELIEF",
        names=[{"text": "HOPE ORGANISATION FOR RELIEF", "kind": "primary", "quality": ""}],
    )
    screening = Screening.objects.create(partner=world.partner, trigger="manual", names=["Hope Organisation"])
    return ScreeningHit.objects.create(
        partner=world.partner,
        officer=officer,
        version=version,
        entry=entry,
        screening=screening,
        last_screening=screening,
        query="Hope Organisation",
        matched_name="HOPE ORGANISATION FOR RELIEF",
        score=0.91,
        explanation_en="token hope matched HOPE of QDe.999 exactly",
        explanation_ar="الكلمة hope طابقت HOPE في QDe.999",
        status=status,
        decision_reason="A different organisation, registered in another country." if status == "cleared" else "",
    )


class World:
    """The personas: a ministry reviewer and admin, an admin of charity A (najat), an admin (rahma) and
    staff of charity B, a donor, a partner reporter, an accreditation officer and an auditor."""

    def __init__(self):
        self.mosa = OrganizationFactory(
            kind=OrganizationKind.AUTHORITY,
            slug="mosa",
            authority_code=Authority.MOSA,
            name_ar="وزارة الشؤون الاجتماعية",
            name_en="Ministry of Social Affairs",
        )
        self.mofa = OrganizationFactory(
            kind=OrganizationKind.AUTHORITY,
            slug="mofa",
            authority_code=Authority.MOFA,
            name_ar="وزارة الخارجية",
            name_en="Ministry of Foreign Affairs",
        )
        self.charity_a = OrganizationFactory(slug="charity-a", name_ar="جمعية النور الخيرية", name_en="Al-Noor Charity")
        self.charity_b = OrganizationFactory(
            slug="charity-b", name_ar="جمعية الرحمة الخيرية", name_en="Al-Rahma Charity"
        )
        self.partner = OrganizationFactory(
            kind=OrganizationKind.PARTNER,
            slug="partner",
            name_ar="منظمة الأمل",
            name_en="Hope Organisation",
            country="SD",
        )
        self.donor_org = OrganizationFactory(
            kind=OrganizationKind.DONOR_ORGANIZATION, slug="donors", name_ar="متبرعون", name_en="Donors", country="KW"
        )
        self.audit_office = OrganizationFactory(
            kind=OrganizationKind.AUDIT_OFFICE, slug="audit", name_ar="ديوان المحاسبة", name_en="State Audit Bureau"
        )
        self.reviewer = member(Role.MINISTRY_REVIEWER, self.mosa, "reviewer")
        self.ministry_admin = member(Role.MINISTRY_ADMIN, self.mosa, "mosa_admin")
        self.accreditation_officer = member(Role.ACCREDITATION_OFFICER, self.mofa, "mofa_officer")
        self.mosa_officer = member(Role.ACCREDITATION_OFFICER, self.mosa, "mosa_officer")
        self.najat = member(Role.CHARITY_ADMIN, self.charity_a, "najat")
        self.staff_a = member(Role.CHARITY_STAFF, self.charity_a, "staff_a")
        self.rahma = member(Role.CHARITY_ADMIN, self.charity_b, "rahma")
        self.staff_b = member(Role.CHARITY_STAFF, self.charity_b, "staff_b")
        self.donor = member(Role.DONOR, self.donor_org, "donor")
        self.partner_reporter = member(Role.PARTNER_REPORTER, self.partner, "partner")
        accredit(self.partner, self.accreditation_officer, self.mosa_officer)
        self.auditor = member(Role.AUDITOR, self.audit_office, "auditor")
        self.project_a = make_project(self.najat, self.charity_a, implementing_partner=self.partner)
        self.project_b = make_project(
            self.rahma,
            self.charity_b,
            title_ar="كفالة أيتام في عمّان",
            title_en="Orphan sponsorship in Amman",
            project_model=ProjectModel.SPONSORSHIP_EXTERNAL,
            country="JO",
            sector="16010",
        )

    def personas(self) -> dict[str, User]:
        return {
            "reviewer": self.reviewer,
            "ministry_admin": self.ministry_admin,
            "accreditation_officer": self.accreditation_officer,
            "najat": self.najat,
            "staff_a": self.staff_a,
            "rahma": self.rahma,
            "staff_b": self.staff_b,
            "donor": self.donor,
            "partner": self.partner_reporter,
            "auditor": self.auditor,
        }


PDF_BYTES = b"%PDF-1.4\n% Shafaf test document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "document.pdf", content: bytes = PDF_BYTES):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def attach_required_documents(project, actor) -> list:
    """Attaches the documents the project's MOSA model requires (so the rulebook's documents_present passes)."""
    from shafaf.projects.selectors import missing_project_documents

    return [
        project_services.document_add(
            actor=actor, project=project, file=pdf_upload(f"{item['kind']}.pdf"), kind=item["kind"], title=item["kind"]
        )
        for item in missing_project_documents(project)
    ]


def budget(world, project, lines=None, *, licence: str | None = "12.5", reason: str = "", actor=None):
    """A budget version of `project` through the service (the original, or a revision when it has one), entered by
    its charity's admin; an import when the project is past its draft. With `licence` (percent text), the charity's
    licensed administrative share is set first when the ministry has set none, so that the rulebook's budget
    checks pass. Default lines: programme 10,000.000 and administration 500.000 (4.76 %)."""
    from shafaf.finance import budgets
    from shafaf.finance.models import AdminShareLicence
    from shafaf.finance.permissions import BUDGET_DRAFT_STATUSES

    if licence is not None and not AdminShareLicence.objects.filter(charity=project.charity).exists():
        budgets.admin_share_licence_set(actor=world.ministry_admin, charity=project.charity, percent=licence)
    if lines is None:
        lines = [
            {"category": "programme", "name_ar": "حفر البئر", "name_en": "Drilling the well", "amount": "10000.000"},
            {
                "category": "administration",
                "name_ar": "مصاريف إدارية",
                "name_en": "Administration",
                "amount": "500.000",
            },
        ]
    if actor is None:
        actor = world.najat if project.charity_id == world.charity_a.pk else world.rahma
    number = project.budget_versions.count() + 1
    return budgets.budget_version_create(
        actor=actor,
        project=project,
        lines=lines,
        reason=reason or ("" if number == 1 else "Revised estimate"),
        source="entered" if project.status in BUDGET_DRAFT_STATUSES else "import",
    )


# --- donations (shafaf.donations) -----------------------------------------------------------------------------------


def make_iban(seed: int, country: str = "KW", bank: str = "NBOK") -> str:
    """A valid IBAN (ISO 13616 check digits) made from a number."""
    bban = f"{bank}{seed:022d}"
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def approved_bank_account(world, charity=None, *, iban: str | None = None, currency: str = "KWD", bank_name="NBK"):
    """An approved bank account of the charity (A by default) in the currency: the existing one, or one registered
    by its admin and approved by the ministry."""
    from shafaf.donations import services as donation_services
    from shafaf.donations.models import BankAccount

    charity = charity or world.charity_a
    if iban is None:
        existing = BankAccount.objects.filter(charity=charity, currency=currency, approved_at__isnull=False).first()
        if existing is not None:
            return existing
        iban = make_iban(BankAccount.objects.count() + 1000 * charity.pk + 1)
    admin = world.najat if charity.pk == world.charity_a.pk else world.rahma
    account = donation_services.bank_account_register(
        actor=admin, charity=charity, bank_name=bank_name, iban=iban, currency=currency
    )
    return donation_services.bank_account_approve(actor=world.ministry_admin, account=account)


def donor_of(world, charity=None, *, user=None, name_ar="متبرع كريم", name_en="Generous Donor", **fields):
    """A donor record of the charity (A by default) linked to the donor account `user` (the world's donor persona
    — a DONOR member of the donor organisation — unless another user is given; user=False for no account)."""
    from shafaf.donations import services as donation_services

    charity = charity or world.charity_a
    admin = world.najat if charity.pk == world.charity_a.pk else world.rahma
    return donation_services.donor_create(
        actor=admin,
        charity=charity,
        name_ar=name_ar,
        name_en=name_en,
        user=None if user is False else (user or world.donor),
        **fields,
    )


def donor_account(world, username: str):
    """Another donor account: a DONOR member of the world's donor organisation."""
    return member(Role.DONOR, world.donor_org, username)


def strategy_plans(world, *, link: bool = True):
    """Plans in force for the strategy's tests (shafaf.strategy), through its services:

    - the ministry's plan: pillar P1 > objective P1.1 (SDG 6) with indicator M-WATER (people, sum; target 1,000
      for 2027);
    - charity A's plan: objective A1 serving P1.1, indicator A-WATER feeding M-WATER (target 400 for 2027);
    - charity B's plan: objective B1 serving P1.1, indicator B-WATER feeding M-WATER;
    - with `link`, project_a linked to A1 and project_b to B1, each with an indicator REACHED (people) feeding
      its charity's indicator.

    Returns a namespace with every object by name (ministry_plan, p1, p11, m_water, plan_a, a1, a_water, plan_b,
    b1, b_water, reached_a, reached_b)."""
    from types import SimpleNamespace

    from shafaf.strategy import services as strategy

    year = (dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    made = SimpleNamespace()

    def plan(actor, organization, code):
        created = strategy.plan_create(
            actor=actor,
            organization=organization,
            code=code,
            name_ar=f"خطة {code}",
            name_en=f"Plan {code}",
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2030, 12, 31),
        )
        return created, created.versions.get()

    made.ministry_plan, version = plan(world.ministry_admin, world.mosa, "mosa-plan")
    made.p1 = strategy.objective_create(
        actor=world.ministry_admin, version=version, code="P1", kind="pillar", title_ar="محور المياه", title_en="Water"
    )
    made.p11 = strategy.objective_create(
        actor=world.ministry_admin,
        version=version,
        code="P1.1",
        parent=made.p1,
        title_ar="مياه نظيفة",
        title_en="Clean water",
        sdg_goal=6,
    )
    made.m_water = strategy.indicator_create(
        actor=world.ministry_admin, objective=made.p11, code="M-WATER", name_en="People with water", unit="people"
    )
    strategy.target_set(
        actor=world.ministry_admin, indicator=made.m_water, period_start=year[0], period_end=year[1], value="1000"
    )
    strategy.version_publish(actor=world.ministry_admin, version=version)

    for key, charity, admin in (("a", world.charity_a, world.najat), ("b", world.charity_b, world.rahma)):
        charity_plan, version = plan(admin, charity, f"plan-{key}")
        objective = strategy.objective_create(
            actor=admin, version=version, code=f"{key.upper()}1", title_en=f"Wells of {key}", maps_to=made.p11
        )
        indicator = strategy.indicator_create(
            actor=admin,
            objective=objective,
            code=f"{key.upper()}-WATER",
            name_en="People with water",
            unit="people",
            feeds=made.m_water,
        )
        strategy.target_set(actor=admin, indicator=indicator, period_start=year[0], period_end=year[1], value="400")
        strategy.version_publish(actor=admin, version=version)
        setattr(made, f"plan_{key}", charity_plan)
        setattr(made, f"{key}1", objective)
        setattr(made, f"{key}_water", indicator)
    if link:
        for key, project, admin in (("a", world.project_a, world.najat), ("b", world.project_b, world.rahma)):
            strategy.project_objectives_set(actor=admin, project=project, objectives=[getattr(made, f"{key}1")])
            reached = strategy.indicator_create(
                actor=admin,
                project=project,
                code="REACHED",
                name_en="People reached",
                unit="people",
                feeds=getattr(made, f"{key}_water"),
            )
            setattr(made, f"reached_{key}", reached)
    return made


def licensed(project, *, status: str = "in_execution", on: dt.date = dt.date(2027, 1, 1)):
    """The project as if the ministry licensed it on `on` (straight to `status`, without the workflow), with its
    quarterly report schedule."""
    from django.utils import timezone

    from shafaf.projects.models import Project
    from shafaf.reports import services as report_services

    at = timezone.make_aware(dt.datetime.combine(on, dt.time(9)))
    Project.objects.filter(pk=project.pk).update(
        status=status, licence_number=f"MOSA-T-{project.pk}", licence_date=on, status_changed_at=at
    )
    project.refresh_from_db()
    report_services.schedule_for_approval(project)
    return project


def progress_report(actor, project, values: dict, *, period_start=None, submit: bool = False, review=None):
    """A progress report of the project carrying indicator values ({code: text}), submitted and, with review =
    (reviewer, "accept" | "return"), reviewed."""
    from shafaf.reports import services as report_services

    report = report_services.report_create(
        actor=actor, project=project, period_start=period_start, narrative_en="Progress.", indicator_values=values
    )
    if submit or review:
        report = report_services.report_submit(actor=actor, report=report)
    if review:
        reviewer, decision = review
        if decision == "accept":
            report = report_services.report_accept(actor=reviewer, report=report)
        else:
            report = report_services.report_return(actor=reviewer, report=report, comment="Check the figures.")
    return report
