"""{% export_links %}: the CSV and Excel downloads of the list on the page, with the page's current filters."""

from django import template

from shafaf.interop.tables import export_urls

register = template.Library()


@register.inclusion_tag("tables/_export_links.html", takes_context=True)
def export_links(context, testid: str = "export"):
    request = context["request"]
    return {"urls": export_urls(request), "testid": testid}
