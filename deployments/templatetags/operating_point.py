"""How the operating point's figures read on a page (formatting only: the figures come
from recognition.selectors.operating_point)."""

from django import template

register = template.Library()


@register.filter
def per_thousand(rate):
    """0.00259 -> "≤ 2.59"; a bound of 1 (no evidence) -> "≤ 1,000"."""
    if rate is None:
        return "unknown"
    return f"≤ {float(rate) * 1000:,.3g}"


@register.filter
def percent(rate):
    return "—" if rate is None else f"{float(rate):.0%}"


@register.filter
def one_in(rate):
    """0.001 -> "1,000"."""
    return f"{round(1 / float(rate)):,}" if rate else "—"
