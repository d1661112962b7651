from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from core.services import calendar_import_csv


class Command(BaseCommand):
    help = "Import official holiday schedules from a CSV file (columns: date, name, type)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **options):
        path = Path(options["path"])
        try:
            years = calendar_import_csv(
                actor=None, text=path.read_text(encoding="utf-8-sig"), source=path.name
            )
        except ServiceError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Loaded years: {', '.join(map(str, years))}")
