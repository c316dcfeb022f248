"""One clock: times shown in the force's zone (TIME_ZONE), ranges with both dates when
they cross midnight, and the zone named once per page (base.html's footer)."""

from django import template
from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

register = template.Library()


@register.simple_tag
def window(start, end, day_format="D j M"):
    """"Tue 1 Dec 21:48 – Wed 2 Dec 09:48"; the end's date only when it is another day."""
    if not start or not end:
        return ""
    start, end = timezone.localtime(start), timezone.localtime(end)
    first = date_filter(start, f"{day_format} H:i")
    last = date_filter(end, "H:i" if start.date() == end.date() else f"{day_format} H:i")
    return f"{first} – {last}"


@register.simple_tag
def zone_name():
    """"Europe/London (GMT)": the zone every time on the page is in, and its name now."""
    now = timezone.localtime()
    return f"{settings.TIME_ZONE} ({now.tzname()})"
