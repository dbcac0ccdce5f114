from __future__ import annotations

from shafaf.accounts.choices import OVERSIGHT_ROLES, Role

from .models import AuditEvent


def events_visible_to(user, queryset=None):
    """Auditors and the ministry read the whole trail; a charity admin reads its own charity's events."""
    queryset = AuditEvent.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    roles = user.roles()
    if roles & OVERSIGHT_ROLES:
        return queryset
    if Role.CHARITY_ADMIN in roles:
        own = user.active_memberships().filter(role=Role.CHARITY_ADMIN).values("organization_id")
        return queryset.filter(organization_id__in=own)
    return queryset.none()


def can_browse_audit(user) -> bool:
    return user.is_authenticated and bool(user.roles() & (OVERSIGHT_ROLES | {Role.CHARITY_ADMIN}))


def can_take_checkpoint(user) -> bool:
    """Auditors and ministry administrators fix the chain's state in a checkpoint they keep outside."""
    return user.is_authenticated and bool(user.roles() & {Role.AUDITOR, Role.MINISTRY_ADMIN})


def events_about(subject, actions=None):
    """The events recorded about one object (oldest first), for a page that has already checked that the
    user may see that object (a project's timeline shows its creation and edits)."""
    from .services import subject_type_of

    queryset = AuditEvent.objects.filter(subject_type=subject_type_of(subject), subject_id=str(subject.pk))
    if actions is not None:
        queryset = queryset.filter(action__in=list(actions))
    return queryset.order_by("seq")
