"""DEBUG, the secret key and the deployment checklist, read from a fresh process like `make run` starts."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(extra)
    return env


PRINT = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"


def test_debug_is_off_and_a_random_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    env = _clean_env(DJANGO_SETTINGS_MODULE="artsite.settings.base", ARTSITE_RUN_DIR=str(tmp_path))
    first = _manage("shell", "--no-imports", "-c", PRINT, env=env)
    assert first.returncode == 0, first.stderr
    debug, key = first.stdout.split()
    assert debug == "False"
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == key and len(key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # readable by the site's user only

    again = _manage("shell", "--no-imports", "-c", PRINT, env=env)
    assert again.stdout.split() == ["False", key]  # kept across restarts: sessions survive

    other = tmp_path / "other-checkout"
    fresh = _manage("shell", "--no-imports", "-c", PRINT, env={**env, "ARTSITE_RUN_DIR": str(other)})
    assert fresh.stdout.split()[1] != key  # each checkout gets its own, never a fixed string


def test_debug_only_when_asked_for(tmp_path: Path) -> None:
    """`DEV_SERVER=1 make run` passes DJANGO_DEBUG=1 to the development server (scripts/run.sh)."""
    env = _clean_env(DJANGO_SETTINGS_MODULE="artsite.settings.base", ARTSITE_RUN_DIR=str(tmp_path), DJANGO_DEBUG="1")
    result = _manage("shell", "--no-imports", "-c", PRINT, env=env)
    assert result.stdout.split()[0] == "True", result.stderr
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert run_sh.count("DJANGO_DEBUG=1") == 1 and "DEV_SERVER" in run_sh


def test_production_settings_pass_the_deployment_checklist_without_warnings(tmp_path: Path) -> None:
    env = _clean_env(
        DJANGO_SETTINGS_MODULE="artsite.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="art.example.org",
        ARTSITE_RUN_DIR=str(tmp_path),
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "message"),
    [("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY"), ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS")],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path: Path, missing: str, message: str) -> None:
    env = _clean_env(
        DJANGO_SETTINGS_MODULE="artsite.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="art.example.org",
        ARTSITE_RUN_DIR=str(tmp_path),
    )
    del env[missing]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr
