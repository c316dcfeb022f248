"""One clock: times shown in the force's zone (TIME_ZONE) in one format (`when`), ranges
with both dates when they cross midnight, and the zone named once per page (base.html's
footer). Loaded in every template (settings.TEMPLATES builtins). Machine formats (exports,
the API) carry ISO 8601 with the offset instead: core.exports.iso_time."""

from django import template
from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.dateparse import parse_datetime

register = template.Library()


WHEN = "Y-m-d H:i"


@register.filter
def when(moment, precision=""):
    """ "2026-07-10 11:05" in the force's zone; `when:"seconds"` adds the seconds (audit
    evidence). Takes a datetime or an ISO 8601 string; "" for none."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if not moment:
        return ""
    fmt = f"{WHEN}:s" if precision == "seconds" else WHEN
    return date_filter(timezone.localtime(moment), fmt)


@register.simple_tag
def window(start, end, day_format="Y-m-d"):
    """ "2026-12-01 21:48 – 2026-12-02 09:48" (`when`'s format); the end's date only when it
    is another day. The calendar, whose columns are days, passes "D" (the weekday)."""
    if not start or not end:
        return ""
    start, end = timezone.localtime(start), timezone.localtime(end)
    first = date_filter(start, f"{day_format} H:i")
    last = date_filter(end, "H:i" if start.date() == end.date() else f"{day_format} H:i")
    return f"{first} – {last}"


@register.simple_tag
def zone_name():
    """ "Europe/London (GMT)": the zone every time on the page is in, and its name now."""
    now = timezone.localtime()
    return f"{settings.TIME_ZONE} ({now.tzname()})"


@register.filter
def days_in_words(days):
    """A span of days as people say it: "12 days", "7 months", "3 years 2 months"."""
    if days is None or days == "":
        return "unknown"
    days = int(days)
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''}"
    months = round(days / 30.4375)
    if months < 24:
        return f"{months} months"
    years, months = divmod(months, 12)
    return f"{years} years" + (f" {months} month{'s' if months != 1 else ''}" if months else "")


@register.simple_tag
def image_max_age():
    """The reference-image age past which an image is flagged (LFR_IMAGE_MAX_AGE_DAYS)."""
    return days_in_words(settings.LFR_IMAGE_MAX_AGE_DAYS)
