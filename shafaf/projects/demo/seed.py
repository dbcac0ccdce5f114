"""Builds the demo world through the services, so that the audit chain records every write.

Used by `manage.py seed_demo`; see that command for the options.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import translation
from django.utils.text import slugify

from shafaf.accounts import services as accounts
from shafaf.accounts.choices import OrganizationKind, Role
from shafaf.accounts.models import Organization, User
from shafaf.audit.chain import verify_everything
from shafaf.core.exceptions import DomainError

from .. import services as projects
from ..choices import EXTERNAL_MODELS
from ..codelists import COUNTRIES
from ..models import ProjectLocation
from . import world
from .activities import ProjectDraft, complete, select_drafts
from .partners import PartnerCandidate, choose_partners, normalise_ref, read_partner_candidates

DEFAULT_SEED = 20_260_301
IATI_FILE = Path("iati_activities") / "dportal_covid_humanitarian_mena_africa_asia.xml"
PARTNERS_FILE = Path("registries") / "iati_participating_orgs_from_dportal_covid.csv"
PROGRESS_EVERY = 50
# The IATI activities ran in 2018-2022; the demo shows them as the current and coming years' projects.
IATI_YEAR_SHIFT = 6

CHARITY_ACTIONS = {"submit", "start", "complete", "cancel"}
_REVIEWED = [("submit", ""), ("start-review", "")]
_LICENSED = [*_REVIEWED, ("approve", "")]
_RUNNING = [*_LICENSED, ("start", "")]
# One path per built-in project, in turn: every state of the lifecycle appears in the demo.
BUILT_IN_PATHS = [  # the charities take the built-in projects in turn: najat's first, rahma's second, ...
    [*_REVIEWED, ("request-changes", "أرفقوا المخططات الهندسية المعتمدة وحددوا عدد المستفيدين لكل قرية.")],
    _RUNNING,
    _RUNNING,
    _LICENSED,
    _REVIEWED,
    [("submit", "")],
    _RUNNING,
    [*_RUNNING, ("complete", "")],
    [*_RUNNING, ("complete", ""), ("close", "")],
    [*_RUNNING, ("suspend", "توقف مؤقت لحين تجديد اعتماد الشريك المنفذ.")],
    [*_REVIEWED, ("reject", "المشروع مطابق لمشروع آخر مرخص في المنطقة نفسها.")],
    [("cancel", "تعذّر الحصول على تصاريح العمل في المنطقة.")],
    [],
]
# The IATI-derived projects: one in eight submitted, and one in eight already under review.
IATI_PATHS = [[("submit", "")], [], [], [], [*_REVIEWED], [], [], []]
MIN_PARTNERS = 40
MAX_PARTNERS = 60


@dataclass
class SeedResult:
    source: str = ""
    projects: int = 0
    skipped: int = 0
    publishers: int = 0
    organizations: Counter = field(default_factory=Counter)
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, organisation)
    partner_projects: int = 0
    seconds: float = 0.0
    states: dict = field(default_factory=dict)  # status -> number of projects
    partners: dict = field(default_factory=dict)  # shafaf.partners.demo.seed_partners's summary
    money: dict = field(default_factory=dict)  # shafaf.finance.demo.seed_money's summary
    donations: dict = field(default_factory=dict)  # shafaf.donations.demo.seed_donations's summary
    coordination: dict = field(default_factory=dict)  # shafaf.coordination.demo.seed_coordination's summary
    strategy: dict = field(default_factory=dict)  # shafaf.strategy.demo's summary


class DemoSeeder:
    def __init__(
        self,
        *,
        projects: int = 300,
        data_dir: Path | str,
        seed: int = DEFAULT_SEED,
        say: Callable[[str], None] = lambda line: None,
    ):
        self.count = max(0, projects)
        self.data_dir = Path(data_dir)
        self.rng = random.Random(seed)
        self.say = say
        self.orgs: dict[str, Organization] = {}
        self.admins: dict[str, User] = {}
        self.partners: list[Organization] = []
        self.partner_by_ref: dict[str, Organization] = {}
        self.partner_countries: dict[int, tuple[str, ...]] = {}
        self.result = SeedResult()
        self.created: list[tuple] = []  # (project, its charity's admin, built-in?)
        self.reviewer: User | None = None
        self.users: dict[str, User] = {}
        self.partner_user_org: int | None = None

    # --- the steps ---------------------------------------------------------------------------------

    def run(self) -> SeedResult:
        started = time.monotonic()
        drafts = self._read_projects()
        candidates = self._read_partners(drafts)
        with transaction.atomic():
            self._create_organizations(candidates)
            self._create_users()
            self._load_exchange_rates()
            partner_load = self._create_projects(drafts)
            self._create_partner_user(partner_load)
            self._seed_partner_records(partner_load)
            self._seed_plans()
            self._advance_lifecycle()
            self._seed_coordination()
            self._seed_money()
            self._seed_indicator_values()
        self.result.seconds = time.monotonic() - started
        return self.result

    def _read_projects(self) -> list[ProjectDraft]:
        path = self.data_dir / IATI_FILE
        if self.count and path.is_file():
            self.say(f"reading IATI activities from {path} …")
            drafts, stats = select_drafts(path, self.count)
            self.say(
                f"  {stats['read']} activities read, {stats['usable']} usable, "
                f"{len(drafts)} chosen from {stats['publishers']} publishers"
            )
            if drafts:
                self.result.source = f"the IATI activities of {stats['publishers']} publishers ({path.name})"
                self.result.publishers = stats["publishers"]
                return drafts
        if self.count:
            self.say(f"no IATI activities at {path}: using the built-in projects only")
        self.result.source = "built-in projects"
        return []

    def _read_partners(self, drafts: list[ProjectDraft]) -> list[PartnerCandidate]:
        path = self.data_dir / PARTNERS_FILE
        if path.is_file():
            candidates = read_partner_candidates(path, COUNTRIES.keys())
            wanted = [ref for draft in drafts for ref in draft.implementer_refs]
            chosen = choose_partners(candidates, wanted, minimum=MIN_PARTNERS, maximum=MAX_PARTNERS)
            if chosen:
                self.say(f"partners: {len(chosen)} implementers from {path.name}")
                return chosen
        self.say("partners: the built-in list")
        return world.fallback_partners()

    def _create_organization(self, spec_key: str, **data) -> Organization:
        organization = accounts.organization_create(actor=None, **data)
        self.orgs[spec_key] = organization
        self.result.organizations[organization.kind] += 1
        return organization

    def _create_organizations(self, candidates: list[PartnerCandidate]) -> None:
        for spec in (*world.AUTHORITIES, *world.CHARITIES, *world.OTHERS):
            self._create_organization(
                spec.key,
                kind=spec.kind,
                slug=spec.slug,
                name_ar=spec.name_ar,
                name_en=spec.name_en,
                authority_code=spec.authority_code,
                mosa_licence_number=spec.mosa_licence_number,
                country=spec.country,
            )
        slugs = set(Organization.objects.values_list("slug", flat=True))
        for index, candidate in enumerate(candidates, start=1):
            slug = _unique_slug(candidate.name_en, slugs, fallback=f"partner-{index}")
            partner = self._create_organization(
                f"partner:{candidate.key}",
                kind=OrganizationKind.PARTNER,
                slug=slug,
                name_ar=candidate.name_ar,
                name_en=candidate.name_en,
                iati_org_id=candidate.ref,
                country=candidate.country,
            )
            self.partners.append(partner)
            self.partner_by_ref[candidate.key] = partner
            self.partner_countries[partner.pk] = candidate.countries

    def _create_user(self, spec: world.UserSpec, organization: Organization) -> User:
        user = accounts.user_create(
            actor=None,
            username=spec.username,
            password=world.DEMO_PASSWORD,
            email=f"{spec.username}@{world.EMAIL_DOMAIN}",
            first_name=spec.first_name,
            last_name=spec.last_name,
            is_demo=True,
        )
        accounts.membership_create(actor=None, user=user, organization=organization, role=spec.role)
        self.result.users.append((spec.username, spec.role, organization.name_en))
        return user

    def _create_users(self) -> None:
        for spec in world.USERS:
            if spec.organization == "partner":
                continue
            user = self._create_user(spec, self.orgs[spec.organization])
            self.users[spec.username] = user
            if spec.role == Role.CHARITY_ADMIN:
                self.admins[spec.organization] = user
            if spec.role == Role.MINISTRY_REVIEWER:
                self.reviewer = user

    def _partner_for(self, fields: dict, refs) -> Organization | None:
        if fields["project_model"] not in EXTERNAL_MODELS or not self.partners:
            return None
        for ref in refs:
            partner = self.partner_by_ref.get(normalise_ref(ref))
            if partner is not None:
                return partner
        local = [p for p in self.partners if fields["country"] in self.partner_countries.get(p.pk, ())]
        return self.rng.choice(local or self.partners)

    def _create_projects(self, drafts: list[ProjectDraft]) -> Counter:
        # The built-in projects come first, always: they are written in Arabic and English, while the
        # public IATI activities are almost all in English or French.
        items = [
            (dict(p.fields), [dict(loc) for loc in p.locations], (p.partner_ref,) if p.partner_ref else ())
            for p in world.FALLBACK_PROJECTS
        ]
        items += [
            (_shift_years(complete(d, self.rng), IATI_YEAR_SHIFT), d.locations, d.implementer_refs) for d in drafts
        ]
        total = len(items)
        load: Counter = Counter()
        for index, (fields, locations, refs) in enumerate(items):
            charity_key = world.CHARITY_ROTATION[index % len(world.CHARITY_ROTATION)]
            partner = self._partner_for(fields, refs)
            try:
                project = projects.project_create(
                    actor=self.admins[charity_key],
                    charity=self.orgs[charity_key],
                    locations=locations,
                    implementing_partner=partner,
                    **fields,
                )
            except DomainError as exc:
                # A record the services refuse is left out, with the reason; nothing of it was written.
                self.result.skipped += 1
                self.say(f"  skipped {fields.get('iati_identifier') or fields.get('title_en')}: {exc} {exc.fields}")
            else:
                self.created.append((project, self.admins[charity_key], index < len(world.FALLBACK_PROJECTS)))
                self.result.projects += 1
                if partner is not None:
                    load[partner.pk] += 1
            done = index + 1
            if done % PROGRESS_EVERY == 0 or done == total:
                self.say(f"projects: {done}/{total}")
        return load

    def _load_exchange_rates(self) -> None:
        """The demo/test exchange-rate table shipped with the project, loaded by the ministry's administrator
        through the same service as the rates page (shafaf.finance.rates_import)."""
        from shafaf.finance.rates_import import load_shipped_table

        batch = load_shipped_table(actor=self.users.get("mosa_admin"))
        self.say(f"  {batch.rows_ok} exchange rates loaded from {batch.file_name}")

    def _create_partner_user(self, load: Counter) -> None:
        spec = next(s for s in world.USERS if s.organization == "partner")
        if not self.partners:
            return
        busiest = max(self.partners, key=lambda p: load[p.pk])  # the first of the busiest
        self.result.partner_projects = load[busiest.pk]
        self._create_user(spec, busiest)
        self.partner_user_org = busiest.pk

    def _seed_partner_records(self, load: Counter) -> None:
        """The partners' registry records, officers and accreditations, the UN list and the screening
        (shafaf.partners.demo), before the lifecycle runs: the gate then refuses what it must."""
        if not self.partners or "mofa_officer" not in self.users or "mosa_officer" not in self.users:
            return
        from shafaf.partners.demo import seed_partners

        self.result.partners = seed_partners(
            partners=self.partners,
            load=dict(load),
            countries=self.partner_countries,
            mofa_officer=self.users["mofa_officer"],
            mosa_officer=self.users["mosa_officer"],
            reviewer=self.users.get("reviewer") or self.users["mosa_officer"],
            data_dir=self.data_dir,
            rng=self.rng,
            say=self.say,
            # The built-in projects walk every state of the lifecycle: their partners stay in good standing.
            keep={self.partner_user_org} | {p.implementing_partner_id for p, _a, built_in in self.created if built_in},
        )

    def _advance_lifecycle(self) -> None:
        """Moves projects along their lifecycle through the same service the pages use, so the demo shows
        a platform in use: the built-in projects in every state, and a share of the IATI ones submitted."""
        if self.reviewer is None:
            return
        moved = Counter()
        for index, (project, admin, built_in) in enumerate(self.created):
            steps = BUILT_IN_PATHS[index % len(BUILT_IN_PATHS)] if built_in else IATI_PATHS[index % len(IATI_PATHS)]
            try:
                for action, reason in steps:
                    actor = admin if action in CHARITY_ACTIONS else self.reviewer
                    if action == "submit":
                        _attach_required_documents(project, admin)
                        self._demo_budget(project, admin)
                    project = projects.project_transition(actor=actor, project=project, action=action, reason=reason)
            except DomainError as exc:
                # The rulebook may refuse an approval (an IATI project has no Arabic title): it stays in review.
                self.say(f"  {project.reference} stays {project.status}: {exc.message}")
            moved[project.status] += 1
        self.result.states = dict(moved)

    def _seed_plans(self) -> None:
        """The ministry's plan and each charity's, in force, and the draft projects linked to their objectives with
        an indicator feeding them (shafaf.strategy.demo)."""
        from shafaf.strategy.demo import seed_plans

        self.result.strategy = seed_plans(
            ministry=self.orgs.get("mosa"),
            ministry_admin=self.users.get("mosa_admin"),
            charities=[(self.orgs[key], admin) for key, admin in self.admins.items()],
            projects=[(project, admin) for project, admin, _built_in in self.created],
            say=self.say,
        )

    def _seed_indicator_values(self) -> None:
        """Progress reports of the licensed projects with their indicator values: accepted and pending."""
        if not self.result.strategy:
            return
        from shafaf.strategy.demo import seed_indicator_values

        self.result.strategy.update(
            seed_indicator_values(
                projects=[(project, admin) for project, admin, _built_in in self.created],
                reviewer=self.reviewer,
                say=self.say,
            )
        )

    def _seed_coordination(self) -> None:
        """A cross-charity resubmission of a well project, flagged and waiting in the ministry's coordination queue
        (shafaf.coordination.demo)."""
        if self.reviewer is None or "najat" not in self.admins or "rahma" not in self.admins:
            return
        from shafaf.coordination.demo import seed_coordination

        partner = next((p.implementing_partner for p, _a, built_in in self.created if built_in), None)

        def prepare(project, admin):
            _attach_required_documents(project, admin)
            self._demo_budget_licence(project)

        try:
            self.result.coordination = seed_coordination(
                charity_a=self.orgs["najat"],
                admin_a=self.admins["najat"],
                charity_b=self.orgs["rahma"],
                admin_b=self.admins["rahma"],
                reviewer=self.reviewer,
                partner=partner,
                prepare=prepare,
                say=self.say,
            )
        except DomainError as exc:
            self.say(f"  coordination demo left out: {exc.message} {exc.fields}")

    def _demo_budget_licence(self, project) -> None:
        from shafaf.finance import budgets
        from shafaf.finance.models import AdminShareLicence

        ministry_admin = self.users.get("mosa_admin")
        if ministry_admin is not None and not AdminShareLicence.objects.filter(charity=project.charity).exists():
            budgets.admin_share_licence_set(actor=ministry_admin, charity=project.charity, percent="12.5")

    def _seed_money(self) -> None:
        """Contracts, tranches, disbursements, expenditures and one justified deviation on the running projects."""
        from shafaf.finance.demo import seed_money

        admins = {project.pk: admin for project, admin, _built_in in self.created}
        running = [project for project, _admin, _built_in in self.created]
        for project in running:
            project.refresh_from_db()
        self.result.money = seed_money(projects=running, admin_of=lambda p: admins[p.pk], say=self.say)

        from shafaf.donations.demo import seed_donations

        self.result.donations = seed_donations(
            projects=running,
            admin_of=lambda p: admins[p.pk],
            ministry_admin=self.users.get("mosa_admin"),
            donor_user=self.users.get("donor"),
            say=self.say,
        )

    def _demo_budget(self, project, admin) -> None:
        """A budget for a project about to be submitted (the rulebook's budget checks), 8 % of it administration,
        and the charity's licensed administrative share (12.5 %) when the ministry has set none."""
        from shafaf.finance import budgets
        from shafaf.finance.models import AdminShareLicence

        ministry_admin = self.users.get("mosa_admin")
        if ministry_admin is not None and not AdminShareLicence.objects.filter(charity=project.charity).exists():
            budgets.admin_share_licence_set(actor=ministry_admin, charity=project.charity, percent="12.5")
        if project.budget_versions.exists():
            return
        budgets.budget_version_create(
            actor=admin,
            project=project,
            lines=[
                {"category": "programme", "name_ar": "تنفيذ المشروع", "name_en": "Project delivery", "amount": "46000"},
                {
                    "category": "administration",
                    "name_ar": "مصاريف إدارية",
                    "name_en": "Administration",
                    "amount": "4000",
                },
            ],
        )


def _attach_required_documents(project, actor) -> None:
    """The documents the project's model requires (the rulebook's documents_present check), as small PDFs."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ..selectors import missing_project_documents

    for item in missing_project_documents(project):
        content = b"%PDF-1.4\n% Shafaf demo document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        projects.document_add(
            actor=actor,
            project=project,
            file=SimpleUploadedFile(f"{item['kind']}.pdf", content, content_type="application/pdf"),
            kind=item["kind"],
            title=item["label_ar"],
        )


def _shift_years(fields: dict, years: int) -> dict:
    """Moves a project's planned dates forward by whole years (29 February becomes the 28th)."""
    for name in ("planned_start", "planned_end"):
        day = fields[name]
        try:
            fields[name] = day.replace(year=day.year + years)
        except ValueError:
            fields[name] = day.replace(year=day.year + years, day=28)
    return fields


def _unique_slug(name: str, taken: set[str], *, fallback: str) -> str:
    base = slugify(name)[:50].strip("-") or fallback
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    taken.add(slug)
    return slug


def summary_lines(result: SeedResult) -> list[str]:
    """The closing report, in English (a terminal shows Arabic poorly)."""
    with translation.override("en"):
        return _summary_lines(result)


def _summary_lines(result: SeedResult) -> list[str]:
    kinds = OrganizationKind
    orgs = result.organizations
    chain = verify_everything()
    lines = [
        f"Demo world ready in {result.seconds:.1f} s.",
        "  organisations: "
        f"{orgs[kinds.AUTHORITY]} authorities, {orgs[kinds.CHARITY]} charities, {orgs[kinds.PARTNER]} partners, "
        f"{orgs[kinds.DONOR_ORGANIZATION]} donor organisation, {orgs[kinds.AUDIT_OFFICE]} audit office",
        f"  projects: {result.projects} from {result.source}"
        + (f", {result.skipped} skipped" if result.skipped else "")
        + f", {ProjectLocation.objects.count()} locations",
        "  states: " + ", ".join(f"{count} {status}" for status, count in sorted(result.states.items())),
        *(
            [
                f"  partners: {result.partners.get('accredited', 0)} accredited by both ministries"
                + (f"; MoFA only: {result.partners['mofa_only']}" if result.partners.get("mofa_only") else "")
                + (f"; suspended by MOSA: {result.partners['suspended']}" if result.partners.get("suspended") else "")
                + (f"; open screening hit: {result.partners['hit']}" if result.partners.get("hit") else "")
                + (f"; {result.partners['list']}" if result.partners.get("list") else "")
            ]
            if result.partners
            else []
        ),
        *(
            [
                f"  money: {result.money['contracts']} contracts, {result.money['disbursements']} disbursements, "
                f"{result.money['expenditures']} expenditures, {result.money['deviations']} deviation(s) awaiting "
                "the ministry's decision"
            ]
            if result.money
            else []
        ),
        *(
            [
                f"  coordination: {result.coordination['b']} flagged against {result.coordination['a']} "
                f"({result.coordination['level']}, score {result.coordination['score']:.1f}): see /coordination/ "
                "as reviewer"
            ]
            if result.coordination.get("flag")
            else []
        ),
        *(
            [
                f"  donations: {result.donations['donations']} from the demo donor, "
                f"{result.donations['allocations']} allocations (see /donor/ as donor)"
            ]
            if result.donations
            else []
        ),
        *(
            [
                f"  plans: {result.strategy['plans']} in force, {result.strategy['linked']} projects linked to "
                f"objectives, {result.strategy.get('accepted', 0)} accepted and {result.strategy.get('pending', 0)} "
                "pending progress reports with indicator values"
            ]
            if result.strategy
            else []
        ),
        f"  users: {User.objects.filter(is_demo=True).count()} demo logins; "
        f"audit chain: {chain.count} events, " + ("verified" if chain.ok else f"BROKEN ({chain.problem})"),
        f'Demo logins (password "{world.DEMO_PASSWORD}"):',
    ]
    width = max((len(username) for username, _r, _o in result.users), default=8)
    for username, role, organization in result.users:
        extra = f" ({result.partner_projects} projects)" if role == Role.PARTNER_REPORTER else ""
        lines.append(f"  {username.ljust(width)}  {Role(role).label} · {organization}{extra}")
    return lines


def database_has_data() -> bool:
    return Organization.objects.exists()


def taken_usernames() -> list[str]:
    return sorted(User.objects.filter(username__in=world.DEMO_USERNAMES).values_list("username", flat=True))
