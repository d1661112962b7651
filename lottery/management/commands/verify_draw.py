import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lottery import engine
from lottery.models import Draw
from lottery.verification import draw_verify, draws_against_trail


class Command(BaseCommand):
    help = (
        "Re-run a draw from its record and say 'matches' or exactly where it differs. "
        "Give a draw number (or id) to check the database, or --record FILE to check a "
        "published record JSON the way the public script does."
    )

    def add_arguments(self, parser):
        parser.add_argument("draw", nargs="?", help="draw number or id")
        parser.add_argument("--record", help="a published record JSON file")
        parser.add_argument(
            "--all",
            action="store_true",
            help="every executed draw, and every draw's status against the audit trail",
        )

    def handle(self, *args, **options):
        if options["record"]:
            record = json.loads(Path(options["record"]).read_text(encoding="utf-8"))
            if not self._report(options["record"], engine.verify(record)):
                raise CommandError("The record differs.")
            return
        if options["all"]:
            draws = Draw.objects.filter(status=Draw.Status.EXECUTED).order_by("pk")
        elif options["draw"]:
            key = options["draw"]
            draws = Draw.objects.filter(number=key) or (
                Draw.objects.filter(pk=int(key)) if key.isdigit() else Draw.objects.none()
            )
            if not draws:
                raise CommandError(f"No draw {key}.")
        else:
            raise CommandError("Name a draw, or use --all or --record FILE.")
        failed = 0
        for draw in draws:
            failed += not self._report(draw.number, draw_verify(draw))
        if options["all"]:
            # What only the trail knows: a draw whose status changed, or whose row went,
            # without its audited transition (a quiet redo by SQL).
            for label, problems in draws_against_trail():
                failed += not self._report(label, problems)
        if failed:
            raise CommandError(f"{failed} draw(s) differ.")

    def _report(self, label, problems) -> bool:
        if not problems:
            self.stdout.write(self.style.SUCCESS(f"{label}: matches"))
            return True
        self.stdout.write(self.style.ERROR(f"{label}: differs"))
        for problem in problems:
            self.stdout.write(f"  - {problem}")
        return False
