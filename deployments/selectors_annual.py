"""The annual report (public): every figure a sum over the year's published records, so
it agrees with them by construction (tests/test_publish_annual.py). Apart from
deployments.selectors, which was past the 800 lines a module should hold."""

from collections import Counter, defaultdict

from django.conf import settings
from django.utils import timezone

from core.stats import too_few, wilson_interval
from deployments.models import DeploymentRecord
from deployments.selectors import (
    COUNT_FIELDS,
    NOT_RECORDED,
    decided,
    format_rate,
    published_records,
    published_row,
)


def _records_of_year(year: int) -> list[DeploymentRecord]:
    # A record belongs to the year of its published "Date" (the local start date), as in
    # the yearly totals on the transparency page.
    return [r for r in published_records() if str(r.fields.get("Date", ""))[:4] == str(year)]


def _rate(part: int, base: int) -> float | None:
    # Ten places: a false alert in tens of thousands of faces must not round to 0.
    return round(part / base, 10) if base else None


def _tally(rows: list[dict], key: str) -> list[dict]:
    groups: dict[str, dict] = {}
    for row in rows:
        t = groups.setdefault(
            str(row[key]),
            {"name": str(row[key]), "deployments": 0, "faces_seen": 0, "alerts": 0,
             "false_alerts": 0, "not_adjudicated": 0, "arrests": 0},
        )  # fmt: skip
        t["deployments"] += 1
        t["faces_seen"] += int(row["Faces seen (estimate)"] or 0)
        t["alerts"] += int(row["Total Alerts"] or 0)
        t["false_alerts"] += _false(row)
        t["not_adjudicated"] += int(row["Not adjudicated"] or 0)
        t["arrests"] += int(row["Outcome - Arrest"] or 0)
    return sorted(groups.values(), key=lambda t: (-t["deployments"], t["name"]))


def _false(fields: dict) -> int:
    return int(fields.get("False Alerts Confirmed") or 0) + int(
        fields.get("False Alerts Unconfirmed") or 0
    )


def rate_over_faces_text(false_alerts: int, faces: int, undecided: int) -> str:
    if not faces:
        return "n/a (no faces counted)"
    one_in = f"1 in {round(faces / false_alerts):,} faces" if false_alerts else "none"
    return _with_undecided(
        f"{100 * false_alerts / faces:.4f}% of {faces:,} faces ({one_in})", undecided
    )


def annual_report(year: int) -> dict:
    """The year's figures, every one a sum over that year's published records (their
    fields and their frozen breakdown), so the report agrees with the records by
    construction. Rates say their base, and undecided alerts stand beside them."""
    from watchlists.models import Category

    records = _records_of_year(year)
    rows = [published_row(r) for r in records]
    total = {k: sum(int(row[k] or 0) for row in rows) for k in [*COUNT_FIELDS, "Not adjudicated"]}
    false_alerts = total["False Alerts Confirmed"] + total["False Alerts Unconfirmed"]
    adjudicated = decided(total)
    undecided = total["Not adjudicated"]
    arrests = Counter()
    groups = defaultdict(lambda: [0, 0])
    for r in records:
        by_category = (r.breakdown or {}).get("arrests_by_category", {})
        arrests.update(by_category)
        # A record computed before breakdowns existed: its arrests are counted, uncategorised.
        arrests[NOT_RECORDED] += int(r.fields.get("Outcome - Arrest") or 0) - sum(
            by_category.values()
        )
        by_group = (r.breakdown or {}).get("by_group")
        if by_group is None:
            groups[NOT_RECORDED][0] += decided(r.fields)
            groups[NOT_RECORDED][1] += _false(r.fields)
        for name, c in (by_group or {}).items():
            groups[name][0] += c["decided"]
            groups[name][1] += c["false"]
    known = [*settings.LFR_EQUALITY_GROUPS]
    known += [NOT_RECORDED] if NOT_RECORDED not in known else []
    group_rows = []
    for name in known + sorted(g for g in groups if g not in known):
        n, false = groups.get(name, (0, 0))
        low, high = wilson_interval(false, n)
        group_rows.append(
            {"group": name, "decided_alerts": n, "false_alerts": false, "rate": _rate(false, n),
             "ci_low": round(low, 4) if n else None, "ci_high": round(high, 4) if n else None,
             "too_few_to_conclude": too_few(n, low, high)}
        )  # fmt: skip
    labels = dict(Category.choices)
    return {
        "year": year,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "records": [row["Deployment Reference"] for row in rows],
        "provisional_records": sum(row["Record Status"].startswith("provisional") for row in rows),
        "deployments": len(rows),
        "faces_seen": total["Faces seen (estimate)"],
        "alerts": total["Total Alerts"],
        "true_alerts": total["True Alerts Confirmed"] + total["True Alerts Unconfirmed"],
        "false_alerts": false_alerts,
        "false_alerts_confirmed": total["False Alerts Confirmed"],
        "false_alerts_unconfirmed": total["False Alerts Unconfirmed"],
        "adjudicated_alerts": adjudicated,
        "not_adjudicated": undecided,
        "false_alert_rate_over_alerts": _rate(false_alerts, adjudicated),
        "false_alert_rate_over_alerts_text": _with_undecided(
            format_rate(false_alerts, adjudicated, total["Total Alerts"]), undecided
        ),
        "false_alert_rate_over_faces": _rate(false_alerts, total["Faces seen (estimate)"]),
        "false_alert_rate_over_faces_text": rate_over_faces_text(
            false_alerts, total["Faces seen (estimate)"], undecided
        ),
        "arrests": total["Outcome - Arrest"],
        "outcome_other": total["Outcome - Other"],
        "no_action": total["No action"],
        "arrests_by_category": [
            {"category": key, "label": labels.get(key, key), "arrests": arrests[key]}
            for key in [*Category.values, NOT_RECORDED]
            if key in Category.values or arrests[key]
        ],
        "by_use_case": _tally(rows, "LFR Use Case"),
        "by_site": _tally(rows, "Deployment Location"),
        "false_alerts_by_group": group_rows,
    }


def _with_undecided(text: str, undecided: int) -> str:
    return f"{text}; {undecided} not adjudicated" if undecided else text


ANNUAL_TOTALS = [
    ("deployments", "Deployments"),
    ("faces_seen", "Faces seen (estimate)"),
    ("alerts", "Alerts"),
    ("true_alerts", "True alerts"),
    ("false_alerts", "False alerts"),
    ("false_alerts_confirmed", "False alerts confirmed"),
    ("false_alerts_unconfirmed", "False alerts unconfirmed"),
    ("adjudicated_alerts", "Adjudicated alerts"),
    ("not_adjudicated", "Not adjudicated"),
    ("false_alert_rate_over_alerts_text", "False alert rate (of adjudicated alerts)"),
    ("false_alert_rate_over_faces_text", "False alert rate (of faces seen)"),
    ("arrests", "Outcome - Arrest"),
    ("outcome_other", "Outcome - Other"),
    ("no_action", "No action"),
    ("provisional_records", "Provisional records"),
]
ANNUAL_CSV_COLUMNS = ["section", "item", "figure", "value"]


def annual_csv_rows(report: dict):
    """The report as long rows (section, item, figure, value): one shape for every table."""
    for key, label in ANNUAL_TOTALS:
        yield {"section": "totals", "item": "", "figure": label, "value": report[key]}
    for row in report["arrests_by_category"]:
        yield {"section": "arrests_by_category", "item": row["label"], "figure": "Arrests",
               "value": row["arrests"]}  # fmt: skip
    for section in ("by_use_case", "by_site"):
        for row in report[section]:
            for figure, value in row.items():
                if figure != "name":
                    yield {"section": section, "item": row["name"], "figure": figure,
                           "value": value}  # fmt: skip
    for row in report["false_alerts_by_group"]:
        for figure, value in row.items():
            if figure != "group":
                yield {"section": "false_alerts_by_group", "item": row["group"],
                       "figure": figure, "value": value}  # fmt: skip
    for reference in report["records"]:
        yield {"section": "records", "item": reference, "figure": "Deployment Reference",
               "value": reference}  # fmt: skip
