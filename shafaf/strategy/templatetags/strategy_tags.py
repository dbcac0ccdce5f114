"""`{% strategy_project_section project %}`: the project's strategic objectives and indicators, with the forms
the signed-in user may use."""

from django import template

register = template.Library()


@register.inclusion_tag("strategy/_project_section.html", takes_context=True)
def strategy_project_section(context, project):
    from shafaf.strategy.views import project_section_context

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"strategy_visible": False}
    data = project_section_context(user, project)
    data["strategy_visible"] = True
    data["csrf_token"] = context.get("csrf_token")
    data["request"] = request
    return data


@register.simple_tag
def indicator_value(indicator, value_milli):
    """A value in thousandths as text in the indicator's unit ("1,234.5", "75%", "—")."""
    from shafaf.strategy.values import format_value

    return format_value(value_milli, indicator.unit)
