"""A Hypothesis state machine drives the lifecycle services against the real database,
on a clock it moves itself: no transition outside the diagram, never live without
authorisation or outside the authorised window, no camera booked past an actual end, no
frozen watchlist kept past its actual end + grace."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core import access
from deployments import selectors, services
from deployments.models import Camera, Deployment, DeploymentWatchlist, Site
from oversight import selectors as oversight

# The lifecycle diagram, written out here independently of services.TRANSITIONS.
# (Urgent mode is off, so submitted → live and live → cancelled are not allowed.)
ALLOWED = {
    ("draft", "submitted"),
    ("draft", "cancelled"),
    ("submitted", "authorised"),
    ("submitted", "refused"),
    ("submitted", "cancelled"),
    ("authorised", "live"),
    ("authorised", "submitted"),  # edited after authorisation
    ("authorised", "cancelled"),
    ("live", "completed"),
}


GRACE_HOURS = 1  # short, so runs reach the snapshot's destruction


class Clock:
    """Every service reads timezone.now(); the machine decides what that is."""

    start = timezone.now().replace(microsecond=0)
    now = start

    @classmethod
    def read(cls):
        return cls.now


class Lifecycle(RuleBasedStateMachine):
    users = None  # set by the test
    seen: set = set()  # transitions observed over all runs, to show the search got far

    def __init__(self):
        super().__init__()
        self.site, _ = Site.objects.get_or_create(name="State machine site")
        self.cameras = [
            Camera.objects.get_or_create(
                name=f"sm-cam-{n}", defaults={"stream_url": f"rtsp://h/sm{n}", "site": self.site}
            )[0]
            for n in (1, 2)
        ]
        Clock.now = Clock.start
        self.retained_at = None  # when the beat last ran (tick + retention)
        self.known: dict[int, str] = {}

    def _pick(self, i) -> Deployment:
        ids = sorted(self.known)
        return Deployment.objects.get(pk=ids[i % len(ids)])

    def _try(self, fn, **kw):
        try:
            fn(**kw)
        except (ValidationError, access.Forbidden, access.NotVisible):
            pass  # a refusal is fine; the invariants check nothing moved wrongly

    def _beat(self):
        """What Celery beat does at the current time: the lifecycle, then retention."""
        services.lifecycle_tick()
        services.watchlist_retention()
        self.retained_at = Clock.now

    # True first: Hypothesis leans towards the first choice, and most plans are complete.
    @rule(
        paperwork=st.sampled_from([True, False]),
        lead=st.sampled_from([0, 30, 90, 300]),
        hours=st.sampled_from([2, 1, 4]),
        camera=st.integers(0, 1),
    )
    def create(self, paperwork, lead, hours, camera):
        start = Clock.now + timedelta(minutes=lead)
        d = services.deployment_create(
            by=self.users.command,
            cameras=[self.cameras[camera]],
            use_case="event_protection",
            site=self.site,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            necessity="n",
            proportionality="p",
            location_rationale="l",
            watchlist_categories=["wanted"],
            max_watchlist_size=10,
            threshold=0.5,
            dpia_reference="DPIA" if paperwork else "",
            policy_reference="APD",
            equality_reference="EIA",
        )
        self.known[d.pk] = d.state

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50))
    def submit(self, i):
        self._try(services.deployment_submit, deployment=self._pick(i), by=self.users.command)

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50), own=st.booleans())
    def authorise(self, i, own):
        by = self.users.command if own else self.users.authoriser
        self._try(services.deployment_authorise, deployment=self._pick(i), by=by)

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50))
    def refuse(self, i):
        self._try(
            services.deployment_refuse,
            deployment=self._pick(i),
            by=self.users.authoriser,
            reason="no",
        )

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50))
    def edit(self, i):
        d = self._pick(i)
        self._try(
            services.deployment_update,
            deployment=d,
            by=self.users.command,
            cameras=list(d.cameras.all()),
            threshold=0.45 if d.threshold == 0.5 else 0.5,
        )

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50))
    def cancel(self, i):
        self._try(
            services.deployment_cancel, deployment=self._pick(i), by=self.users.command, reason="x"
        )

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50))
    def stop(self, i):
        self._try(
            services.deployment_stop, deployment=self._pick(i), by=self.users.command, reason="x"
        )

    @precondition(lambda self: self.known)
    @rule(minutes=st.sampled_from([1, 20, 60, 150, 400]))
    def clock_forward(self, minutes):
        Clock.now += timedelta(minutes=minutes)
        self._beat()

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50), moment=st.sampled_from(["before", "start", "end"]))
    def clock_to(self, i, moment):
        """Jump the clock to just before one deployment's start, its start or its end."""
        d = self._pick(i)
        then = {
            "before": d.starts_at - timedelta(minutes=1),
            "start": d.starts_at,
            "end": d.ends_at,
        }[moment]
        Clock.now = max(Clock.now, then)  # time only goes forward
        self._beat()

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50))
    def go_live_directly(self, i):
        """The gate called by someone other than the tick (demo seeding, admin, API)."""
        self._try(services.deployment_go_live, deployment=self._pick(i))

    @precondition(lambda self: self.known)
    @rule(i=st.integers(0, 50))
    def advance(self, i):
        """The next ordinary step for one deployment, so runs often get to live and on."""
        d = self._pick(i)
        if d.state == "draft":
            self._try(services.deployment_submit, deployment=d, by=self.users.command)
        elif d.state == "submitted":
            self._try(services.deployment_authorise, deployment=d, by=self.users.authoriser)
        elif d.state in ("authorised", "live"):
            Clock.now = max(Clock.now, d.starts_at if d.state == "authorised" else d.ends_at)
            self._beat()

    @invariant()
    def only_transitions_in_the_diagram(self):
        for pk, state in Deployment.objects.filter(pk__in=self.known).values_list("pk", "state"):
            before = self.known[pk]
            if state != before:
                assert (before, state) in ALLOWED, f"{before} → {state}"
                Lifecycle.seen.add((before, state))
            self.known[pk] = state

    @invariant()
    def never_live_without_authorisation(self):
        for d in Deployment.objects.filter(pk__in=self.known, state__in=("live", "completed")):
            if d.started_at is None:
                continue
            assert d.authorised_at is not None and d.authorised_by_id is not None
            assert d.authorised_by_id != d.requested_by_id
            assert d.dpia_reference and d.policy_reference and d.equality_reference

    @invariant()
    def never_live_outside_the_window(self):
        for d in Deployment.objects.filter(pk__in=self.known):
            if d.state == "live":
                assert d.starts_at <= Clock.now < d.ends_at, (d.reference, Clock.now)
            if d.started_at is not None:
                assert d.starts_at <= d.started_at < d.ends_at
            if d.started_at is not None and d.ended_at is not None:
                assert d.started_at <= d.ended_at <= d.ends_at
        # The oversight flag, from the audit's own times, agrees.
        flagged = oversight.live_outside_window(
            since=Clock.start - timedelta(days=1), until=Clock.now + timedelta(days=1)
        )
        assert not [f for f in flagged if f["deployment"].pk in self.known], flagged

    @invariant()
    def no_camera_booked_past_an_actual_end(self):
        ds = list(Deployment.objects.filter(pk__in=self.known).prefetch_related("cameras"))
        for d in ds:
            if d.state in ("completed", "cancelled") and d.actual_end < d.ends_at:
                held = selectors.camera_bookings(
                    camera_ids=[c.pk for c in d.cameras.all()],
                    starts_at=d.actual_end,
                    ends_at=d.ends_at,
                )
                assert d not in held, d.reference
        # And the bookings that stand never overlap on a camera.
        booked = [d for d in ds if d.state in selectors.COMMITTED]
        for a in booked:
            for b in booked:
                if a.pk < b.pk and {c.pk for c in a.cameras.all()} & {
                    c.pk for c in b.cameras.all()
                }:
                    overlap = a.starts_at < b.actual_end and b.starts_at < a.actual_end
                    assert not overlap, (a.reference, b.reference)

    @invariant()
    def no_snapshot_kept_past_actual_end_and_grace(self):
        if self.retained_at is None:
            return
        grace = timedelta(hours=GRACE_HOURS)
        for wl in DeploymentWatchlist.objects.filter(
            deployment__in=list(self.known), encodings__isnull=False
        ).select_related("deployment"):
            d = wl.deployment
            if d.state != "live":
                assert d.actual_end + grace > self.retained_at, d.reference

    @invariant()
    def authorised_means_a_frozen_watchlist(self):
        for d in Deployment.objects.filter(pk__in=self.known, state__in=("authorised", "live")):
            assert hasattr(d, "watchlist")

    def teardown(self):
        Deployment.objects.filter(pk__in=self.known).delete()


@pytest.mark.django_db
def test_the_lifecycle_never_leaves_the_diagram(users):
    Lifecycle.users = users
    # Capacity has its own test; here it would only cut the exploration short.
    with (
        override_settings(LFR_WEEKLY_CAPACITY=1000, LFR_WATCHLIST_GRACE_HOURS=GRACE_HOURS),
        mock.patch.object(timezone, "now", Clock.read),
    ):
        run_state_machine_as_test(
            Lifecycle,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                # No shrinking: each step costs real queries, so shrinking a failure took
                # minutes; a failing run of at most 20 steps is reported as found.
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
            ),
        )
    # Not a property of the code: a guard that the machine really reached live and beyond.
    assert {("authorised", "live"), ("live", "completed")} <= Lifecycle.seen, Lifecycle.seen
