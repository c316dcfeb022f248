"""Demo history for the transparency pages: three finished deployments of the last
months with decided (and one undecided) alerts, their published records and the notice of
each use sent to the authorities. Idempotent.

Written straight to the models: the planning services rightly refuse a window in the past,
and a deployment cannot be run backwards. The alerts carry no crop (as after retention) and
the frozen watchlists are destroyed (as after the grace period): only ids and counts.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from deployments import services as deployments
from deployments.models import Camera, Deployment, DeploymentWatchlist, Site
from recognition.models import Adjudication, Alert
from watchlists.models import WatchlistEntry

# (reference, site, use case, days ago, hours, faces seen, alerts as
# [(decision: (true, confirmed, outcome, perceived group) or None, officer)])
HISTORY = [
    ("DEMO-H1", "Demo history: Oxford Circus", "crime_hotspot", 75, 6, 21450, [
        ((True, True, "arrest", "White"), "officer"),
        ((True, True, "arrest", "Black"), "officer2"),
        ((False, True, "no_action", "Black"), "officer"),
        ((True, False, "other", "Asian"), "officer2"),
    ]),
    ("DEMO-H2", "Demo history: Wembley Park", "event_protection", 45, 8, 38210, [
        ((True, True, "arrest", "Mixed"), "officer"),
        ((True, True, "other", "White"), "officer"),
        (None, ""),
    ]),
    ("DEMO-H3", "Demo history: Croydon", "missing_persons", 20, 4, 9120, [
        ((True, True, "other", ""), "officer2"),
    ]),
]  # fmt: skip
USERS = ("command", "authoriser", "officer", "officer2")


class Command(BaseCommand):
    help = "Add three finished demo deployments with alerts and published records (idempotent)."

    def handle(self, *args, **options):
        found = {u.username: u for u in get_user_model().objects.filter(username__in=USERS)}
        if len(found) != len(USERS):
            raise CommandError("Demo users missing: run `manage.py seed_demo` first.")
        entries = list(
            WatchlistEntry.objects.filter(subject__reference__startswith="DEMO-")
            .select_related("subject")
            .order_by("pk")
        )
        if not entries:
            raise CommandError("The demo watchlist is missing: run `manage.py seed_demo` first.")
        now = timezone.now()
        for ref, site_name, use_case, days_ago, hours, faces, alerts in HISTORY:
            if Deployment.objects.filter(reference=ref).exists():
                continue
            d = self._deployment(found, ref, site_name, use_case, now - timedelta(days=days_ago),
                                 hours, faces, entries)  # fmt: skip
            for i, (decision, officer) in enumerate(alerts):
                self._alert(d, entries[i % len(entries)], i, decision, found.get(officer))
            deployments.record_compute(deployment=d)
            for _, authority in settings.LFR_NOTICE_AUTHORITIES:
                deployments.use_notice_send(
                    deployment=d, by=found["authoriser"], authority=authority,
                    reference=f"demo: {ref} notified",
                )  # fmt: skip
            self.stdout.write(f"Demo history: {ref} at {site_name}, {len(alerts)} alerts")

    def _deployment(self, users, ref, site_name, use_case, start, hours, faces, entries):
        site, _ = Site.objects.get_or_create(
            name=site_name, defaults={"address": "Demo only: no real place is watched"}
        )
        camera, _ = Camera.objects.get_or_create(
            name=f"{site_name} camera", defaults={"site": site, "stream_url": "demo.mp4"}
        )
        end = start + timedelta(hours=hours)
        d = Deployment.objects.create(
            reference=ref, use_case=use_case, site=site, starts_at=start, ends_at=end,
            necessity="Demo history.", proportionality="Demo history.",
            location_rationale="Demo history.", watchlist_categories=["wanted"],
            max_watchlist_size=10, threshold=settings.LFR_THRESHOLD_DEFAULT,
            dpia_reference="DEMO-DPIA-1", policy_reference="DEMO-APD-1",
            equality_reference="DEMO-EIA-1", state=Deployment.State.COMPLETED,
            requested_by=users["command"], submitted_at=start - timedelta(days=10),
            authorised_by=users["authoriser"], authorised_at=start - timedelta(days=9),
            decision_reason="Demo history", started_at=start, ended_at=end,
            end_reason="scheduled end", faces_seen=faces,
        )  # fmt: skip
        d.cameras.add(camera)
        d.officers.add(users["officer"], users["officer2"])
        DeploymentWatchlist.objects.create(
            deployment=d, frozen_at=d.authorised_at, entry_ids=[e.pk for e in entries],
            subject_references=[e.subject.reference for e in entries],
            size_by_category={"wanted": len(entries)}, entry_count=len(entries),
            destroyed_at=end + timedelta(hours=settings.LFR_WATCHLIST_GRACE_HOURS),
        )  # fmt: skip
        return d

    def _alert(self, d, entry, i, decision, officer):
        at = d.started_at + timedelta(minutes=20 + 35 * i)
        d.last_alert_seq += 1
        Deployment.objects.filter(pk=d.pk).update(last_alert_seq=d.last_alert_seq)
        alert = Alert.objects.create(
            deployment=d, camera=d.cameras.get(), seq=d.last_alert_seq,
            changed_seq=d.last_alert_seq, entry_id=entry.pk,
            subject_reference=entry.subject.reference, distance=0.42 + 0.01 * i,
            threshold=d.threshold, frame_at=at, last_seen_at=at, track_id=f"demo-{i}",
            camera_ids=[d.cameras.get().pk],
        )  # fmt: skip
        Alert.objects.filter(pk=alert.pk).update(created_at=at)
        if decision is not None:
            true, confirmed, outcome, group = decision
            adj = Adjudication.objects.create(
                alert=alert, by=officer, is_true_match=true, confirmed=confirmed,
                outcome=outcome, perceived_group=group,
            )  # fmt: skip
            Adjudication.objects.filter(pk=adj.pk).update(at=at + timedelta(minutes=3))
