"""Role × endpoint × own/foreign tenant (DESIGN.md §5.8): what each persona gets from each page and API call.

MATRIX is the table to extend: one row per request, one column per persona, each cell the expected
status and its own test. The rules the table follows (and test_the_table_follows_the_rules checks):

- own tenant: allowed (200, or 201/302 for a write that succeeds);
- another charity's object, or anything the persona may not see: 404, never 403 (no existence leak);
- an object the persona may see but not act on: 403;
- the ministry and the auditor read everything; the auditor never writes (403; 404 for what is personal
  to someone else, like an API token; 405 where no one may);
- a donor sees no project.

Placeholders in a row ({project_a}, {event_b}, ...) are the ids of the objects built by the `objects`
fixture. Pages are fetched with a session that passed two-factor; the API with DRF's APIClient and the same
verified session (tests/test_schemathesis.py covers personal tokens).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from shafaf.accounts import services as account_services
from shafaf.accounts.choices import Role
from shafaf.accounts.models import Membership, Organization
from shafaf.audit.models import AuditEvent
from shafaf.projects import services as project_services
from shafaf.projects.models import Project
from shafaf.projects.oversight.models import Alert
from shafaf.projects.rulebook.services import rulebook_run
from tests.factories import (
    OrganizationFactory,
    World,
    make_project,
    member,
    pdf_upload,
    project_data,
    verified_login,
)

pytestmark = pytest.mark.django_db

PERSONAS = (
    "reviewer",
    "ministry_admin",
    "accreditation_officer",
    "najat",  # admin of charity A
    "staff_a",  # staff of charity A
    "rahma",  # admin of charity B
    "staff_b",  # staff of charity B
    "donor",
    "partner",  # partner reporter of the partner implementing charity A's projects
    "auditor",
)

# Objects (by the name used in the rows below):
#   project_a            charity A's draft, implemented by the partner
#   project_b            charity B's draft
#   project_a_submitted  charity A's project that has left the draft (read-only for the charity, visible to the partner)
#   charity_a charity_b mosa partner_org donor_org audit_office                            organisations
#   event_a event_b      the audit events of project_a's and project_b's creation (charity A's and B's trail)
#   membership_staff_a membership_staff_b membership_donor                                memberships
#   token_najat          najat's personal API token
#   report_a report_a_submitted report_b  progress reports: A's draft and submitted (of project_a_submitted), B's draft

# fmt: off
MATRIX: dict[str, tuple[int, ...]] = {
    # request                                           review admin accr najat stf_a rahma stf_b donor partn audit
    # --- pages: projects ---
    "GET /":                                             (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /projects/":                                    (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /projects/new/":                                (403,  403,  403, 200,  200,  200,  200,  403,  403,  403),
    "GET /projects/import/":                             (403,  403,  403, 200,  200,  200,  200,  403,  403,  403),
    "GET /projects/{project_a}/":                        (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/":                        (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /projects/{project_a_submitted}/":              (200,  200,  404, 200,  200,  404,  404,  404,  200,  200),
    "GET /projects/{project_a}/revision/":               (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/revision/":               (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /projects/{project_a_submitted}/revision/":     (200,  200,  404, 200,  200,  404,  404,  404,  200,  200),
    "GET /projects/{project_a}/edit/":                   (403,  403,  404, 200,  200,  404,  404,  404,  404,  403),
    "GET /projects/{project_b}/edit/":                   (403,  403,  404, 404,  404,  200,  200,  404,  404,  403),
    "GET /projects/{project_a_submitted}/edit/":         (403,  403,  404, 403,  403,  404,  404,  404,  403,  403),
    "POST /projects/new/":                               (403,  403,  403, 302,  302,  400,  400,  403,  403,  403),
    "POST /projects/{project_a}/edit/":                  (403,  403,  404, 302,  302,  404,  404,  404,  404,  403),
    "POST /projects/{project_b}/edit/":                  (403,  403,  404, 404,  404,  302,  302,  404,  404,  403),
    "POST /projects/{project_a_submitted}/edit/":        (403,  403,  404, 403,  403,  404,  404,  404,  403,  403),
    # --- pages: the lifecycle (projects/workflow.py) and the ministry's review queue ---
    "GET /projects/review/":                             (200,  200,  403, 403,  403,  403,  403,  403,  403,  403),
    "POST /projects/{project_a}/submit/":                (403,  403,  404, 302,  302,  404,  404,  404,  404,  403),
    "POST /projects/{project_b}/submit/":                (403,  403,  404, 404,  404,  302,  302,  404,  404,  403),
    "POST /projects/{project_a_submitted}/start-review/": (302, 302,  404, 403,  403,  404,  404,  404,  403,  403),
    "POST /projects/{project_a_submitted}/approve/":     (409,  409,  404, 403,  403,  404,  404,  404,  403,  403),
    "POST /projects/{project_a_submitted}/cancel/":      (403,  403,  404, 302,  403,  404,  404,  404,  403,  403),
    "POST /projects/{project_a}/cancel/ (no reason)":    (403,  403,  404, 400,  403,  404,  404,  404,  404,  403),
    # --- pages: phases, progress and documents (evidence) ---
    "POST /projects/{project_a}/phases/new/":            (403,  403,  404, 302,  302,  404,  404,  404,  404,  403),
    "POST /projects/{project_a_submitted}/phases/new/":  (403,  403,  404, 302,  302,  404,  404,  404,  403,  403),
    "POST /projects/{project_a}/phases/{phase_a}/progress/": (403, 403, 404, 302, 302,  404,  404,  404,  404,  403),
    "POST /projects/{project_a_submitted}/phases/{phase_a_submitted}/progress/": (403, 403, 404, 302, 302, 404, 404, 404, 403, 403),  # noqa: E501
    "POST /projects/{project_a}/documents/new/":         (403,  403,  404, 302,  302,  404,  404,  404,  404,  403),
    "POST /projects/{project_a_submitted}/documents/new/": (403, 403, 404, 302,  302,  404,  404,  404,  403,  403),
    "GET /projects/{project_a}/documents/{document_a}/download/": (200, 200, 404, 200, 200, 404, 404, 404, 404, 200),
    # --- pages: the rulebook and a project's checks ---
    "GET /rulebook/":                                    (200,  200,  403, 403,  403,  403,  403,  403,  403,  200),
    "GET /rulebook/dates_coherent/edit/":                (403,  200,  403, 403,  403,  403,  403,  403,  403,  403),
    "POST /rulebook/dates_coherent/edit/":               (403,  302,  403, 403,  403,  403,  403,  403,  403,  403),
    "GET /projects/{project_a}/checks/":                 (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/checks/":                 (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /projects/{project_a_submitted}/checks/":       (200,  200,  404, 200,  200,  404,  404,  404,  200,  200),
    "POST /projects/{project_a}/checks/run/":            (302,  302,  404, 403,  403,  404,  404,  404,  404,  403),
    "POST /projects/{project_b}/checks/run/":            (302,  302,  404, 404,  404,  403,  403,  404,  404,  403),
    # --- pages: alerts and compliance classes (projects/oversight) ---
    "GET /alerts/":                                      (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    "POST /alerts/{alert_a}/acknowledge/":               (302,  302,  403, 302,  302,  404,  404,  403,  403,  403),
    "POST /alerts/{alert_b}/acknowledge/":               (302,  302,  403, 404,  404,  302,  302,  403,  403,  403),
    "POST /alerts/{alert_a}/acknowledge/ (no comment)":  (400,  400,  403, 400,  400,  404,  404,  403,  403,  403),
    "GET /compliance/":                                  (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    # --- pages: progress reports (shafaf/reports) ---
    "GET /projects/{project_a_submitted}/reports/":      (200,  200,  404, 200,  200,  404,  404,  404,  200,  200),
    "GET /projects/{project_b}/reports/":                (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /projects/{project_a_submitted}/reports/{report_a}/": (200, 200, 404, 200, 200, 404, 404,  404,  200,  200),
    "GET /projects/{project_a_submitted}/reports/{report_a}/edit/": (403, 403, 404, 200, 200, 404, 404, 404, 403, 403),
    "POST /projects/{project_a_submitted}/reports/{report_a}/submit/": (403, 403, 404, 302, 302, 404, 404, 404, 403, 403),  # noqa: E501
    "POST /projects/{project_a_submitted}/reports/{report_a_submitted}/accept/": (302, 302, 404, 403, 403, 404, 404, 404, 403, 403),  # noqa: E501
    "POST /projects/{project_a_submitted}/reports/{report_a_submitted}/return/ (no comment)": (400, 400, 404, 403, 403, 404, 404, 404, 403, 403),  # noqa: E501
    # --- pages: organisations and memberships ---
    "GET /organizations/":                               (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /organizations/new/":                           (403,  200,  403, 403,  403,  403,  403,  403,  403,  403),
    "GET /organizations/{charity_a}/":                   (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /organizations/{donor_org}/":                   (200,  200,  404, 404,  404,  404,  404,  200,  404,  200),
    "GET /organizations/{audit_office}/":                (200,  200,  404, 404,  404,  404,  404,  404,  404,  200),
    "GET /organizations/{charity_a}/edit/":              (403,  200,  403, 200,  403,  403,  403,  403,  403,  403),
    "GET /organizations/{charity_b}/edit/":              (403,  200,  403, 403,  403,  200,  403,  403,  403,  403),
    "GET /organizations/{donor_org}/edit/":              (403,  200,  404, 404,  404,  404,  404,  403,  404,  403),
    "POST /organizations/{charity_a}/edit/":             (403,  302,  403, 302,  403,  403,  403,  403,  403,  403),
    "POST /organizations/{charity_b}/edit/":             (403,  302,  403, 403,  403,  302,  403,  403,  403,  403),
    "POST /organizations/{charity_a}/":                  (403,  302,  403, 302,  403,  403,  403,  403,  403,  403),
    "POST /organizations/{charity_b}/":                  (403,  302,  403, 403,  403,  302,  403,  403,  403,  403),
    "POST /memberships/{membership_staff_a}/end/":       (403,  302,  403, 302,  403,  403,  403,  403,  403,  403),
    "POST /memberships/{membership_staff_b}/end/":       (403,  302,  403, 403,  403,  302,  403,  403,  403,  403),
    "POST /memberships/{membership_donor}/end/":         (403,  302,  404, 404,  404,  404,  404,  403,  404,  403),
    # --- pages: audit trail and profile ---
    "GET /audit/":                                       (200,  200,  403, 200,  403,  200,  403,  403,  403,  200),
    "GET /audit/verify/":                                (200,  200,  403, 200,  403,  200,  403,  403,  403,  200),
    "GET /audit/{event_a}/":                             (200,  200,  403, 200,  403,  404,  403,  403,  403,  200),
    "GET /audit/{event_b}/":                             (200,  200,  403, 404,  403,  200,  403,  403,  403,  200),
    "GET /accounts/profile/":                            (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "POST /accounts/tokens/{token_najat}/revoke/":       (404,  404,  404, 302,  404,  404,  404,  404,  404,  404),
    # --- API: projects ---
    "GET /api/v1/projects/":                             (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/projects/{project_a}/":                 (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /api/v1/projects/{project_b}/":                 (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /api/v1/projects/{project_a_submitted}/":       (200,  200,  404, 200,  200,  404,  404,  404,  200,  200),
    "PATCH /api/v1/projects/{project_a}/":               (403,  403,  404, 200,  200,  404,  404,  404,  404,  403),
    "PATCH /api/v1/projects/{project_b}/":               (403,  403,  404, 404,  404,  200,  200,  404,  404,  403),
    "PATCH /api/v1/projects/{project_a_submitted}/":     (403,  403,  404, 403,  403,  404,  404,  404,  403,  403),
    "PATCH /api/v1/projects/{project_a}/ (invalid)":     (403,  403,  404, 400,  400,  404,  404,  404,  404,  403),
    "PUT /api/v1/projects/{project_a}/":                 (403,  403,  404, 200,  200,  404,  404,  404,  404,  403),
    "DELETE /api/v1/projects/{project_a}/":              (405,  405,  405, 405,  405,  405,  405,  405,  405,  405),
    "POST /api/v1/projects/ (for charity A)":            (403,  403,  403, 201,  201,  403,  403,  403,  403,  403),
    "POST /api/v1/projects/ (no charity given)":         (403,  403,  403, 201,  201,  201,  201,  403,  403,  403),
    "POST /api/v1/projects/ (invalid)":                  (403,  403,  403, 400,  400,  400,  400,  403,  403,  403),
    # --- API: phases and documents ---
    "GET /api/v1/projects/{project_a}/phases/":          (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "POST /api/v1/projects/{project_a}/phases/":         (403,  403,  404, 201,  201,  404,  404,  404,  404,  403),
    "GET /api/v1/projects/{project_a_submitted}/documents/": (200, 200, 404, 200,  200,  404,  404,  404,  200,  200),
    "POST /api/v1/projects/{project_a}/documents/":      (403,  403,  404, 201,  201,  404,  404,  404,  404,  403),
    "PATCH /api/v1/phases/{phase_a}/":                   (403,  403,  404, 200,  200,  404,  404,  404,  404,  403),
    "PATCH /api/v1/phases/{phase_a_submitted}/":         (403,  403,  404, 200,  200,  404,  404,  404,  403,  403),
    # --- API: the lifecycle: POST /api/v1/projects/{id}/{action}/ ---
    "POST /api/v1/projects/{project_a}/submit/":         (403,  403,  404, 200,  200,  404,  404,  404,  404,  403),
    "POST /api/v1/projects/{project_b}/submit/":         (403,  403,  404, 404,  404,  200,  200,  404,  404,  403),
    "POST /api/v1/projects/{project_a_submitted}/start-review/": (200, 200, 404, 403, 403, 404, 404, 404,  403,  403),
    "POST /api/v1/projects/{project_a_submitted}/approve/": (409, 409,  404, 403,  403,  404,  404,  404,  403,  403),
    "POST /api/v1/projects/{project_a_submitted}/cancel/": (403, 403,  404, 200,  403,  404,  404,  404,  403,  403),
    "POST /api/v1/projects/{project_b}/cancel/ (no reason)": (403, 403, 404, 404,  404,  400,  403,  404,  404,  403),
    "POST /api/v1/projects/{project_a_submitted}/close/": (409,  409,  404, 403,  403,  404,  404,  404,  403,  403),
    # --- API: progress reports ---
    "GET /api/v1/reports/":                              (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/reports/{report_a}/":                   (200,  200,  404, 200,  200,  404,  404,  404,  200,  200),
    "GET /api/v1/reports/{report_b}/":                   (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "PATCH /api/v1/reports/{report_a}/":                 (403,  403,  404, 200,  200,  404,  404,  404,  403,  403),
    "POST /api/v1/reports/{report_a}/submit/":           (403,  403,  404, 200,  200,  404,  404,  404,  403,  403),
    "POST /api/v1/reports/{report_a_submitted}/accept/": (200,  200,  404, 403,  403,  404,  404,  404,  403,  403),
    "POST /api/v1/reports/{report_a_submitted}/return/ (no comment)": (400, 400, 404, 403, 403, 404, 404, 404, 403, 403),  # noqa: E501
    # --- foreign partners, accreditations and screening (shafaf/partners) ---
    "GET /partners/":                                    (200,  200,  200, 200,  200,  200,  200,  403,  200,  200),
    "GET /partners/{partner_org}/":                      (200,  200,  200, 200,  200,  200,  200,  404,  200,  200),
    "GET /partners/new/":                                (403,  200,  200, 403,  403,  403,  403,  403,  403,  403),
    "GET /partners/import/":                             (403,  200,  200, 403,  403,  403,  403,  403,  403,  403),
    "GET /sanctions/":                                   (200,  200,  200, 403,  403,  403,  403,  403,  403,  200),
    "GET /screening/hits/":                              (200,  200,  200, 403,  403,  403,  403,  403,  403,  200),
    "GET /api/v1/partners/{partner_org}/":               (200,  200,  200, 200,  200,  200,  200,  404,  200,  200),
    "GET /api/v1/accreditations/":                       (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/screening-hits/":                       (200,  200,  200, 403,  403,  403,  403,  403,  403,  200),
    "GET /api/v1/sanctions-versions/":                   (200,  200,  200, 403,  403,  403,  403,  403,  403,  200),
    # --- contracts and disbursements (shafaf/finance): a draft takes none ---
    "GET /projects/{project_a}/contracts/":              (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/contracts/":              (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /api/v1/contracts/":                            (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    # --- budget deviations (shafaf/finance): the charity and oversight read; the queue and settings: the ministry ---
    "GET /projects/{project_a}/deviations/":             (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_a_submitted}/deviations/":   (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/deviations/":             (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /finance/deviations/":                          (200,  200,  403, 403,  403,  403,  403,  403,  403,  403),
    "GET /finance/settings/":                            (200,  200,  403, 403,  403,  403,  403,  403,  403,  403),
    "GET /api/v1/deviations/":                           (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    # --- coordination (shafaf/coordination): the queue for the ministry, auditors and each charity (its own flags) ---
    "GET /coordination/":                                (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    "GET /coordination/flags/{flag_ab}/":                (200,  200,  404, 200,  200,  200,  200,  404,  404,  200),
    "POST /coordination/flags/{flag_ab}/decide/ (no reason)": (400, 400, 404, 403, 403,  403,  403,  404,  404,  403),
    "GET /coordination/settings/":                       (200,  200,  403, 403,  403,  403,  403,  403,  403,  200),
    "POST /coordination/settings/":                      (403,  302,  403, 403,  403,  403,  403,  403,  403,  403),
    "GET /coordination/scans/":                          (200,  200,  403, 403,  403,  403,  403,  403,  403,  200),
    "GET /projects/{project_a_submitted}/coordination/": (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/coordination/":           (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "POST /projects/{project_a_submitted}/coordination/run/": (302, 302, 404, 302, 302,  404,  404,  404,  404,  403),
    "GET /api/v1/coordination/flags/":                   (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/coordination/flags/{flag_ab}/":         (200,  200,  404, 200,  200,  200,  200,  404,  404,  200),
    "POST /api/v1/coordination/flags/{flag_ab}/decide/ (no reason)": (400, 400, 404, 403, 403, 403, 403, 404, 404, 403),
    "GET /api/v1/coordination/projects/{project_a_submitted}/check/": (200, 200, 404, 200, 200, 404, 404, 404, 404, 200),  # noqa: E501
    "POST /api/v1/coordination/projects/{project_a_submitted}/check/": (200, 200, 404, 200, 200, 404, 404, 404, 404, 403),  # noqa: E501
    "GET /api/v1/coordination/settings/":                (200,  200,  403, 403,  403,  403,  403,  403,  403,  200),
    "PATCH /api/v1/coordination/settings/":              (403,  200,  403, 403,  403,  403,  403,  403,  403,  403),
    # --- API: plans and strategies (shafaf/strategy): the ministry's plan for everyone; a charity's plan for its own
    # members, the ministry and auditors; writes by the plan's keeper (or the project's charity) only ---
    "GET /api/v1/plans/":                                (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/plans/{plan_mosa}/":                    (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/plans/{plan_a}/":                       (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /api/v1/objectives/":                           (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/objectives/{objective_mosa}/":          (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/objectives/{objective_a}/":             (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /api/v1/indicators/":                           (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/indicators/{indicator_a}/":             (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "POST /api/v1/plans/{plan_a}/new-draft/":            (403,  403,  404, 201,  403,  404,  404,  404,  404,  403),
    "POST /api/v1/plans/{plan_mosa}/new-draft/":         (403,  201,  403, 403,  403,  403,  403,  403,  403,  403),
    "POST /api/v1/indicators/{indicator_a}/targets/":    (403,  403,  404, 200,  200,  404,  404,  404,  404,  403),
    "POST /api/v1/objectives/link-project/ (another charity's objective)": (403, 403, 400, 400, 400, 400, 400, 400, 400, 403),  # noqa: E501
    # --- earned value, statements, portfolio (shafaf/finance): the charity and oversight read; no partner, no donor ---
    "GET /projects/{project_a}/earned-value/":           (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_a_submitted}/statement/":    (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/statement/":              (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /projects/{project_a}/statement/xlsx/":         (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /projects/{project_b}/statement/pdf/":          (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /finance/charities/charity-a/statement/":       (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /finance/charities/charity-b/statement/xlsx/":  (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /finance/portfolio/":                           (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    # --- exchange rates (shafaf/finance): public knowledge for the platform's staff; kept by the ministry's admin ---
    "GET /finance/rates/":                               (200,  200,  200, 200,  200,  200,  200,  403,  403,  200),
    "GET /api/v1/exchange-rates/":                       (200,  200,  200, 200,  200,  200,  200,  403,  403,  200),
    "POST /api/v1/exchange-rates/":                      (403,  201,  403, 403,  403,  403,  403,  403,  403,  403),
    # --- API: organisations ---
    "GET /api/v1/organizations/":                        (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/organizations/{charity_b}/":            (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/organizations/{donor_org}/":            (200,  200,  404, 404,  404,  404,  404,  200,  404,  200),
    "PATCH /api/v1/organizations/{charity_a}/":          (403,  200,  403, 200,  403,  403,  403,  403,  403,  403),
    "PATCH /api/v1/organizations/{charity_b}/":          (403,  200,  403, 403,  403,  200,  403,  403,  403,  403),
    "PATCH /api/v1/organizations/{donor_org}/":          (403,  200,  404, 404,  404,  404,  404,  403,  404,  403),
    "PATCH /api/v1/organizations/{charity_b}/ (invalid)": (403, 400,  403, 403,  403,  400,  403,  403,  403,  403),
    "POST /api/v1/organizations/":                       (403,  201,  403, 403,  403,  403,  403,  403,  403,  403),
    "POST /api/v1/organizations/ (invalid)":             (403,  400,  403, 403,  403,  403,  403,  403,  403,  403),
    # --- API: the rulebook ---
    "GET /api/v1/rule-settings/":                        (200,  200,  403, 403,  403,  403,  403,  403,  403,  200),
    "GET /api/v1/rule-settings/dates_coherent/":         (200,  200,  403, 403,  403,  403,  403,  403,  403,  200),
    "PATCH /api/v1/rule-settings/dates_coherent/":       (403,  200,  403, 403,  403,  403,  403,  403,  403,  403),
    "PATCH /api/v1/rule-settings/dates_coherent/ (invalid)": (403, 400, 403, 403,  403,  403,  403,  403,  403,  403),
    "DELETE /api/v1/rule-settings/dates_coherent/":      (405,  405,  403, 403,  403,  403,  403,  403,  403,  405),
    "GET /api/v1/rulebook-runs/":                        (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/rulebook-runs/{run_a}/":                (200,  200,  404, 200,  200,  404,  404,  404,  404,  200),
    "GET /api/v1/rulebook-runs/{run_b}/":                (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "GET /api/v1/rulebook-runs/{run_a_submitted}/":      (200,  200,  404, 200,  200,  404,  404,  404,  200,  200),
    "POST /api/v1/rulebook-runs/":                       (405,  405,  405, 405,  405,  405,  405,  405,  405,  405),
    # --- API: alerts and compliance classes ---
    "GET /api/v1/alerts/":                               (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    "GET /api/v1/alerts/{alert_a}/":                     (200,  200,  403, 200,  200,  404,  404,  403,  403,  200),
    "POST /api/v1/alerts/{alert_a}/acknowledge/":        (200,  200,  403, 200,  200,  404,  404,  403,  403,  403),
    "POST /api/v1/alerts/{alert_b}/acknowledge/ (no comment)": (400, 400, 403, 404, 404, 400,  400,  403,  403,  403),
    "GET /api/v1/compliance/":                           (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    # --- API: audit trail ---
    "GET /api/v1/audit-events/":                         (200,  200,  403, 200,  403,  200,  403,  403,  403,  200),
    "GET /api/v1/audit-events/verify/":                  (200,  200,  403, 200,  403,  200,  403,  403,  403,  200),
    "GET /api/v1/audit-events/{event_a}/":               (200,  200,  403, 200,  403,  404,  403,  403,  403,  200),
    "GET /api/v1/audit-events/{event_b}/":               (200,  200,  403, 404,  403,  200,  403,  403,  403,  200),
    "POST /api/v1/audit-events/":                        (405,  405,  403, 405,  403,  405,  403,  403,  403,  405),
    # --- donations (shafaf/donations, charity pages and API): the charity its own, oversight reads, a donor its own ---
    "GET /donations/":                                   (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    "GET /donations/{donation_a}/":                      (200,  200,  403, 200,  200,  404,  404,  403,  403,  200),
    "GET /donations/{donation_b}/":                      (200,  200,  403, 404,  404,  200,  200,  403,  403,  200),
    "GET /donations/new/":                               (403,  403,  403, 200,  200,  200,  200,  403,  403,  403),
    "POST /donations/{donation_a}/refund/":              (403,  403,  403, 302,  403,  404,  404,  403,  403,  403),
    "GET /donations/donors/":                            (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    "GET /donations/bank-accounts/":                     (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    "GET /donations/imports/":                           (200,  200,  403, 200,  200,  200,  200,  403,  403,  200),
    "GET /api/v1/donations/":                            (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/donations/{donation_a}/":               (200,  200,  404, 200,  200,  404,  404,  200,  404,  200),
    "GET /api/v1/donations/{donation_b}/":               (200,  200,  404, 404,  404,  200,  200,  404,  404,  200),
    "POST /api/v1/donations/ (for charity A)":           (403,  403,  403, 201,  201,  403,  403,  403,  403,  403),
    "POST /api/v1/donations/{donation_a}/refund/":       (403,  403,  404, 201,  403,  404,  404,  403,  404,  403),
    "GET /api/v1/donors/":                               (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/donors/{donor_a}/":                     (200,  200,  404, 200,  200,  404,  404,  200,  404,  200),
    "GET /api/v1/allocations/":                          (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/v1/bank-accounts/":                        (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
    "POST /api/v1/bank-accounts/{bank_pending_a}/approve/": (200, 200, 404, 403,  403,  404,  404,  404,  404,  403),
    "GET /api/v1/campaigns/":                            (200,  200,  200, 200,  200,  200,  200,  200,  200,  200),
}
# fmt: on


def _location_form(prefix: str = "locations") -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "50",
        f"{prefix}-0-admin_area_ar": "ولاية الخرطوم",
        f"{prefix}-0-admin_area_en": "Khartoum",
    }


def _project_form(objects, **overrides) -> dict:
    data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in project_data().items()}
    data.update(title_en="Edited through the page", implementing_partner=objects["partner_org"], **overrides)
    return {**data, **_location_form()}


def _project_json(objects, **overrides) -> dict:
    data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in project_data().items()}
    data.update(
        title_en="Sent through the API",
        implementing_partner=objects["partner_org"],
        locations=[{"admin_area_ar": "ولاية الخرطوم", "admin_area_en": "Khartoum"}],
    )
    data.update(overrides)
    return data


def _organization_form(objects, name: str) -> dict:
    organization = Organization.objects.get(pk=objects[name])
    return {
        "kind": organization.kind,
        "slug": organization.slug,
        "name_ar": organization.name_ar,
        "name_en": organization.name_en + " (renamed)",
        "authority_code": organization.authority_code,
        "mosa_licence_number": organization.mosa_licence_number,
        "iati_org_id": organization.iati_org_id,
        "country": organization.country,
        "is_active": "on",
    }


def _phase_form() -> dict:
    return {
        "phase-name_ar": "تجهيز الموقع",
        "phase-planned_start": "2027-02-01",
        "phase-planned_end": "2027-03-31",
        "phase-weight": "2",
    }


def _progress_form(phase_id: int) -> dict:
    return {f"p{phase_id}-percent_complete": "40", f"p{phase_id}-status": "in_progress"}


def _document_form(kind: str) -> dict:
    return {"document-kind": kind, "document-title": "مستند", "document-file": pdf_upload()}


# The body each write sends: something the persona it is allowed for would send (None: no body).
BODIES = {
    "POST /projects/new/": lambda o: _project_form(o, charity=o["charity_a"]),
    "POST /projects/{project_a}/edit/": _project_form,
    "POST /projects/{project_b}/edit/": _project_form,
    "POST /projects/{project_a_submitted}/edit/": _project_form,
    "POST /organizations/{charity_a}/edit/": lambda o: _organization_form(o, "charity_a"),
    "POST /organizations/{charity_b}/edit/": lambda o: _organization_form(o, "charity_b"),
    "POST /organizations/{charity_a}/": lambda o: {"username": "staff_a", "role": Role.CHARITY_FINANCE},
    "POST /organizations/{charity_b}/": lambda o: {"username": "staff_b", "role": Role.CHARITY_FINANCE},
    "POST /memberships/{membership_staff_a}/end/": None,
    "POST /memberships/{membership_staff_b}/end/": None,
    "POST /memberships/{membership_donor}/end/": None,
    "POST /accounts/tokens/{token_najat}/revoke/": None,
    "POST /projects/{project_a}/submit/": None,
    "POST /projects/{project_b}/submit/": None,
    "POST /projects/{project_a_submitted}/start-review/": None,
    "POST /projects/{project_a_submitted}/approve/": None,
    "POST /projects/{project_a_submitted}/cancel/": lambda o: {"cancel-reason": "المشروع نُفذ من جهة أخرى."},
    "POST /projects/{project_a}/cancel/ (no reason)": lambda o: {"cancel-reason": ""},
    "POST /api/v1/projects/{project_a}/submit/": lambda o: {},
    "POST /api/v1/projects/{project_b}/submit/": lambda o: {},
    "POST /api/v1/projects/{project_a_submitted}/start-review/": lambda o: {},
    "POST /api/v1/projects/{project_a_submitted}/approve/": lambda o: {"reason": "Complete and consistent."},
    "POST /api/v1/projects/{project_a_submitted}/cancel/": lambda o: {"reason": "Funded by another charity."},
    "POST /api/v1/projects/{project_b}/cancel/ (no reason)": lambda o: {"reason": ""},
    "POST /api/v1/projects/{project_a_submitted}/close/": lambda o: {},
    "PATCH /api/v1/projects/{project_a}/": lambda o: {"title_en": "Patched"},
    "PATCH /api/v1/projects/{project_b}/": lambda o: {"title_en": "Patched"},
    "PATCH /api/v1/projects/{project_a_submitted}/": lambda o: {"title_en": "Patched"},
    "PUT /api/v1/projects/{project_a}/": _project_json,
    "DELETE /api/v1/projects/{project_a}/": None,
    "POST /api/v1/projects/ (for charity A)": lambda o: _project_json(o, charity=o["charity_a"]),
    "POST /api/v1/projects/ (no charity given)": _project_json,
    "PATCH /api/v1/organizations/{charity_a}/": lambda o: {"name_en": "Al-Noor Charity (renamed)"},
    "PATCH /api/v1/organizations/{charity_b}/": lambda o: {"name_en": "Al-Rahma Charity (renamed)"},
    "PATCH /api/v1/organizations/{donor_org}/": lambda o: {"name_en": "Donors (renamed)"},
    "POST /api/v1/organizations/": lambda o: {
        "kind": "charity",
        "slug": "al-amal",
        "name_ar": "جمعية الأمل",
        "name_en": "Al-Amal Charity",
        "country": "KW",
    },
    "POST /rulebook/dates_coherent/edit/": lambda o: {
        "dates_coherent-enabled": "on",
        "dates_coherent-severity": "warning",
        "dates_coherent-start_grace_days": "0",
        "dates_coherent-max_duration_months": "48",
    },
    "POST /projects/{project_a}/checks/run/": None,
    "POST /projects/{project_b}/checks/run/": None,
    "PATCH /api/v1/rule-settings/dates_coherent/": lambda o: {"severity": "warning"},
    "PATCH /api/v1/rule-settings/dates_coherent/ (invalid)": lambda o: {"thresholds": {"max_duration_months": 0}},
    "DELETE /api/v1/rule-settings/dates_coherent/": None,
    "POST /api/v1/rulebook-runs/": lambda o: {"project": o["project_a"]},
    "POST /api/v1/audit-events/": lambda o: {"action": "forged"},
    "POST /alerts/{alert_a}/acknowledge/": lambda o: {f"alert-{o['alert_a']}-comment": "طلبنا تمديد الموعد."},
    "POST /alerts/{alert_b}/acknowledge/": lambda o: {f"alert-{o['alert_b']}-comment": "طلبنا تمديد الموعد."},
    "POST /alerts/{alert_a}/acknowledge/ (no comment)": lambda o: {f"alert-{o['alert_a']}-comment": ""},
    "POST /api/v1/alerts/{alert_a}/acknowledge/": lambda o: {"comment": "Extension requested."},
    "POST /api/v1/alerts/{alert_b}/acknowledge/ (no comment)": lambda o: {"comment": ""},
    "POST /projects/{project_a}/phases/new/": lambda o: _phase_form(),
    "POST /projects/{project_a_submitted}/phases/new/": lambda o: _phase_form(),
    "POST /projects/{project_a}/phases/{phase_a}/progress/": lambda o: _progress_form(o["phase_a"]),
    "POST /projects/{project_a_submitted}/phases/{phase_a_submitted}/progress/": lambda o: _progress_form(
        o["phase_a_submitted"]
    ),
    "POST /projects/{project_a}/documents/new/": lambda o: _document_form("licence_application"),
    "POST /projects/{project_a_submitted}/documents/new/": lambda o: _document_form("site_photo"),
    "POST /api/v1/projects/{project_a}/phases/": lambda o: {
        "name_en": "Drilling",
        "planned_start": "2027-02-01",
        "planned_end": "2027-03-31",
        "weight": 2,
    },
    "POST /api/v1/projects/{project_a}/documents/": lambda o: {
        "kind": "licence_application",
        "title": "Licence application",
        "file": pdf_upload(),
    },
    "PATCH /api/v1/phases/{phase_a}/": lambda o: {"percent_complete": 40},
    "PATCH /api/v1/phases/{phase_a_submitted}/": lambda o: {"percent_complete": 40},
    "POST /projects/{project_a_submitted}/reports/{report_a}/submit/": None,
    "POST /projects/{project_a_submitted}/reports/{report_a_submitted}/accept/": lambda o: {"comment": ""},
    "POST /projects/{project_a_submitted}/reports/{report_a_submitted}/return/ (no comment)": lambda o: {"comment": ""},
    "PATCH /api/v1/reports/{report_a}/": lambda o: {"narrative_en": "The well is drilled."},
    "POST /api/v1/reports/{report_a}/submit/": None,
    "POST /api/v1/reports/{report_a_submitted}/accept/": lambda o: {"comment": "Good."},
    "POST /api/v1/reports/{report_a_submitted}/return/ (no comment)": lambda o: {"comment": ""},
    # Invalid bodies: a persona that may not write gets 403 before its body is even read.
    "PATCH /api/v1/projects/{project_a}/ (invalid)": lambda o: {"planned_end": "not a date", "sector": "x" * 9},
    "POST /api/v1/projects/ (invalid)": lambda o: {"title_en": ["not", "a", "string"]},
    "PATCH /api/v1/organizations/{charity_b}/ (invalid)": lambda o: {"name_en": "", "iati_org_id": "!"},
    "POST /api/v1/organizations/ (invalid)": lambda o: {"kind": "spaceship"},
    "POST /api/v1/exchange-rates/": lambda o: {"currency": "USD", "on_date": "2025-01-01", "rate": "0.3031"},
    "POST /donations/{donation_a}/refund/": lambda o: {"amount": "1.000", "reason": "Charged twice."},
    "POST /api/v1/donations/ (for charity A)": lambda o: {
        "charity": o["charity_a"],
        "donor": o["donor_a"],
        "amount": "5.000",
        "currency": "KWD",
        "received_at": "2026-01-04T10:00:00+03:00",
        "channel": "knet",
        "bank_account": o["bank_a"],
        "purpose": "general",
    },
    "POST /api/v1/donations/{donation_a}/refund/": lambda o: {"amount": "1.000", "reason": "Charged twice."},
    "POST /api/v1/bank-accounts/{bank_pending_a}/approve/": None,
    "POST /coordination/flags/{flag_ab}/decide/ (no reason)": lambda o: {"decide-decision": "distinct"},
    "POST /coordination/settings/": lambda o: {
        "likely_threshold": "13",
        "possible_threshold": "6",
        "completed_within_days": "180",
        "max_candidates": "150",
    },
    "POST /projects/{project_a_submitted}/coordination/run/": None,
    "POST /api/v1/coordination/flags/{flag_ab}/decide/ (no reason)": lambda o: {"decision": "distinct"},
    "POST /api/v1/coordination/projects/{project_a_submitted}/check/": lambda o: {},
    "PATCH /api/v1/coordination/settings/": lambda o: {"max_candidates": 150},
    "POST /api/v1/plans/{plan_a}/new-draft/": lambda o: {"note": "Review"},
    "POST /api/v1/plans/{plan_mosa}/new-draft/": lambda o: {"note": "Review"},
    "POST /api/v1/indicators/{indicator_a}/targets/": lambda o: {
        "period_start": "2028-01-01",
        "period_end": "2028-12-31",
        "value": "500",
    },
    "POST /api/v1/objectives/link-project/ (another charity's objective)": lambda o: {
        "project": o["project_a"],
        "objectives": [o["objective_b"]],
    },
}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The ministry's work pages (not records): the ministry's alone, the auditor included out (403). What they list
# the auditor reads elsewhere (the review queue's projects are in /projects/).
MINISTRY_WORK_PAGES = {"GET /projects/review/", "GET /finance/deviations/", "GET /finance/settings/"}
PROJECT_OBJECTS = {"project_a": "A", "project_a_submitted": "A", "project_b": "B"}


def _split(row: str) -> tuple[str, str]:
    method, path = row.split(" ", 1)
    return method, path.split(" (", 1)[0]


def _left_draft(project: Project) -> Project:
    # Straight out of the draft, without the workflow's history, rulebook run and audit events (those are tested
    # in shafaf/projects/tests/test_workflow.py); the matrix needs only a project that has left the draft.
    Project.objects.filter(pk=project.pk).update(status="submitted")
    project.refresh_from_db()
    return project


def _alert(project: Project, owner) -> Alert:
    # Stored directly: the rules that raise alerts are tested in shafaf/projects/tests/test_oversight.py.
    return Alert.objects.create(
        project=project,
        rule="past_planned_end",
        severity="warning",
        owner=owner,
        message_ar="تنبيه",
        message_en="Alert",
    )


def _reports(world, project_a_submitted: Project) -> dict[str, int]:
    # Stored directly (the schedule and the flow are tested in shafaf/reports/tests/): a draft and a submitted
    # report of charity A's project that left the draft, and a draft of charity B's.
    from shafaf.reports.models import ProgressReport

    def report(project, user, start, **fields):
        return ProgressReport.objects.create(
            project=project,
            period_start=start,
            period_end=start + dt.timedelta(days=89),
            due_date=start + dt.timedelta(days=90),
            created_by=user,
            narrative_ar="تقدم المشروع.",
            **fields,
        ).pk

    return {
        "report_a": report(project_a_submitted, world.najat, dt.date(2027, 1, 1)),
        "report_a_submitted": report(
            project_a_submitted, world.najat, dt.date(2027, 4, 1), status="submitted", submitted_at=timezone.now()
        ),
        "report_b": report(world.project_b, world.rahma, dt.date(2027, 1, 1)),
    }


def _donations(world) -> dict[str, int]:
    """A general donation to each charity (A's by the world's donor account), and a pending bank account of A."""
    from shafaf.donations import services as donation_services
    from tests.factories import approved_bank_account, donor_of

    made = {}
    for key, charity, actor in (("a", world.charity_a, world.najat), ("b", world.charity_b, world.rahma)):
        account = approved_bank_account(world, charity)
        donor = donor_of(world, charity, user=None if key == "a" else False)
        donation = donation_services.donation_record(
            actor=actor,
            charity=charity,
            donor=donor,
            amount="20.000",
            currency="KWD",
            received_at=dt.datetime(2026, 1, 4, 10, tzinfo=dt.UTC),
            channel="knet",
            bank_account=account,
            purpose="general",
        )
        made.update({f"donation_{key}": donation.pk, f"donor_{key}": donor.pk, f"bank_{key}": account.pk})
    pending = donation_services.bank_account_register(
        actor=world.najat, charity=world.charity_a, bank_name="KFH", iban="KW09NBOK0000000000000000000002"
    )
    made["bank_pending_a"] = pending.pk
    return made


def _coordination(project_a_submitted: Project, project_b: Project) -> dict[str, int]:
    """An open flag between charity A's submitted project and charity B's project, and the check of A's project that
    found it, stored directly (what the online check finds is tested in shafaf/coordination/tests/)."""
    from shafaf.coordination.models import Flag, OverlapCheck
    from shafaf.coordination.selectors import active_model

    version = active_model()
    reasons = [{"signal": "partner", "level": "same", "weight": 7.9, "text_en": "same partner +7.9", "text_ar": "+7.9"}]
    flag = Flag.objects.create(
        project_a=project_a_submitted if project_a_submitted.pk < project_b.pk else project_b,
        project_b=project_b if project_a_submitted.pk < project_b.pk else project_a_submitted,
        level="possible",
        score=8.0,
        reasons=reasons,
        model_version=version,
        found_by="scan",
    )
    result = {"project": project_b.pk, "reference": project_b.reference, "charity": project_b.charity_id}
    OverlapCheck.objects.create(
        project=project_a_submitted,
        trigger="submission",
        model_version=version,
        overlaps=1,
        results=[{**result, "internal": False, "score": 8.0, "level": "possible", "reasons": reasons}],
    )
    return {"flag_ab": flag.pk}


def _strategy(world) -> dict[str, int]:
    """Stored directly (the services are tested in shafaf/strategy/tests/): the ministry's plan and charity A's and
    B's, each with a version in force and one objective (A's and B's serving the ministry's), and an indicator of
    project_a, which serves A's objective."""
    from shafaf.strategy.models import Indicator, Objective, Plan, PlanVersion, ProjectObjective

    made = {}
    ministry_objective = None
    for key, organization, user in (
        ("mosa", world.mosa, world.ministry_admin),
        ("a", world.charity_a, world.najat),
        ("b", world.charity_b, world.rahma),
    ):
        plan = Plan.objects.create(
            organization=organization, code=f"plan-{key}", name_en=f"Plan {key}", created_by=user
        )
        version = PlanVersion.objects.create(
            plan=plan,
            number=1,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2030, 12, 31),
            status="published",
            created_by=user,
        )
        objective = Objective.objects.create(
            version=version, code=f"{key.upper()}1", title_en=f"Objective {key}", maps_to=ministry_objective
        )
        ministry_objective = ministry_objective or objective
        made.update({f"plan_{key}": plan.pk, f"objective_{key}": objective.pk})
    ProjectObjective.objects.create(project=world.project_a, objective_id=made["objective_a"], linked_by=world.najat)
    indicator = Indicator.objects.create(
        project=world.project_a, code="REACHED", name_en="People reached", unit="people", created_by=world.najat
    )
    made["indicator_a"] = indicator.pk
    return made


def build_objects(world) -> dict[str, int]:
    project_a_submitted = _left_draft(
        make_project(world.najat, world.charity_a, implementing_partner=world.partner, title_en="Submitted well")
    )
    token, _key = account_services.api_token_create(actor=world.najat, user=world.najat, name="matrix")
    phase_fields = {"name_ar": "حفر البئر", "planned_start": dt.date(2027, 1, 1), "planned_end": dt.date(2027, 3, 31)}
    phase_a = project_services.phase_create(actor=world.najat, project=world.project_a, **phase_fields)
    phase_a_submitted = project_services.phase_create(actor=world.najat, project=project_a_submitted, **phase_fields)
    document_a = project_services.document_add(
        actor=world.najat, project=world.project_a, file=pdf_upload(), kind="licence_application", title="طلب"
    )
    return {
        "phase_a": phase_a.pk,
        "phase_a_submitted": phase_a_submitted.pk,
        "document_a": document_a.pk,
        "project_a": world.project_a.pk,
        "project_b": world.project_b.pk,
        "project_a_submitted": project_a_submitted.pk,
        "charity_a": world.charity_a.pk,
        "charity_b": world.charity_b.pk,
        "mosa": world.mosa.pk,
        "partner_org": world.partner.pk,
        "donor_org": world.donor_org.pk,
        "audit_office": world.audit_office.pk,
        "event_a": AuditEvent.objects.get(subject_type="projects.project", subject_id=str(world.project_a.pk)).seq,
        "event_b": AuditEvent.objects.get(subject_type="projects.project", subject_id=str(world.project_b.pk)).seq,
        "membership_staff_a": Membership.objects.get(user=world.staff_a).pk,
        "membership_staff_b": Membership.objects.get(user=world.staff_b).pk,
        "membership_donor": Membership.objects.get(user=world.donor).pk,
        "token_najat": token.pk,
        "run_a": rulebook_run(actor=world.najat, project=world.project_a, stage="submission").run.pk,
        "run_b": rulebook_run(actor=world.rahma, project=world.project_b, stage="submission").run.pk,
        "run_a_submitted": rulebook_run(actor=None, project=project_a_submitted, stage="nightly").run.pk,
        "alert_a": _alert(world.project_a, world.charity_a).pk,
        "alert_b": _alert(world.project_b, world.charity_b).pk,
        **_reports(world, project_a_submitted),
        **_donations(world),
        **_coordination(project_a_submitted, world.project_b),
        **_strategy(world),
    }


def add_crowd(world) -> None:
    """More rows than any query limit below: projects with locations and partners (some out of draft, for the
    partner), organisations, members and their audit events. They are dated a day back, so the named objects
    stay on the first page of every list."""
    crowd = []
    for index in range(15):
        for actor, charity in ((world.najat, world.charity_a), (world.rahma, world.charity_b)):
            project = make_project(
                actor,
                charity,
                implementing_partner=world.partner,
                title_en=f"Crowd project {index}",
                locations=[{"admin_area_ar": "منطقة", "admin_area_en": f"Area {index}"}, {"admin_area_en": "Second"}],
            )
            if index % 3 == 0:
                _left_draft(project)
            crowd.append(project.pk)
        OrganizationFactory()
    Project.objects.filter(pk__in=crowd).update(created_at=timezone.now() - dt.timedelta(days=1))
    for index in range(3):
        member(Role.CHARITY_STAFF, world.charity_a, f"crowd_staff_{index}")


@pytest.fixture(scope="module")
def _shared_world(django_db_setup, django_db_blocker):
    """One World for the whole module (hundreds of cells), built inside a transaction that is rolled back
    when the module ends. Each test runs in its own savepoint (pytest-django's `db`), so what a cell writes
    is undone before the next cell."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        world = World()
        add_crowd(world)
        objects = build_objects(world)
        for user in world.personas().values():
            TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        yield world, objects
        transaction.set_rollback(True)


@pytest.fixture
def world(_shared_world, db):
    """The module's shared World (instead of conftest's fresh one per test)."""
    return _shared_world[0]


@pytest.fixture
def objects(_shared_world, db) -> dict[str, int]:
    return _shared_world[1]


def signed_in(user, *, api: bool):
    """A client with a session that passed two-factor: Django's for pages, DRF's for the API."""
    client = APIClient() if api else Client()
    verified_login(client, user)
    return client


def send(client, method: str, url: str, body) -> object:
    if url.startswith("/api/"):
        has_file = isinstance(body, dict) and any(hasattr(value, "read") for value in body.values())
        return getattr(client, method.lower())(url, body, format="multipart" if has_file else "json")
    return getattr(client, method.lower())(url, body or {})


CELLS = [
    pytest.param(row, persona, expected, id=f"{row} | {persona} -> {expected}")
    for row, statuses in MATRIX.items()
    for persona, expected in zip(PERSONAS, statuses, strict=True)
]


@pytest.mark.parametrize(("row", "persona", "expected"), CELLS)
def test_matrix(row, persona, expected, world, objects):
    method, path = _split(row)
    url = path.format(**objects)
    is_api = url.startswith("/api/")
    body_factory = BODIES.get(row)
    body = body_factory(objects) if body_factory else None
    client = signed_in(world.personas()[persona], api=is_api)

    response = send(client, method, url, body)

    assert response.status_code == expected, (
        f"{persona} {method} {url}: {response.status_code}, expected {expected}\n"
        f"{response.content.decode(errors='replace')[:600]}"
    )
    if is_api and expected >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]
    if expected == 302:
        assert "/accounts/login/" not in response["Location"] and "/two-factor/" not in response["Location"]


def test_the_table_follows_the_rules():
    """Rows added later keep to the rules in the module docstring (and each write names its body)."""
    for row, statuses in MATRIX.items():
        method, path = _split(row)
        cells = dict(zip(PERSONAS, statuses, strict=True))
        is_form = path.endswith(("/new/", "/edit/", "/import/"))  # pages that are forms (an upload form too)
        if method in WRITE_METHODS:
            assert row in BODIES, f"{row}: say what it sends in BODIES"
            assert cells["auditor"] in (403, 404, 405), f"{row}: the auditor never writes"
        elif row in MINISTRY_WORK_PAGES:
            assert cells["reviewer"] == cells["ministry_admin"] == 200, f"{row}: the ministry's own page"
            assert all(cells[p] == 403 for p in PERSONAS if p not in ("reviewer", "ministry_admin")), row
        elif not is_form:
            assert cells["auditor"] == cells["reviewer"] == cells["ministry_admin"] == 200, f"{row}: oversight reads"
        for name, charity in PROJECT_OBJECTS.items():
            if "{" + name + "}" not in path:
                continue
            own, foreign = ("najat", "staff_a"), ("rahma", "staff_b")
            if charity == "B":
                own, foreign = foreign, own
            assert cells["donor"] in (404, 405), f"{row}: a donor sees no project"
            assert all(cells[p] in (404, 405) for p in foreign), f"{row}: another charity's project is a 404"
            if method == "GET" and not is_form:
                assert all(cells[p] == 200 for p in own), f"{row}: a charity reads its own projects"


# --- what each list contains -------------------------------------------------------------------------

VISIBLE_PROJECTS = {
    "reviewer": {"project_a", "project_b", "project_a_submitted"},
    "ministry_admin": {"project_a", "project_b", "project_a_submitted"},
    "accreditation_officer": set(),
    "najat": {"project_a", "project_a_submitted"},
    "staff_a": {"project_a", "project_a_submitted"},
    "rahma": {"project_b"},
    "staff_b": {"project_b"},
    "donor": set(),
    "partner": {"project_a_submitted"},
    "auditor": {"project_a", "project_b", "project_a_submitted"},
}
PUBLIC_ORGANIZATIONS = {"mosa", "charity_a", "charity_b", "partner_org"}
EVERY_ORGANIZATION = PUBLIC_ORGANIZATIONS | {"donor_org", "audit_office"}
VISIBLE_ORGANIZATIONS = {
    "reviewer": EVERY_ORGANIZATION,
    "ministry_admin": EVERY_ORGANIZATION,
    "accreditation_officer": PUBLIC_ORGANIZATIONS,
    "najat": PUBLIC_ORGANIZATIONS,
    "staff_a": PUBLIC_ORGANIZATIONS,
    "rahma": PUBLIC_ORGANIZATIONS,
    "staff_b": PUBLIC_ORGANIZATIONS,
    "donor": PUBLIC_ORGANIZATIONS | {"donor_org"},
    "partner": PUBLIC_ORGANIZATIONS,
    "auditor": EVERY_ORGANIZATION,
}
VISIBLE_EVENTS = {  # None: the persona may not browse the trail at all (403)
    "reviewer": {"event_a", "event_b"},
    "ministry_admin": {"event_a", "event_b"},
    "accreditation_officer": None,
    "najat": {"event_a"},
    "staff_a": None,
    "rahma": {"event_b"},
    "staff_b": None,
    "donor": None,
    "partner": None,
    "auditor": {"event_a", "event_b"},
}
LISTS = {
    # list URL: (expected visibility, the names it is checked for, how an object shows on the page)
    "/projects/": (VISIBLE_PROJECTS, set(VISIBLE_PROJECTS["reviewer"]), 'href="/projects/{}/"'),
    "/organizations/": (VISIBLE_ORGANIZATIONS, EVERY_ORGANIZATION, 'href="/organizations/{}/"'),
    "/audit/": (VISIBLE_EVENTS, {"event_a", "event_b"}, 'href="/audit/{}/"'),
    "/api/v1/projects/": (VISIBLE_PROJECTS, set(VISIBLE_PROJECTS["reviewer"]), "id"),
    "/api/v1/organizations/": (VISIBLE_ORGANIZATIONS, EVERY_ORGANIZATION, "id"),
    "/api/v1/audit-events/": (VISIBLE_EVENTS, {"event_a", "event_b"}, "seq"),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url", LISTS)
def test_list_contains_own_and_not_foreign(url, persona, world, objects):
    visibility, checked, marker = LISTS[url]
    expected = visibility[persona]
    client = signed_in(world.personas()[persona], api=url.startswith("/api/"))
    response = client.get(url, {"page_size": 500} if url.startswith("/api/") else {})
    if expected is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    if url.startswith("/api/"):
        shown = {item[marker] for item in response.json()["results"]}
        seen = {name for name in checked if objects[name] in shown}
    else:
        seen = {name for name in checked if marker.format(objects[name]) in response.content.decode()}
    assert seen == expected, f"{persona} {url}: shows {sorted(seen)}, expected {sorted(expected)}"


def test_donor_sees_no_project_anywhere(world, objects):
    donor = world.donor
    assert signed_in(donor, api=True).get("/api/v1/projects/").json()["count"] == 0
    page = signed_in(donor, api=False).get("/").content.decode()
    for name in ("project_a", "project_b", "project_a_submitted"):
        reference = Project.objects.get(pk=objects[name]).reference
        assert reference not in page


def test_filtering_by_another_charity_finds_nothing(world, objects):
    """Asking for charity B's projects by filter or search gives charity A's admin nothing."""
    client = signed_in(world.najat, api=True)
    project_b = Project.objects.get(pk=objects["project_b"])
    for params in ({"charity": objects["charity_b"]}, {"q": project_b.reference}, {"q": "Orphan"}):
        response = client.get("/api/v1/projects/", params)
        assert response.status_code == 200
        assert response.json()["count"] == 0, params
    page = signed_in(world.najat, api=False).get("/projects/", {"charity": objects["charity_b"]})
    assert project_b.reference not in page.content.decode()


def test_writes_leave_foreign_data_untouched(world, objects):
    """The refused writes of the matrix change nothing: checked after najat tries them all on charity B."""
    project_b = Project.objects.get(pk=objects["project_b"])
    before = (project_b.title_en, project_b.updated_at)
    charity_b = Organization.objects.get(pk=objects["charity_b"])
    projects_of_b = set(Project.objects.filter(charity=charity_b).values_list("pk", flat=True))
    api = signed_in(world.najat, api=True)
    assert api.patch(f"/api/v1/projects/{project_b.pk}/", {"title_en": "Hijacked"}, format="json").status_code == 404
    assert api.put(f"/api/v1/projects/{project_b.pk}/", _project_json(objects), format="json").status_code == 404
    response = api.post("/api/v1/projects/", _project_json(objects, charity=objects["charity_b"]), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert api.patch(f"/api/v1/organizations/{charity_b.pk}/", {"name_en": "X"}, format="json").status_code == 403
    # rahma cannot create a project for charity A either
    response = signed_in(world.rahma, api=True).post(
        "/api/v1/projects/", _project_json(objects, charity=objects["charity_a"]), format="json"
    )
    assert response.status_code == 403
    assert set(response.json()["error"]) >= {"code", "message", "fields", "request_id"}
    # a project cannot be moved to another charity
    response = api.patch(f"/api/v1/projects/{objects['project_a']}/", {"charity": charity_b.pk}, format="json")
    assert response.status_code in (400, 403)
    assert Project.objects.get(pk=objects["project_a"]).charity_id == world.charity_a.pk
    project_b.refresh_from_db()
    charity_b.refresh_from_db()
    assert (project_b.title_en, project_b.updated_at) == before
    assert charity_b.name_en == "Al-Rahma Charity"
    assert set(Project.objects.filter(charity=charity_b).values_list("pk", flat=True)) == projects_of_b


# --- query counts: lists must not grow a query per row (N+1) ----------------------------------------

# Most queries each list may make, whatever the number of rows on the page (measured, plus two to spare:
# session, user, two-factor device, memberships, count, page, prefetches; the crowd has 15+ rows per list).
LIST_QUERY_LIMITS = {
    "/": 15,  # with the alerts card and the charity's compliance class (projects/oversight)
    "/alerts/": 8,
    "/compliance/": 8,
    "/api/v1/alerts/": 8,
    "/api/v1/compliance/": 8,
    "/projects/": 9,
    "/projects/review/": 9,
    "/organizations/": 8,
    "/audit/": 8,
    "/api/v1/projects/": 9,
    "/api/v1/organizations/": 8,
    "/api/v1/audit-events/": 8,
}


@pytest.mark.parametrize("persona", ["reviewer", "najat", "rahma", "partner", "auditor"])
@pytest.mark.parametrize("url", LIST_QUERY_LIMITS)
def test_list_query_count_is_bounded(url, persona, world, django_assert_max_num_queries):
    """The shared world holds enough rows (see add_crowd) for an N+1 to break these limits."""
    user = world.personas()[persona]
    client = signed_in(user, api=url.startswith("/api/"))
    client.get(url)  # warm up: session, language and content types are loaded once per process
    with django_assert_max_num_queries(LIST_QUERY_LIMITS[url]):
        response = client.get(url)
    assert response.status_code in (200, 403)


def test_reverse_urls_match_the_table():
    """The table's hard-coded paths are the ones the URLconf gives (a renamed URL must update the table)."""
    assert reverse("projects:project_detail", args=[1]) == "/projects/1/"
    assert reverse("accounts:organization_edit", args=[1]) == "/organizations/1/edit/"
    assert reverse("audit:event_detail", args=[1]) == "/audit/1/"
    assert reverse("project-detail", args=[1]) == "/api/v1/projects/1/"
    assert reverse("audit-event-detail", args=[1]) == "/api/v1/audit-events/1/"
