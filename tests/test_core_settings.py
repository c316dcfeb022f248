"""Start-up refuses bad configuration with one line naming the variable."""

import os
import subprocess

import pytest

from tests.helpers import PYTHON, ROOT

pytestmark = pytest.mark.slow


def _manage(tmp_path, *args, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    base.update({"LFR_VAR_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line_naming(result, variable):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lfr: configuration error:") and variable in lines[0]


def test_it_names_a_malformed_database_url(tmp_path):
    _one_line_naming(_manage(tmp_path, "check", DATABASE_URL="mysql:/nope"), "DATABASE_URL")


def test_it_names_a_postgres_url_without_a_database(tmp_path):
    result = _manage(tmp_path, "check", DATABASE_URL="postgres://postgres@127.0.0.1:5432/")
    _one_line_naming(result, "DATABASE_URL")


def test_it_names_a_missing_secret_key_in_production(tmp_path):
    result = _manage(
        tmp_path,
        "check",
        LFR_ENV="production",
        ALLOWED_HOSTS="lfr.example.org",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    _one_line_naming(result, "SECRET_KEY")


def test_it_refuses_sqlite_in_production(tmp_path):
    result = _manage(
        tmp_path,
        "check",
        LFR_ENV="production",
        SECRET_KEY="s" * 64,
        ALLOWED_HOSTS="lfr.example.org",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    _one_line_naming(result, "DATABASE_URL")


def test_it_refuses_the_in_process_layer_in_production(tmp_path):
    result = _manage(
        tmp_path,
        "check",
        LFR_ENV="production",
        SECRET_KEY="s" * 64,
        ALLOWED_HOSTS="lfr.example.org",
        DATABASE_URL="postgres://postgres@127.0.0.1/postgres",
    )
    _one_line_naming(result, "REDIS_URL")


def test_it_names_a_bad_number(tmp_path):
    _one_line_naming(_manage(tmp_path, "check", LFR_WEEKLY_CAPACITY="ten"), "LFR_WEEKLY_CAPACITY")


def test_it_passes_the_deployment_checklist_in_production(tmp_path):
    result = _manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        LFR_ENV="production",
        SECRET_KEY="Zq7!vR2#pL9@xW4$mN8^bT1&kY6*hJ3(fD5)gS0" * 2,
        LFR_AUDIT_KEY="audit-key-for-the-deployment-checklist-0123456789",
        ALLOWED_HOSTS="lfr.example.org",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_it_runs_with_no_variable_at_all(tmp_path):
    result = _manage(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()  # generated into var/ on first run
