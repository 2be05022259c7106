"""Configuration: file + environment, validated; every problem names its key, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, effective_config, load_settings, mask_url

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, '[node]\nid = "LV-GW-1"\n[http]\nport = 9000\n')
    settings = load_settings(path, environ={"GATEWAY_HTTP__PORT": "9100", "GATEWAY_AUDIT__RETENTION_DAYS": "30"})
    assert settings.node.id == "LV-GW-1"
    assert settings.http.port == 9100
    assert settings.audit.retention_days == 30


def test_defaults_give_embedded_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={"GATEWAY_NODE__DATA_DIR": str(tmp_path)}, default_file=False)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'gateway.db'}"


def test_plain_postgres_url_uses_asyncpg() -> None:
    settings = load_settings(environ={"GATEWAY_DATABASE__URL": "postgresql://u:p@db/gw"}, default_file=False)
    assert settings.database_url == "postgresql+asyncpg://u:p@db/gw"


@pytest.mark.parametrize(
    ("toml", "environ", "key", "fragment"),
    [
        ("[http]\nprot = 1\n", {}, "http.prot", "unknown key"),
        ("[htp]\nport = 1\n", {}, "htp", "unknown key"),
        ('[http]\nport = "high"\n', {}, "http.port", "valid integer"),
        ("[http]\nport = 70000\n", {}, "http.port", "less than or equal to 65535"),
        ('[database]\nurl = "mysql://x"\n', {}, "database.url", "sqlite:/// or postgresql://"),
        ('[logging]\nlevel = "LOUD"\n', {}, "logging.level", "'DEBUG'"),
        ("", {"GATEWAY_AUDIT__MAX_BATCH": "many"}, "audit.max_batch", "valid integer"),
        ("", {"GATEWAY_AUDIT__NOPE": "1"}, "audit.nope", "unknown key"),
        ("", {"GATEWAY_PORT": "1"}, "GATEWAY_PORT", "GATEWAY_<SECTION>__<KEY>"),
        ("[node\n", {}, "(file)", "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, toml: str, environ: dict, key: str, fragment: str) -> None:
    path = _write(tmp_path, toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ)
    assert caught.value.key == key
    assert fragment in str(caught.value)


def test_source_of_a_bad_value_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "[http]\nport = -1\n")
    with pytest.raises(ConfigError, match=r"from .*gateway.toml"):
        load_settings(path, environ={})
    with pytest.raises(ConfigError, match="from environment GATEWAY_HTTP__PORT"):
        load_settings(environ={"GATEWAY_HTTP__PORT": "-1"}, default_file=False)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_secrets_are_masked() -> None:
    assert mask_url("postgresql://gw:s3cret@db:5432/gw") == "postgresql://gw:****@db:5432/gw"
    settings = load_settings(environ={"GATEWAY_DATABASE__URL": "postgresql://gw:s3cret@db/gw"}, default_file=False)
    shown = repr(effective_config(settings))
    assert "s3cret" not in shown and "****" in shown


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return subprocess.run([sys.executable, "-m", "gateway.cli.main", *args],
                          env={**clean, **env, "PYTHONPATH": str(REPO)},
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_cli_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    result = _cli("config", "show", env={"GATEWAY_HTTP__PORT": "abc"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "configuration error: http.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unreachable_database_is_named(tmp_path: Path) -> None:
    env = {"GATEWAY_DATABASE__URL": "postgresql://postgres@127.0.0.1:1/none", "GATEWAY_NODE__DATA_DIR": str(tmp_path),
           "GATEWAY_DATABASE__CONNECT_TIMEOUT_S": "3"}
    for args in (("config", "check"), ("serve",), ("audit", "verify")):
        result = _cli(*args, env=env, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert "configuration error: database.url: cannot connect to postgresql+asyncpg://postgres@127.0.0.1:1/none" \
            in result.stderr
        assert "Traceback" not in result.stderr


def test_cli_config_show_masks_password(tmp_path: Path) -> None:
    result = _cli("config", "show", "--json", env={"GATEWAY_DATABASE__URL": "postgresql://a:topsecret@h/d"},
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "topsecret" not in result.stdout and '"url": "postgresql://a:****@h/d"' in result.stdout
