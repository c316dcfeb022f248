from django.core.management import BaseCommand, call_command

from core import access
from core.demo import credentials_path, seed_users


class Command(BaseCommand):
    help = (
        "Create one demo user per role (printing passwords once), each with an enrolled "
        "authenticator, and the demo data."
    )

    def handle(self, *args, **options):
        created = seed_users()
        if created:
            self.stdout.write(self.style.SUCCESS("Demo users (passwords are shown only now):"))
            for username, password, role, _ in created:
                self.stdout.write(f"  {username:<12} {password:<22} {access.ROLE_LABELS[role]}")
            self.stdout.write(f"(also written to {credentials_path()}, readable by you only)")
        else:
            self.stdout.write(f"Demo users exist already; passwords are in {credentials_path()}")
        self.stdout.write(
            "Sign-in needs a second factor. Each demo user has an authenticator (TOTP) "
            "device enrolled already; its key is the last column of the credentials file "
            "(type it into any authenticator app), or print the current code with\n"
            "  python manage.py totp <username>\n"
            "A user without a device (one you add) enrols at first sign-in."
        )
        # Demo camera, watchlist and deployment (recognition's seed_demo_data command).
        call_command("seed_demo_data", stdout=self.stdout, stderr=self.stderr)
