"""Node configuration: one TOML file plus ``GATEWAY_*`` environment overrides, validated at start.

Environment variables name a key by its path with ``__`` between levels:
``GATEWAY_DATABASE__URL`` sets ``[database] url``. ``GATEWAY_CONFIG`` names the file itself.
Every problem (unknown key, wrong type, bad value) is reported as a :class:`ConfigError` naming the key,
what is expected and where the value came from, so the node stops with one clear line, not a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.eidas_config import EidasSection
from gateway.oots_config import OotsDataService, check_unique
from gateway.preview_web_config import PreviewSpaceSection
from gateway.smp_config import SmpSection

ENV_PREFIX = "GATEWAY_"
ENV_CONFIG_FILE = "GATEWAY_CONFIG"
# GATEWAY_* variables that are not configuration keys: the file itself, where the specification artifacts live
# (read by protocol packages, which never import gateway/), and test/benchmark settings.
NON_CONFIG_VARIABLES = frozenset({
    ENV_CONFIG_FILE, "GATEWAY_SPECS_DIR", "GATEWAY_SHARED_DIR", "GATEWAY_TEST_PG_URL", "GATEWAY_BENCH_PG_URL",
})
DEFAULT_CONFIG_FILE = "gateway.toml"
MASK = "****"


class ConfigError(Exception):
    """A configuration value is missing or wrong. ``key`` is the dotted path (``database.url``)."""

    def __init__(self, key: str, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        where = f" (from {source})" if source else ""
        super().__init__(f"configuration error: {key}: {problem}{where}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class NodeSection(_Section):
    id: str = Field(default="LV-GW-DEV", pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    data_dir: Path = Path("data")
    country: str = Field(default="LV", pattern=r"^[A-Z]{2}$")


class HttpSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8480, ge=0, le=65535)
    # TLS is optional for the embedded default; with client_ca set, clients may authenticate by certificate.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    shutdown_timeout_s: float = Field(default=30.0, gt=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)


class DatabaseSection(_Section):
    # Empty means the embedded default: SQLite in the data directory.
    url: str = ""
    pool_size: int = Field(default=10, ge=1, le=200)
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = "FULL"
    connect_timeout_s: float = Field(default=10.0, gt=0)
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not re.match(r"^(sqlite|postgresql|postgres)(\+\w+)?://", value):
            raise ValueError("expected a sqlite:/// or postgresql:// URL")
        return value


class AuditSection(_Section):
    sth_every_records: int = Field(default=1000, ge=1)
    sth_every_seconds: float = Field(default=60.0, gt=0)
    retention_days: int = Field(default=365, ge=1)
    max_batch: int = Field(default=1000, ge=1, le=100_000)


class AuthSection(_Section):
    # Bearer tokens older than this (plus the skew) are refused whatever their exp says: bounds the damage
    # of a leaked token.
    token_ttl_s: int = Field(default=300, ge=30, le=86_400)
    max_clock_skew_s: int = Field(default=30, ge=0, le=600)


class PkiSection(_Section):
    # Where the node's keys, certificates, CA and trust stores live (default: <data_dir>/pki).
    dir: Path | None = None
    # Create a development PKI on the first `serve` when none exists. Production provisions its own keys and
    # sets this to false, so a missing PKI is an error rather than a freshly minted self-signed CA.
    auto_init: bool = True


class As4Section(_Section):
    # Where partners POST AS4 messages (outside /api/: partners authenticate by their message signature).
    path: str = Field(default="/as4", pattern=r"^/[A-Za-z0-9/_.-]*$")
    # Largest AS4 request accepted (streamed to disk while read; 413 beyond it).
    max_message_bytes: int = Field(default=2 * 1024 * 1024 * 1024, gt=0)
    # Largest backend submission (all parts together) through the API.
    max_submit_bytes: int = Field(default=2 * 1024 * 1024 * 1024, gt=0)
    message_id_domain: str = Field(default="gateway.lv", pattern=r"^[A-Za-z0-9.-]+$")
    sender_batch: int = Field(default=64, ge=1, le=1000)
    # Messages in flight at once per sender process (each waits mostly on the partner's answer).
    sender_concurrency: int = Field(default=32, ge=1, le=1000)
    sender_timeout_s: float = Field(default=60.0, gt=0)
    sender_poll_s: float = Field(default=1.0, gt=0)
    # Webhook pushes to backends: seconds between attempts; after the last one the message waits for pull.
    delivery_retry_s: list[float] = Field(default_factory=lambda: [5.0, 30.0, 120.0, 600.0, 3600.0])
    delivery_timeout_s: float = Field(default=60.0, gt=0)
    # Where payloads live: "directory" (<data_dir>/payloads, one host) or "database" (shared by every host
    # serving the node through its PostgreSQL database).
    payload_store: Literal["directory", "database"] = "directory"
    # Payloads stay this long after the backend acknowledged them (0: deleted at the acknowledgement).
    payload_retention_s: int = Field(default=0, ge=0)
    # Signed messages and receipts kept for non-repudiation.
    archive_retention_days: int = Field(default=365, ge=1)
    # CAs (pki.trust layout) for partners' HTTPS endpoints; default: the system's.
    tls_trust_dir: Path | None = None
    # Our TLS client certificate for partners that require mutual TLS (PEM files).
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    # How often expired duplicate-detection rows, payloads and archive entries are purged.
    housekeeping_every_s: float = Field(default=300.0, gt=0)

    @field_validator("delivery_retry_s", mode="before")
    @classmethod
    def _list_from_text(cls, value: object) -> object:
        """Environment variables are text: accept "5, 30, 120" (or a JSON list) as well as a TOML list."""
        if isinstance(value, str):
            return [part for part in value.strip().strip("[]").replace(",", " ").split() if part]
        return value

    @field_validator("delivery_retry_s")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(v <= 0 for v in value):
            raise ValueError("every delay must be positive")
        return value


class OotsSection(_Section):
    # Common services (Evidence Broker, Data Service Directory): RegRep REST query base URLs, e.g.
    # https://query.cs.acc.oots.tech.ec.europa.eu/eb. Empty: resolved by NAPTR discovery where wired.
    eb_url: str = ""
    dsd_url: str = ""
    # Trust store (anchors/, crls/, policy.json) for the detached JWS signatures of their answers.
    common_services_trust_dir: Path | None = None
    accept_version: str = "oots-cs:v2.0"
    # The OOTS service of the node (gateway/oots_node.py): off unless service_client names the API client the
    # OOTS PModes deliver to (their ``backend``); it consumes those messages in-process.
    service_client: str = ""
    # Provider role: the SQL register database (SQLAlchemy URL, sample Latvian registers), the requesters and
    # intermediary platforms answered, and the preview space's base URL (https) for PreviewLocations.
    registers_url: str = ""
    # The module describing that register (MAPPINGS and PERSON_QUERY): the Latvian sample registers by default;
    # the demo's partner member state serves its own (oots.dataservice.demo_partner_registers).
    registers_module: str = Field(default="oots.dataservice.latvian_registers", pattern=r"^[A-Za-z_][\w.]*$")
    register_timeout_s: float = Field(default=10.0, gt=0)
    requesters: list[str] = []
    intermediaries: list[str] = []
    preview_base_url: str = ""
    # Adapter per evidence type (gateway/oots_config.py); types not listed: the SQL register of registers_url.
    data_services: list[OotsDataService] = []
    # Requester role: who we are in requests (EvidenceRequester ER, and this node as intermediary IP), and the
    # PMode per provider access point and EDM version: {"<AccessService id>": {"oots-edm:v1.2": "<pmode id>"}}.
    requester_id: str = ""
    requester_scheme: str = "urn:cef.eu:names:identifier:EAS:9939"
    requester_name: str = ""
    routes: dict[str, dict[str, str]] = {}
    # Timeouts (TDD 4.4.3): T1 first round trip, T2 the user follows the link, T3 preview and decision. The
    # provider's T2/T3 are shorter than the requester's (which adds requester_margin_s to each).
    t1_s: float = Field(default=300.0, gt=0)
    t2_s: float = Field(default=900.0, gt=0)
    t3_s: float = Field(default=2400.0, gt=0)
    requester_margin_s: float = Field(default=60.0, ge=0)
    # A node process renews its claim on the messages it handles every lease_s / 3; a claim older than lease_s
    # (the process died) is taken over by another process or the restarted one.
    lease_s: float = Field(default=60.0, gt=0)

    @field_validator("data_services")
    @classmethod
    def _one_route_per_type(cls, value: list[OotsDataService]) -> list[OotsDataService]:
        return check_unique(value)

    @field_validator("requesters", "intermediaries", "routes", "data_services", mode="before")
    @classmethod
    def _json_from_text(cls, value: object) -> object:
        """Environment variables are text: lists and tables come as JSON."""
        if isinstance(value, str):
            import json

            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("expected JSON") from None
        return value


class LoggingSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"


class Settings(_Section):
    node: NodeSection = NodeSection()
    http: HttpSection = HttpSection()
    database: DatabaseSection = DatabaseSection()
    audit: AuditSection = AuditSection()
    auth: AuthSection = AuthSection()
    pki: PkiSection = PkiSection()
    as4: As4Section = As4Section()
    oots: OotsSection = OotsSection()
    smp: SmpSection = SmpSection()
    logging: LoggingSection = LoggingSection()
    eidas: EidasSection = EidasSection()
    preview_space: PreviewSpaceSection = PreviewSpaceSection()

    @property
    def database_url(self) -> str:
        """The effective SQLAlchemy async URL (embedded SQLite when none is configured)."""
        if self.database.url:
            return async_database_url(self.database.url)
        return f"sqlite+aiosqlite:///{(self.node.data_dir / 'gateway.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.node.data_dir / "keys"

    @property
    def pki_dir(self) -> Path:
        return self.pki.dir or self.node.data_dir / "pki"


def async_database_url(url: str) -> str:
    """Map plain URLs to the async drivers we ship (``postgresql://`` → asyncpg, ``sqlite://`` → aiosqlite)."""
    scheme, sep, rest = url.partition("://")
    driverless = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    return driverless.get(scheme, scheme) + sep + rest


def mask_url(url: str) -> str:
    """Hide the password of a database URL."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _env_overrides(environ: Mapping[str, str]) -> dict[str, tuple[list[str], str, str]]:
    overrides: dict[str, tuple[list[str], str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NON_CONFIG_VARIABLES:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        if len(path) != 2 or not all(path):
            raise ConfigError(
                name, "expected GATEWAY_<SECTION>__<KEY>, e.g. GATEWAY_DATABASE__URL", source="environment"
            )
        overrides[".".join(path)] = (path, value, name)
    return overrides


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    default_file: bool = True,
) -> Settings:
    """Read the TOML file (if any) and apply environment overrides; raise ConfigError on any problem.

    With no explicit path the file named by ``GATEWAY_CONFIG`` is read, else ``gateway.toml`` when it
    exists (``default_file=False`` skips that, for tests); a path that was asked for explicitly must exist.
    """
    environ = os.environ if environ is None else environ
    explicit = path if path is not None else environ.get(ENV_CONFIG_FILE)
    config_path = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if (explicit or default_file) and config_path.exists():
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("(file)", f"not valid TOML: {exc}", source=str(config_path)) from None
        for section, values in raw.items():
            if isinstance(values, dict):
                for key in values:
                    sources[f"{section}.{key}"] = str(config_path)
            sources[section] = str(config_path)
    elif explicit:
        raise ConfigError("(file)", "configuration file not found", source=str(config_path))

    for dotted, (parts, value, env_name) in _env_overrides(environ).items():
        section = raw.setdefault(parts[0], {})
        if not isinstance(section, dict):
            raise ConfigError(parts[0], "expected a table", source=sources.get(parts[0]))
        section[parts[1]] = value
        sources[dotted] = f"environment {env_name}"

    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        problem = _describe(first)
        source = sources.get(key) or sources.get(key.split(".")[0])
        raise ConfigError(key, problem, source=source) from None


def _describe(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    message = str(error.get("msg", "invalid value"))
    value = error.get("input")
    if isinstance(value, (str, int, float, bool)):
        return f"{message} (got {value!r})"
    return message


def effective_config(settings: Settings, *, mask_secrets: bool = True) -> dict[str, Any]:
    """The configuration as plain data, secrets masked (for ``config show``)."""
    data = settings.model_dump(mode="json")
    data["database"]["effective_url"] = settings.database_url
    if mask_secrets:
        for key in ("url", "effective_url"):
            data["database"][key] = mask_url(data["database"][key]) if data["database"][key] else ""
    return data
