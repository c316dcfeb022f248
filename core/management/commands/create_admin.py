import getpass
import os

from django.core.management import BaseCommand, CommandError

from core.users import AdminRefused, user_create_first_admin


class Command(BaseCommand):
    help = (
        "Create the installation's first administrator (refused once one exists, and for a "
        "weak password). The password comes from LFR_ADMIN_PASSWORD, or is asked twice. "
        "They enrol their authenticator at first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, email, **options):
        password = os.environ.get("LFR_ADMIN_PASSWORD")
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the two passwords differ")
        try:
            user = user_create_first_admin(
                username=username, email=email, password=password, via="manage.py create_admin"
            )
        except AdminRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"administrator {user.username} created; at first sign-in they enrol an "
                "authenticator (second factor), then add the other users"
            )
        )
