"""The project lifecycle as a plain table: who may take which action from which state, and where it leads.

No I/O here. services.project_transition applies the table (and claims the change in the database);
permissions.py asks it which actions a user may take now. Parties, not users, appear in the table:

- "charity":        an admin or staff member of the charity that owns the project;
- "charity_admin":  an admin of that charity;
- "ministry":       a ministry reviewer or administrator (MOSA).

Auditors, donors, partner reporters, accreditation officers and charity finance officers never move a
project. A party that may never take an action is refused (403); one that may take it, but not from the
project's current state, is told the state does not allow it (409).

    action           from                                              to                 who            reason
    submit           draft, changes requested                          submitted          charity
    start-review     submitted                                         under review       ministry
    request-changes  under review                                      changes requested  ministry       required
    approve          under review                                      approved           ministry
    reject           under review                                      rejected           ministry       required
    start            approved                                          in execution       charity
    complete         in execution                                      completed          charity
    close            completed                                         closed             ministry
    suspend          approved, in execution                            suspended          ministry       required
    resume           suspended                                         the state before   ministry
    cancel           draft, submitted, under review, changes requested cancelled          charity admin  required

An edit of a licensed project's scope (services.project_update) sends it back to "submitted" as a revision
(action "revise"); approving the revision returns it to the state it was revised from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import MINISTRY_ROLES, Role

from .choices import ProjectAction, ProjectStatus

S = ProjectStatus

CHARITY = "charity"
CHARITY_ADMIN = "charity_admin"
MINISTRY = "ministry"

# Roles making up each party ("charity" roles count only in the charity that owns the project).
PARTY_ROLES: dict[str, frozenset[str]] = {
    CHARITY: frozenset({Role.CHARITY_ADMIN, Role.CHARITY_STAFF}),
    CHARITY_ADMIN: frozenset({Role.CHARITY_ADMIN}),
    MINISTRY: frozenset(MINISTRY_ROLES),
}
OWNER_PARTIES = frozenset({CHARITY, CHARITY_ADMIN})

# The target of "resume": the state the project was suspended from (Project.resume_status).
PREVIOUS_STATE = "previous"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str  # a ProjectStatus, or PREVIOUS_STATE
    who: str  # a party: CHARITY, CHARITY_ADMIN or MINISTRY
    reason_required: bool = False
    label: Promise | str = ""  # the button
    confirm: Promise | str = ""  # asked before a consequential action
    allowed_on_revision: bool = True


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        ProjectAction.SUBMIT,
        frozenset({S.DRAFT, S.CHANGES_REQUESTED}),
        S.SUBMITTED,
        CHARITY,
        label=_("Submit to the ministry"),
        confirm=_("Submit this project to the ministry for review? It cannot be edited while under review."),
    ),
    Transition(ProjectAction.START_REVIEW, frozenset({S.SUBMITTED}), S.UNDER_REVIEW, MINISTRY, label=_("Start review")),
    Transition(
        ProjectAction.REQUEST_CHANGES,
        frozenset({S.UNDER_REVIEW}),
        S.CHANGES_REQUESTED,
        MINISTRY,
        reason_required=True,
        label=_("Request changes"),
    ),
    Transition(
        ProjectAction.APPROVE,
        frozenset({S.UNDER_REVIEW}),
        S.APPROVED,
        MINISTRY,
        label=_("Approve and license"),
        confirm=_("Approve this project? It will be licensed with a licence number."),
    ),
    Transition(
        ProjectAction.REJECT,
        frozenset({S.UNDER_REVIEW}),
        S.REJECTED,
        MINISTRY,
        reason_required=True,
        label=_("Reject"),
        confirm=_("Reject this project? A rejection is final."),
    ),
    Transition(ProjectAction.START, frozenset({S.APPROVED}), S.IN_EXECUTION, CHARITY, label=_("Start execution")),
    Transition(
        ProjectAction.COMPLETE,
        frozenset({S.IN_EXECUTION}),
        S.COMPLETED,
        CHARITY,
        label=_("Mark as completed"),
        confirm=_("Mark this project as completed?"),
    ),
    Transition(
        ProjectAction.CLOSE,
        frozenset({S.COMPLETED}),
        S.CLOSED,
        MINISTRY,
        label=_("Close"),
        confirm=_("Close this project? Its record stays, read-only."),
    ),
    Transition(
        ProjectAction.SUSPEND,
        frozenset({S.APPROVED, S.IN_EXECUTION}),
        S.SUSPENDED,
        MINISTRY,
        reason_required=True,
        label=_("Suspend"),
        confirm=_("Suspend this project?"),
    ),
    Transition(ProjectAction.RESUME, frozenset({S.SUSPENDED}), PREVIOUS_STATE, MINISTRY, label=_("Resume")),
    Transition(
        ProjectAction.CANCEL,
        frozenset({S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED}),
        S.CANCELLED,
        CHARITY_ADMIN,
        reason_required=True,
        label=_("Cancel the project"),
        confirm=_("Cancel this project? A cancellation is final."),
        # Once licensed, a project is not withdrawn by the charity alone (a revision in review is licensed).
        allowed_on_revision=False,
    ),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
ACTIONS: tuple[str, ...] = tuple(BY_ACTION)  # in the table's order, which is also the order of the buttons

# An edit of a licensed project's scope sends it back to review from these states (services.project_update).
REVISABLE_STATUSES = frozenset({S.APPROVED, S.IN_EXECUTION})
# A charity edits its project in these states (scope edits of a licensed one become a revision).
EDITABLE_STATUSES = frozenset({S.DRAFT, S.CHANGES_REQUESTED}) | REVISABLE_STATUSES
TERMINAL_STATUSES = frozenset({S.CLOSED, S.REJECTED, S.CANCELLED})


def parties(*, roles_in_owner: Iterable[str], roles: Iterable[str]) -> frozenset[str]:
    """The parties a user acts as for one project: `roles_in_owner` are the user's roles in the charity that
    owns it, `roles` all the user's roles."""
    in_owner, everywhere = set(roles_in_owner), set(roles)
    found = set()
    for party, party_roles in PARTY_ROLES.items():
        held = in_owner if party in OWNER_PARTIES else everywhere
        if held & party_roles:
            found.add(party)
    return frozenset(found)


def may(transition: Transition, acting_as: Iterable[str]) -> bool:
    """Whether the party may ever take this action (whatever the state)."""
    return transition.who in set(acting_as)


def applies(transition: Transition, status: str, *, is_revision: bool = False) -> bool:
    """Whether the action applies from this state."""
    if status not in transition.sources:
        return False
    return transition.allowed_on_revision or not is_revision


def target(transition: Transition, *, resume_status: str = "", is_revision: bool = False) -> str:
    """Where the action leads. "resume" returns to the suspended-from state; approving a revision returns to
    the state the project was revised from (both kept in Project.resume_status)."""
    if transition.target == PREVIOUS_STATE:
        return resume_status or S.APPROVED
    if transition.action == ProjectAction.APPROVE and is_revision and resume_status:
        return resume_status
    return transition.target


def available(status: str, acting_as: Iterable[str], *, is_revision: bool = False) -> list[str]:
    """The actions these parties may take now, in the table's order."""
    acting_as = set(acting_as)
    return [t.action for t in TRANSITIONS if may(t, acting_as) and applies(t, status, is_revision=is_revision)]
