"""Send the hostile upload corpus (watchlists/corpus.py) through the API and the submit
form, and print what each answered and its peak memory, as a Markdown table.

Nothing is kept: it runs as a throwaway contributor inside one transaction that is
rolled back, so the entries, audit rows and session it makes never reach the database.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client

from core import access
from watchlists import corpus
from watchlists.models import ReferenceImage


class Command(BaseCommand):
    help = "Run the hostile upload corpus through the API and the form; print the table."

    def add_arguments(self, parser):
        default = Path(settings.LFR_DATA_DIR, "faces", "face_recognition", "examples", "obama.jpg")
        parser.add_argument("--portrait", type=Path, default=default, help="a passing face")

    def handle(self, *, portrait: Path, **options):
        if not portrait.is_file():
            raise CommandError(f"{portrait} not found: set LFR_DATA_DIR or pass --portrait.")
        cases = corpus.hostile_cases(portrait)
        expect = {c.kind: c.expect for c in cases}
        host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
        with transaction.atomic():
            user = get_user_model().objects.create(username="upload-corpus-probe")
            user.groups.add(Group.objects.get(name=access.WATCHLIST_CONTRIBUTOR))
            client = Client(HTTP_HOST=host)
            client.force_login(user)
            _second_factor(client, user)
            outcomes = corpus.run(client, cases)
            wrong = []
            for o in outcomes:
                if expect[o.kind] == corpus.REFUSED and o.status != 400:
                    wrong.append(f"{o.kind} via {o.channel}: {o.status} {o.verdict}")
                for image in ReferenceImage.objects.filter(entry_id=o.entry_id or 0):
                    wrong += [f"{o.kind}: {p}" for p in corpus.stored_is_clean(image.jpeg)]
            transaction.set_rollback(True)
        self.stdout.write(corpus.table(outcomes))
        self.stdout.write("\n" + corpus.summary(cases, outcomes))
        if wrong:
            raise CommandError("not refused or not clean:\n" + "\n".join(wrong))


def _second_factor(client, user) -> None:
    """The probe passes multi-factor sign-in as a person would: a device, verified."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="probe", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
