from django.core.management.base import BaseCommand

from inspections.services import completions_record_missing


class Command(BaseCommand):
    help = (
        "Record as completed spot checks the approved drawn inspections that have no record "
        "yet (approved before the lottery kept these records; docs/coverage.md). Idempotent."
    )

    def handle(self, *args, **options):
        n = completions_record_missing()
        self.stdout.write(f"{n} completed spot checks recorded.")
