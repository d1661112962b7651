"""Create or update the PostgreSQL role the application connects as.

The role reads and writes rows and owns nothing: it cannot ALTER a table, so it cannot
disable the triggers that keep draws and the audit trail append-only, and the TRUNCATE
triggers refuse it. Migrations run as the owner (the role that created the tables):

    DATABASE_URL=postgres://owner@host/sjsj  manage.py migrate
    DATABASE_URL=postgres://owner@host/sjsj  manage.py db_app_role sjsj_app --password ...
    DATABASE_URL=postgres://sjsj_app:...@host/sjsj  gunicorn / celery   # the application
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Create or update the application's non-owner database role (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="role name, e.g. sjsj_app")
        parser.add_argument("--password", default="", help="login password (none: no change)")

    def handle(self, *args, role: str, password: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("db_app_role is for PostgreSQL.")
        if not role.replace("_", "").isalnum():
            raise CommandError("A role name has letters, digits and underscores only.")
        name = connection.ops.quote_name(role)
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            row = cursor.fetchone()
            if row is None:
                cursor.execute(
                    f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
                )
            elif row[0]:
                raise CommandError(f"{role} is a superuser: the application must not be one.")
            else:
                # An existing role keeps no attribute that leads back to the tables' owner
                # (on PostgreSQL 15 a CREATEROLE role may grant itself the owner's role).
                cursor.execute(f"ALTER ROLE {name} NOCREATEDB NOCREATEROLE NOBYPASSRLS")
            cursor.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND pg_has_role(%s, c.relowner, 'MEMBER') ORDER BY c.relname LIMIT 1",
                [role],
            )
            owned = cursor.fetchone()
            if owned is not None:
                raise CommandError(
                    f"{role} owns {owned[0]} or is a member of its owner's role: it could "
                    "disable the triggers. Give the application a role of its own."
                )
            if password:
                cursor.execute(f"ALTER ROLE {name} PASSWORD %s", [password])
            cursor.execute("SELECT current_database()")
            database = connection.ops.quote_name(cursor.fetchone()[0])
            for statement in (
                f"GRANT CONNECT ON DATABASE {database} TO {name}",
                f"GRANT USAGE ON SCHEMA public TO {name}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
                # What an earlier grant (or GRANT ALL) may have given: never needed.
                f"REVOKE TRUNCATE, TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA public FROM {name}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {name}",
            ):
                cursor.execute(statement)
        self.stdout.write(f"{role}: rows only, owns nothing (cannot disable triggers).")
