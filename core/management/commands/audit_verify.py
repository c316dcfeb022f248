from django.conf import settings
from django.core.management import BaseCommand, CommandError

from core.services import audit_chain_check, audit_key_id


class Command(BaseCommand):
    help = (
        "Walk the keyed audit chain, check it against the signed checkpoints outside the "
        "table, and name what does not verify (exit status 1). An intact chain's head is "
        "checkpointed."
    )

    def handle(self, *args, **options):
        report = audit_chain_check()
        self.stdout.write(
            f"key {audit_key_id()} (LFR_AUDIT_KEY); checkpoints: "
            f"{settings.LFR_AUDIT_CHECKPOINT_FILE} ({report.checkpoints} verified)"
        )
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"  - {problem}")
            bad, more = report.bad, len(report.problems) - 1
            where = (
                f" at event #{bad.seq} (id {bad.pk}, {bad.action}, {bad.at:%Y-%m-%d %H:%M:%S} UTC)"
                if bad is not None
                else ""
            )
            raise CommandError(
                f"audit chain BROKEN{where}: {report.problems[0]}; {report.checked} events "
                f"before it verify" + (f"; {more} more problem(s) listed above" if more else "")
            )
        unkeyed = f", {report.unkeyed} written before keying (SHA-256)" if report.unkeyed else ""
        self.stdout.write(
            self.style.SUCCESS(f"audit chain OK: {report.checked} events verified{unkeyed}")
        )
