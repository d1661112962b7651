from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and name the first entry altered or removed."

    def handle(self, *args, **options):
        checked, problem = audit_verify_chain()
        if problem is not None:
            raise CommandError(f"Audit chain broken at entry #{problem.seq}: {problem.message}")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries verified."))
