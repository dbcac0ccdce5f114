from django.conf import settings
from django.utils import translation


def shafaf(request):
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    can_browse = can_review = can_rulebook = False
    if authenticated:
        from shafaf.audit.selectors import can_browse_audit
        from shafaf.projects.permissions import can_view_review_queue
        from shafaf.projects.rulebook.permissions import can_view_rulebook

        can_browse = can_browse_audit(user)
        can_review = can_view_review_queue(user)
        can_rulebook = can_view_rulebook(user)
    return {
        "SHAFAF_DEMO_MODE": settings.SHAFAF_DEMO_MODE,
        "OTHER_LANGUAGE": "en" if (translation.get_language() or "ar").startswith("ar") else "ar",
        "user_roles": user.role_labels() if authenticated else [],
        "can_browse_audit": can_browse,
        "can_review_projects": can_review,
        "can_view_rulebook": can_rulebook,
    }
