from django.core.management import BaseCommand, CommandError

from core import soak


class Command(BaseCommand):
    help = (
        "Soak the embedded demo: two cameras live, two officers' consoles, a contributor's "
        "intake checks and a planner's pages in real chromium for a bounded time; print "
        "crashes, 5xx, 'database is locked', decisions lost, p95 page time and orphans."
    )

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=float, default=None)
        parser.add_argument("--seconds", type=float, default=None)
        parser.add_argument(
            "--var-dir", default=None, help="LFR_VAR_DIR for the demo (default: a fresh one)"
        )

    def handle(self, *args, minutes, seconds, var_dir, **options):
        if minutes is None and seconds is None:
            minutes = 5
        total = (minutes or 0) * 60 + (seconds or 0)
        if total <= 0:
            raise CommandError("--minutes/--seconds must add up to more than zero")
        figures = soak.run(seconds=total, var_dir=var_dir, out=self.stdout)
        soak.report(figures, self.stdout)
        bad = {k: v for k, v in figures.failures().items() if v}
        if bad:
            raise CommandError("soak failed: " + ", ".join(f"{k} {v}" for k, v in bad.items()))
        self.stdout.write(self.style.SUCCESS("soak: clean"))
