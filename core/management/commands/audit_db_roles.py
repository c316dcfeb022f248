from django.core.management import BaseCommand, CommandError
from django.db import connection

from core.audit_db import app_role_grants_sql


class Command(BaseCommand):
    help = (
        "Print (or, with --apply, run as the owner) the grants of the production layout: the "
        "app's role may only SELECT and INSERT the audit table. Create the role first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--app-role", required=True, help="the role the app connects as")
        parser.add_argument(
            "--owner", help="the role that owns the tables and runs migrations (default: you)"
        )
        parser.add_argument("--apply", action="store_true", help="run the statements now")

    def handle(self, *args, app_role, owner, apply, **options):
        if connection.vendor != "postgresql":
            raise CommandError("roles and grants are PostgreSQL's: DATABASE_URL is not one")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            me, database = cursor.fetchone()
            if app_role == (owner or me):
                raise CommandError("the app role must not be the owner: that is the point")
            statements = app_role_grants_sql(
                app_role=app_role, owner=owner or me, database=database
            )
            if not apply:
                self.stdout.write(";\n".join(statements) + ";")
                return
            for sql in statements:
                cursor.execute(sql)
        self.stdout.write(
            self.style.SUCCESS(
                f"{app_role} may now SELECT and INSERT core_auditevent only, and delete alerts "
                f"only through recognition_alerts_delete(); run migrations as {owner or me}, "
                "then this again"
            )
        )
