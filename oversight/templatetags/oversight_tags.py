from django import template

register = template.Library()


@register.filter
def pct(value, digits=1):
    """0.0482 -> "4.8%"; None (nothing to divide by) -> an em dash."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def dash(value):
    return "—" if value is None or value == "" else value


@register.filter
def thousands(value):
    """12000 -> "12,000" (without loading django.contrib.humanize for one filter)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
