"""Charts in templates: ``{% load metrics_charts %}`` then
``{% line_chart title=... labels=... series=... unit="gbp" %}``.

Thin wrappers: every keyword goes straight to ``metrics.charts``, which escapes all text and
returns safe markup. Build ``Series`` objects in the view and pass them in the context.
"""

from django import template

from .. import charts

register = template.Library()


@register.simple_tag
def line_chart(**kwargs):
    """An SVG line chart; see ``metrics.charts.line_chart``."""
    return charts.line_chart(**kwargs)


@register.simple_tag
def bar_chart(**kwargs):
    """An SVG bar chart; see ``metrics.charts.bar_chart``."""
    return charts.bar_chart(**kwargs)


@register.simple_tag
def fan_chart(**kwargs):
    """An SVG forecast fan chart; see ``metrics.charts.fan_chart``."""
    return charts.fan_chart(**kwargs)
