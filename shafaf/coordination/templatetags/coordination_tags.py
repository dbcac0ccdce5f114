"""`{% coordination_panel project %}`: the project's latest coordination check, as the signed-in user may see it."""

from django import template

register = template.Library()


@register.inclusion_tag("coordination/_project_panel.html", takes_context=True)
def coordination_panel(context, project):
    from shafaf.coordination.views import panel_context

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"coordination_visible": False}
    data = panel_context(user, project)
    data["csrf_token"] = context.get("csrf_token")
    data["request"] = request
    return data
