"""Decisions that race are claimed once: authorise vs refuse, two submits for the last slot."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection

from deployments import services
from deployments.models import Deployment


def _race(*calls):
    """Run the calls at once in threads; return how many succeeded."""
    barrier = threading.Barrier(len(calls))
    wins, errors = [], []

    def run(fn):
        try:
            barrier.wait()
            fn()
            wins.append(fn)
        except (ValidationError, OperationalError) as exc:
            # SQLite answers a concurrent writer with "database is locked": a lost race too.
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(wins), errors


@pytest.mark.django_db(transaction=True)
def test_authorise_and_refuse_at_once_one_wins(deployment_in_state, users):
    d = deployment_in_state("submitted")
    won, _ = _race(
        lambda: services.deployment_authorise(deployment=d, by=users.authoriser),
        lambda: services.deployment_refuse(deployment=d, by=users.authoriser, reason="no"),
    )
    assert won == 1
    d.refresh_from_db()
    assert d.state in ("authorised", "refused")
    assert (d.state == "authorised") == hasattr(Deployment.objects.get(pk=d.pk), "watchlist")


@pytest.mark.django_db(transaction=True)
def test_two_submissions_for_the_last_slot_of_a_week(deployment_in_state, settings, next_monday):
    settings.LFR_WEEKLY_CAPACITY = 1
    a = deployment_in_state("draft")
    b = deployment_in_state("draft", starts_at=next_monday + timedelta(days=2, hours=10))
    won, _ = _race(
        lambda: services.deployment_submit(deployment=a, by=a.requested_by),
        lambda: services.deployment_submit(deployment=b, by=b.requested_by),
    )
    assert won == 1
    assert Deployment.objects.filter(state="submitted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_start_a_deployment_once(deployment_in_state):
    from core.models import AuditEvent

    d = deployment_in_state("authorised")
    _race(
        lambda: services.lifecycle_tick(now=d.starts_at),
        lambda: services.lifecycle_tick(now=d.starts_at),
    )
    d.refresh_from_db()
    assert d.state == "live"
    assert AuditEvent.objects.filter(action="deployment.live", object_id=str(d.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_the_end_complete_it_once(deployment_in_state):
    from core.models import AuditEvent

    d = deployment_in_state("live")
    won, errors = _race(
        lambda: services.lifecycle_tick(now=d.ends_at),
        lambda: services.lifecycle_tick(now=d.ends_at),
    )
    d.refresh_from_db()
    assert d.state == "completed"
    assert not [e for e in errors if isinstance(e, ValidationError)]
    assert AuditEvent.objects.filter(action="deployment.complete", object_id=str(d.pk)).count() == 1
