"""`{% partners_nav_visible as show %}`: whether the navigation shows the partner registry to the user."""

from django import template

from shafaf.partners.permissions import can_view_partner_list

register = template.Library()


@register.simple_tag(takes_context=True)
def partners_nav_visible(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and can_view_partner_list(user))


@register.filter
def country_name(code: str) -> str:
    """The country's name in the page's language for an ISO 3166-1 code ("SD" -> "السودان"), or "—"."""
    from shafaf.projects.codelists import country_label

    return country_label(code) if code else "—"
