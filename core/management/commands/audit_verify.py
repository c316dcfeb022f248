from django.core.management import BaseCommand, CommandError

from core.services import audit_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain and name the first row that does not verify."

    def handle(self, *args, **options):
        ok, checked, bad, why = audit_verify()
        if not ok:
            raise CommandError(
                f"audit chain BROKEN at event #{bad.seq} (id {bad.pk}, {bad.action}, "
                f"{bad.at:%Y-%m-%d %H:%M:%S} UTC): {why}; {checked} events before it verify"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain OK: {checked} events verified"))
