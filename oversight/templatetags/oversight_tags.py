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


@register.filter
def interval(pair, digits=1):
    """[0.544, 0.94] -> "54.4–94.0 %"; None -> an em dash."""
    if not pair:
        return "—"
    return f"{pair[0] * 100:.{int(digits)}f}–{pair[1] * 100:.{int(digits)}f} %"


@register.filter
def at_size(row, size):
    """A 1:N row's implied false-alert bound at a watchlist size (the stored key is text)."""
    return (row.get("implied_fpir") or {}).get(str(size))


@register.filter
def sci(value):
    return "—" if value is None else f"{float(value):.2g}"
