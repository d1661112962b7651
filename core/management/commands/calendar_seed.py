from django.core.management.base import BaseCommand

from core.services import calendar_seed_from_library


class Command(BaseCommand):
    help = (
        "Load official holiday schedules from the chinesecalendar package (years not yet loaded)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, action="append", help="(Re)load only these years.")

    def handle(self, *args, **options):
        loaded = calendar_seed_from_library(years=options["year"])
        self.stdout.write(f"Loaded years: {', '.join(map(str, loaded)) or 'none (already loaded)'}")
