from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError

from core import mfa


class Command(BaseCommand):
    help = "Print a demo user's current authenticator code and its otpauth address."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        # Anyone who can run this reads every key: a convenience for the demo only.
        if settings.PRODUCTION:
            raise CommandError("totp is for the demo: it is refused when LFR_ENV=production")
        user = get_user_model().objects.filter(username=username).first()
        device = mfa.confirmed_totp(user) if user else None
        if device is None:
            raise CommandError(f"{username} has no enrolled authenticator: it enrols at sign-in")
        self.stdout.write(mfa.totp_code(device.key))
        self.stdout.write(f"(changes every 30 s; to scan instead: {device.config_url})")
