"""`{% partners_nav_visible as show %}`: whether the navigation shows the partner registry to the user."""

from django import template

from shafaf.partners.permissions import can_view_partner_list

register = template.Library()


@register.simple_tag(takes_context=True)
def partners_nav_visible(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and can_view_partner_list(user))
