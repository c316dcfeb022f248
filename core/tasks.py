import socket

from celery import shared_task
from django.utils import timezone

from core.models import WorkerHeartbeat


@shared_task(bind=True, name="core.tasks.worker_heartbeat")
def worker_heartbeat(self):
    WorkerHeartbeat.objects.update_or_create(
        hostname=self.request.hostname or socket.gethostname(), defaults={"seen_at": timezone.now()}
    )


@shared_task(name="core.tasks.audit_checkpoint")
def audit_checkpoint():
    """Sign the audit chain's head into the checkpoint file outside the database."""
    from core.services import audit_checkpoint_write

    audit_checkpoint_write(reason="beat")
