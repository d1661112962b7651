from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_cross_checks, audit_verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain and name the first entry altered or removed; "
        "then check that the rows the trail speaks of (e.g. every draw's status) agree with it."
    )

    def handle(self, *args, **options):
        checked, problem = audit_verify_chain()
        if problem is not None:
            raise CommandError(f"Audit chain broken at entry #{problem.seq}: {problem.message}")
        disagreements = audit_cross_checks()
        if disagreements:
            for label, problems in disagreements:
                for text in problems:
                    self.stdout.write(self.style.ERROR(f"{label}: {text}"))
            raise CommandError(
                f"Audit chain intact ({checked} entries), but {len(disagreements)} row(s) "
                "disagree with it."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} entries verified."))
