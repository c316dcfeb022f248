from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from core.models import AuditEvent
from deployments.models import Site, UseCase


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


class PeriodForm(forms.Form):
    """A period of whole days (inclusive), for reports over alerts."""

    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def period(self) -> dict:
        if not self.is_valid():
            return {}
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        return {
            "since": _day_start(since),
            "until": _day_start(until + timedelta(days=1)) if until else None,
        }


class ReportFilterForm(forms.Form):
    """Which deployments a report covers: by start date, use case and site."""

    since = forms.DateField(
        required=False,
        label="Started on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        label="Started on or before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    use_case = forms.ChoiceField(required=False, choices=[("", "All use cases"), *UseCase.choices])
    site = forms.ModelChoiceField(
        required=False, queryset=Site.objects.order_by("name"), empty_label="All sites"
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        until = data.get("until")
        return {
            "since": _day_start(data.get("since")),
            "until": _day_start(until + timedelta(days=1)) if until else None,
            "use_case": data.get("use_case") or "",
            "site_id": data["site"].pk if data.get("site") else None,
        }


class AuditFilterForm(forms.Form):
    """The audit explorer's filters; every field optional."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        help_text="Words found anywhere: user, action, object, purpose or details.",
    )
    user = forms.CharField(required=False, max_length=150, label="User (exact name)")
    action = forms.CharField(required=False, max_length=80, label="Action starts with")
    object_type = forms.CharField(required=False, max_length=80, label="Object type")
    object_id = forms.CharField(required=False, max_length=80, label="Object id")
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditEvent.OUTCOMES])
    since = forms.DateTimeField(
        required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class EvaluationUploadForm(forms.Form):
    """A labelled set for an evaluation run: a ZIP of gallery/ and probes/ folders (1:N),
    or of images and pairs.csv (1:1)."""

    archive = forms.FileField(
        label="ZIP of a labelled set",
        help_text="1:N (as deployments search): gallery/<person>/ and probes/<person>/ "
        "folders of images; probes of people not in the gallery are passers-by. 1:1: "
        "pairs.csv with the columns a,b,same (two image paths relative to it, yes or no) "
        "and the images.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
