"""Production settings refuse insecure defaults; check --deploy is clean under good ones."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x7#kQ2!vL9@pR4$wZ8^mN1&bT6*cY3(hJ5)dF0_gS-aE+uI=oP",
    "DJANGO_ALLOWED_HOSTS": "sjsj.example.gov.cn",
    "SJSJ_DATA_DIR": "/tmp/sjsj-prod-check",
}


def _run(args, env_overrides, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DJANGO_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], GOOD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG"),
    ],
)
def test_production_refuses_insecure_defaults(override, message):
    env = {**GOOD_ENV, **override}
    env = {k: v for k, v in env.items() if v != ""}
    result = _run(["check"], env)
    assert result.returncode != 0
    assert message in result.stderr


def test_docker_compose_file_is_valid_yaml_with_every_service():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"web", "worker", "beat", "db", "redis"} <= set(compose["services"])
    web = compose["services"]["web"]
    assert (
        "gunicorn" in " ".join(web["command"])
        if isinstance(web["command"], list)
        else "gunicorn" in web["command"]
    )
    for name in ("web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_the_embedded_broker_keeps_its_files_in_the_data_folder(tmp_path):
    """kombu's file-system transport puts fan-out exchanges (worker control, as beat and the
    demo's worker use) in a "control" folder of the current directory unless told otherwise:
    a demo started from the checkout would litter it."""
    data = tmp_path / "data"
    script = (
        "import django; django.setup()\n"
        "from config.celery_app import app\n"
        "print(app.control.broadcast('ping', reply=True, timeout=0.2))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        SJSJ_DATA_DIR=str(data),
        CELERY_BROKER_URL="filesystem://",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "control").exists()
    assert list((data / "celery" / "control").glob("*.exchange"))
