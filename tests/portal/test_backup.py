"""`make backup` / `make restore`: a full round trip on PostgreSQL, and a
clear refusal without it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))


def run(args, **env):
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(  # noqa: S603
        args, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(not ON_POSTGRES, reason="needs DATABASE_URL=postgres://... (CI runs it)")
def test_a_backup_restores_every_row_of_every_table():
    result = run([sys.executable, "scripts/backup-roundtrip"], DATABASE_URL=DATABASE_URL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restored identically" in result.stdout


@pytest.mark.parametrize("script", ["scripts/backup", "scripts/restore"])
@pytest.mark.parametrize("url", ["", "mysql://portal@db/portal"])
def test_backup_and_restore_refuse_a_database_that_is_not_postgresql(script, url):
    result = run([script, "var/backups/x.dump"], DATABASE_URL=url)
    assert result.returncode == 2
    assert "inte en PostgreSQL-databas" in result.stderr


def test_restore_needs_an_existing_file():
    result = run(["scripts/restore"], DATABASE_URL="postgres://postgres@127.0.0.1:5432/x")
    assert result.returncode == 2
    assert "ange säkerhetskopian" in result.stderr
    result = run(
        ["scripts/restore", "var/backups/finns-inte.dump"],
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
    )
    assert result.returncode == 2
    assert "finns inte" in result.stderr
