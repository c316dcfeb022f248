"""Demo data for `make demo`: a site, a looping file camera, a watchlist, a live deployment.

Idempotent: what exists is kept. Everything goes through the same services a person
would use (two-person watchlist approval, authorisation by someone other than the
requester, the activation gate), so the demo shows the rules working, not bypassed.
"""

import json
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from deployments import services as deployments
from deployments.models import Camera, Deployment, Site
from deployments.selectors import COMMITTED
from recognition.selectors import identification_runs
from recognition.services.evaluation import identification_dataset, identification_run_record
from watchlists import services as watchlists
from watchlists.models import WatchlistEntry

EXAMPLES = Path("faces", "face_recognition", "examples")
SAMPLE_RUN = Path(__file__).resolve().parents[2] / "data" / "identification_sample_run.json"
CLIP = EXAMPLES / "short_hamilton_clip.mp4"
# Looser than the default (0.50): the sample clip's faces are 28-50 px and come no closer
# than 0.54 (Lin-Manuel Miranda) and 0.57 (Alex Lacamoire) to their reference photos, so
# at 0.50 the demo would show no alert. A demo on recorded footage, not an operating point.
DEMO_THRESHOLD = 0.55
SITE = "Demo site: Richard Rodgers Theatre"
CAMERA = "Demo camera 1 (Hamilton clip, looped)"
# (subject reference, display name, sample image)
SUBJECTS = [
    ("DEMO-LMM", "Lin-Manuel Miranda (demo)", "lin-manuel-miranda.png"),
    ("DEMO-AL", "Alex Lacamoire (demo)", "alex-lacamoire.png"),
]
DEMO_USERS = ("command", "authoriser", "contributor", "manager", "officer", "officer2", "admin")


def demo_deployment(*, users, cameras, site, starts_at, ends_at, label="Demo") -> Deployment:
    """Plan, submit and authorise a demo deployment as command staff and an authoriser
    would (the demo seeding and the soak check): recorded footage, no real place."""
    deployment = deployments.deployment_create(
        by=users["command"],
        cameras=cameras,
        officers=[users["officer"], users["officer2"]],
        use_case="event_protection",
        site=site,
        starts_at=starts_at,
        ends_at=ends_at,
        necessity=f"{label}: shows the live console end to end on recorded footage.",
        proportionality=f"{label}: recorded public sample video, no real place watched.",
        location_rationale=f"{label}: the sample clip's stage.",
        watchlist_categories=["wanted"],
        max_watchlist_size=10,
        threshold=min(DEMO_THRESHOLD, settings.LFR_THRESHOLD_MAX),
        dpia_reference=f"{label.upper()}-DPIA-1",
        policy_reference=f"{label.upper()}-APD-1",
        equality_reference=f"{label.upper()}-EIA-1",
        public_notice=True,
    )
    deployments.deployment_submit(deployment=deployment, by=users["command"])
    deployments.deployment_authorise(
        deployment=deployment,
        by=users["authoriser"],
        reason=f"{label} deployment",
        # It starts now, inside any notice lead: the authoriser says why, as a real one must.
        short_notice_reason=f"{label}: recorded sample footage, no public place is watched.",
    )
    return deployment


class Command(BaseCommand):
    help = "Create the demo site, camera, watchlist and a deployment live now (idempotent)."

    def handle(self, *args, **options):
        users = self._users()
        self._evaluation()
        data_dir = Path(settings.LFR_DATA_DIR)
        if not (data_dir / CLIP).is_file():
            self.stdout.write(
                self.style.WARNING(
                    f"Sample data not found under {data_dir}: the demo starts without its "
                    "camera, watchlist and deployment. To get them, point LFR_DATA_DIR at the "
                    "shared sample data folder (it holds faces/face_recognition/examples/"
                    "short_hamilton_clip.mp4, from github.com/ageitgey/face_recognition) "
                    "and run `make demo` again."
                )
            )
            return
        site = Site.objects.filter(name=SITE).first() or deployments.site_create(
            by=users["admin"], name=SITE, address="Demo only: no real place is watched"
        )
        camera = self._camera(users, site, data_dir)
        self._watchlist(users, data_dir)
        deployment = self._deployment(users, site, camera)
        if deployment is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo deployment {deployment.reference} is {deployment.state} on "
                    f"{camera.name}. Log in as 'officer' and open Live alerts: alerts for "
                    "the demo watchlist arrive within a minute."
                )
            )

    def _evaluation(self) -> None:
        """One stored 1:N run so the accuracy page and the operating point are never empty:
        the figures `evaluate_identification` measured on the sample set (see its file)."""
        if identification_runs().exists():
            return
        result = json.loads(SAMPLE_RUN.read_text())
        run = identification_run_record(
            dataset=identification_dataset(
                result,
                "Sample set recognition/data/identification_set.json (measured with "
                "evaluate_identification; figures in identification_sample_run.json)",
            ),
            result=result,
            operating_point=result["operating_point"],
        )
        self.stdout.write(f"Accuracy: sample 1:N evaluation stored as run {run.pk}")

    def _users(self) -> dict:
        found = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERS)}
        missing = sorted(set(DEMO_USERS) - set(found))
        if missing:
            raise CommandError(
                f"Demo users missing ({', '.join(missing)}): run `manage.py seed_demo`."
            )
        return found

    def _camera(self, users, site, data_dir) -> Camera:
        camera = Camera.objects.filter(name=CAMERA).first()
        clip = str((data_dir / CLIP).resolve())
        if camera is None:
            return deployments.camera_create(
                by=users["admin"], name=CAMERA, stream_url=clip, site=site, loop=True
            )
        if camera.stream_url != clip:
            # LFR_DATA_DIR moved since the last seed: follow it, unless a live deployment
            # uses the camera (a live camera is never re-pointed; the next run follows).
            try:
                camera = deployments.camera_update(
                    camera=camera,
                    by=users["admin"],
                    name=CAMERA,
                    stream_url=clip,
                    site=site,
                    enabled=True,
                    loop=True,
                )
            except ValidationError as exc:
                self.stdout.write(
                    self.style.WARNING(f"Demo camera kept as it is: {' '.join(exc.messages)}")
                )
        return camera

    def _watchlist(self, users, data_dir) -> None:
        for reference, name, image in SUBJECTS:
            held = WatchlistEntry.objects.filter(
                subject__reference=reference, state=WatchlistEntry.State.APPROVED
            )
            if held.exists():
                continue
            result = watchlists.image_inspect((data_dir / EXAMPLES / image).read_bytes())
            entry = watchlists.entry_submit(
                by=users["contributor"],
                subject=watchlists.SubjectInput(reference=reference, display_name=name),
                category="wanted",
                legal_basis="Demo data: public photograph from the face_recognition examples",
                case_reference=f"DEMO-CASE-{reference}",
                provenance=f"{EXAMPLES / image} (MIT licence)",
                images=[result],
            )
            watchlists.entry_decide(
                entry_id=entry.pk, by=users["manager"], approve=True, reason="Demo watchlist"
            )
            self.stdout.write(f"Watchlist: {reference} submitted (contributor), approved (manager)")

    def _deployment(self, users, site, camera) -> Deployment | None:
        """The demo's deployment: one whose authorised window is now. A deployment planned
        for another time is left to start at its own start; the activation gate decides."""
        now = timezone.now()
        current = (
            Deployment.objects.filter(
                cameras=camera,
                state__in=[Deployment.State.LIVE, Deployment.State.AUTHORISED],
                starts_at__lte=now,
                ends_at__gt=now,
            )
            .order_by("-ends_at")
            .first()
        )
        deployment = current or self._plan(users, site, camera, now)
        if deployment is None:
            return None
        deployment.officers.add(users["officer"], users["officer2"])
        if deployment.state == Deployment.State.AUTHORISED:
            if not deployments.deployment_go_live(deployment=deployment):
                deployment.refresh_from_db()
                blockers = [
                    deployments.window_blocker(deployment, timezone.now()),
                    *deployments.activation_blockers(deployment),
                ]
                self.stdout.write(
                    self.style.WARNING(f"Not live: {', '.join(b for b in blockers if b)}")
                )
            deployment.refresh_from_db()
        return deployment

    def _plan(self, users, site, camera, now) -> Deployment | None:
        """Plan, submit and authorise a deployment from now, ending before the next
        deployment booked on the demo camera (a stopped one is free from its actual end)."""
        ends_at = now + timedelta(hours=settings.LFR_MAX_DEPLOYMENT_HOURS)
        booked = (
            Deployment.objects.filter(
                cameras=camera,
                state__in=COMMITTED,
                starts_at__gt=now,
            )
            .order_by("starts_at")
            .values_list("starts_at", flat=True)
            .first()
        )
        if booked is not None:
            ends_at = min(ends_at, booked)
        if ends_at - now < timedelta(minutes=5):
            self.stdout.write(
                self.style.WARNING(
                    f"No demo deployment: {camera.name} is booked from "
                    f"{timezone.localtime(booked):%Y-%m-%d %H:%M}."
                )
            )
            return None
        try:
            # All or nothing: a refused plan leaves no stray draft behind.
            with transaction.atomic():
                deployment = demo_deployment(
                    users=users, cameras=[camera], site=site, starts_at=now, ends_at=ends_at
                )
        except ValidationError as exc:
            # The demo still serves (users, watchlist, past records); it says why not live.
            self.stdout.write(
                self.style.WARNING(f"Demo deployment refused: {' '.join(exc.messages)}")
            )
            return None
        deployment.refresh_from_db()
        return deployment
