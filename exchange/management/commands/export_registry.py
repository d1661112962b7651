"""Export a whole registry, as the given user sees it, in the import template's layout."""

import os
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import ServiceError
from exchange.imports import registry_export
from exchange.specs import IMPORT_SPECS


class Command(BaseCommand):
    help = (
        "Export every record of a registry (sources or inspectors) within USER's scope to an "
        "Excel file that can be edited and imported back."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORT_SPECS))
        parser.add_argument("--user", required=True, help="whose scope to export (user name)")
        parser.add_argument("--output", "-o", help="file to write (default: <kind>-<date>.xlsx)")

    def handle(self, *args, kind, user, output=None, **options):
        try:
            actor = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user named {user!r}") from exc
        path = Path(output or f"{kind}-{timezone.localdate():%Y%m%d}.xlsx")
        # Write next to the target and rename, so a failed export never leaves half a file.
        handle, partial = tempfile.mkstemp(dir=path.resolve().parent, suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as target:
                count = registry_export(actor=actor, kind=kind, target=target)
            os.replace(partial, path)
        except ServiceError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        self.stdout.write(f"{count} rows written to {path}")
