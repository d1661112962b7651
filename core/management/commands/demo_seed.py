import importlib
import random

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Build (or complete) the demo world: the four seed cities, their counties, users of "
        "every role, sources and inspectors. Safe to run again: it changes nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for invented data.")
        parser.add_argument("--quiet-users", action="store_true", help="Do not print accounts.")

    def handle(self, *args, **options):
        rng = random.Random(options["seed"])
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.seed(stdout=self.stdout, rng=rng)
        if not options["quiet_users"]:
            from core.demo import DEMO_PASSWORD

            self.stdout.write("")
            self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD})")
            for username, role in [
                ("admin", "system administrator"),
                ("henan_viewer", "province viewer (河南)"),
                ("jiaozuo_reviewer", "city team reviewer (焦作)"),
                ("jiaozuo_team_clerk", "city team clerk (焦作)"),
                ("wuzhi_clerk", "bureau clerk (武陟县)"),
                ("wuzhi_leader", "bureau leader (武陟县)"),
                ("wuzhi_inspector", "inspector (武陟县)"),
                ("luliang_reviewer / benxi_reviewer / hengshui_reviewer", "other city teams"),
                ("c<county code>_clerk, c<county code>_leader", "every other county"),
            ]:
                self.stdout.write(f"  {username:<55} {role}")
