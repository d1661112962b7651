import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_cross_checks, audit_verify_chain, audit_verify_checkpoints
from core.models import AuditCheckpoint


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain (keyed with SJSJ_AUDIT_KEY) and name the first "
        "entry altered or removed; check that every published checkpoint is still in the "
        "trail; then that the rows the trail speaks of (e.g. every draw's status) agree."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            help="a JSON file of checkpoints kept from the public portal "
            "(/public/audit-checkpoints.json); without it, the ones stored here are used",
        )
        parser.add_argument("--checkpoint", action="append", default=[], help="SEQ:HASH")

    def handle(self, *args, **options):
        checked, problem = audit_verify_chain()
        if problem is not None:
            raise CommandError(f"Audit chain broken at entry #{problem.seq}: {problem.message}")
        checkpoints = list(AuditCheckpoint.objects.values("seq", "hash"))
        if options["checkpoints"]:
            data = json.loads(Path(options["checkpoints"]).read_text(encoding="utf-8"))
            checkpoints = data.get("checkpoints", data) if isinstance(data, dict) else data
        for text in options["checkpoint"]:
            seq, _, digest = text.partition(":")
            if not seq.isdigit() or len(digest) != 64:
                raise CommandError(f"--checkpoint {text}: expected SEQ:HASH (64 hex digits).")
            checkpoints.append({"seq": int(seq), "hash": digest})
        missed = audit_verify_checkpoints(checkpoints)
        if missed:
            for text in missed:
                self.stdout.write(self.style.ERROR(text))
            raise CommandError(
                f"Audit chain consistent ({checked} entries), but it no longer contains "
                f"{len(missed)} published checkpoint(s): it was rewritten."
            )
        disagreements = audit_cross_checks()
        if disagreements:
            for label, problems in disagreements:
                for text in problems:
                    self.stdout.write(self.style.ERROR(f"{label}: {text}"))
            raise CommandError(
                f"Audit chain intact ({checked} entries), but {len(disagreements)} row(s) "
                "disagree with it."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {checked} entries verified, "
                f"{len(checkpoints)} checkpoint(s) found in it."
            )
        )
