"""Settings: the only place that reads the environment.

Defaults are the embedded single-machine setup: SQLite under ``var/``, the sandbox agencies
on their default local ports with their sandbox credentials. Every variable is listed in
``docs/configuration.md``.

Every secret (keys, credentials) is read by :func:`_secret`: from ``UNEFOIS_X`` or from the
file ``UNEFOIS_X_FILE`` names, as container platforms mount secrets. ``UNEFOIS_ENV=production``
then refuses the sandbox's defaults (:mod:`runtime.production`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.errors import ConfigurationError
from runtime.secret import decode_secret

SANDBOX_HOST = "127.0.0.1"
# Default ports of the sandbox agencies (``unefois sandbox``); the gateway's defaults point there.
SANDBOX_PORTS: dict[str, int] = {
    "api_particulier": 8701,
    "gip_mds": 8702,
    "dgfip": 8703,
    "cnav": 8704,
    "cnam": 8705,
    "housing": 8706,
    "civil_registry": 8707,
}
# The sandbox FranceConnect-style provider (``python -m sandbox``: port base + 7).
SANDBOX_FRANCECONNECT_ISSUER = "http://127.0.0.1:8708"
# Sandbox credentials: public, known to the sandbox and to nothing in production.
SANDBOX_API_PARTICULIER_TOKEN = "sandbox-api-particulier-token"  # noqa: S105
SANDBOX_CLIENT_ID = "unefois-gateway"
SANDBOX_CLIENT_SECRET = "sandbox-agency-secret"  # noqa: S105
# The sandbox SMS sink (``python -m sandbox``: port base + 8) and its public token, copied
# from ``sandbox.sms`` so that the gateway does not import the sandbox.
SANDBOX_SMS_URL = "http://127.0.0.1:8709/v1/sms"
SANDBOX_SMTP_PORT = 8710  # the sandbox's mail sink, a real SMTP server keeping what it gets
SANDBOX_SMS_TOKEN = "sandbox-sms-token"  # noqa: S105
# The pages' sign-in: the sandbox FranceConnect provider's relying party (the citizen space)
# and the sandbox agent identity provider, in the manner of ProConnect (the auditor console).
SANDBOX_FRANCECONNECT_CLIENT_ID = "unefois-sandbox-rp"
SANDBOX_FRANCECONNECT_CLIENT_SECRET = "sandbox-fc-secret"  # noqa: S105
SANDBOX_AGENT_CONNECT_ISSUER = "http://127.0.0.1:8712"
SANDBOX_AGENT_CONNECT_CLIENT_ID = "unefois-sandbox-console"
SANDBOX_AGENT_CONNECT_CLIENT_SECRET = "sandbox-agent-secret"  # noqa: S105
# The sandbox démarches-simplifiées (``python -m sandbox``: port base + 12) and its public
# API token, copied from the sandbox so that the gateway does not import it.
SANDBOX_DS_PORT = 8713
SANDBOX_DS_URL = f"http://{SANDBOX_HOST}:{SANDBOX_DS_PORT}"
SANDBOX_DS_API_TOKEN = "sandbox-ds-token"  # noqa: S105


# The SIRET of the body running proactive campaigns, when ``--recipient`` is not given.
RECIPIENT_ENV = "UNEFOIS_CAMPAIGN_RECIPIENT"
ENVIRONMENTS = ("development", "production")
Environment = Literal["development", "production"]
TRUSTED_DOCUMENTS = ("off", "registered")
TrustedDocuments = Literal["off", "registered"]
# The HTTP client of the agency calls: aiohttp, or the lean HTTP/1.1 one (connectors.wire).
UPSTREAM_TRANSPORTS = ("aiohttp", "wire")


class SettingsError(ValueError):
    """A variable is present but unusable; the message names it."""


@dataclass(frozen=True)
class UpstreamSettings:
    name: str
    url: str
    timeout: float = 2.0
    pool_size: int = 100
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)  # static bearer token (API Particulier)


@dataclass(frozen=True)
class Settings:
    environment: Environment = "development"  # production refuses the sandbox's defaults
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("var")
    clients_file: Path | None = None
    token_issuer: str = "http://127.0.0.1:8000"  # noqa: S105 (an issuer URL, not a secret)
    token_audience: str = "unefois"  # noqa: S105 (an audience name, not a secret)
    token_ttl: int = 300
    signing_alg: str = "Ed25519"  # JWS alg of new signing keys: Ed25519 or ES256
    # The access tokens' private JWK set, the same on every replica. None: the data directory's
    signing_keys: str | None = field(default=None, repr=False)
    signing_keys_file: Path | None = None  # where it came from, followed as it changes
    trusted_issuer: str | None = None  # an external authorisation server, by its issuer id
    trusted_jwks_url: str | None = None  # and its JWKS address
    jwks_cache_ttl: float = 600.0  # seconds the trusted issuer's keys are kept
    introspection: bool = False
    # Each answer's Server-Timing header: the slowest agency call and the gateway's time.
    server_timing: bool = False
    # off: any document runs; registered: only the caller's trusted documents (docs/security.md)
    trusted_documents: TrustedDocuments = "off"
    max_body_bytes: int = 64 * 1024
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    cache_ttl: float = 300.0
    cache_size: int = 100_000
    redis_url: str | None = None
    redis_prefix: str = "unefois:"
    redis_timeout: float = 0.1  # seconds per Redis call, connecting included
    log_level: str = "INFO"
    database_url: str | None = None  # None: a SQLite file in the data directory
    database_schema: str | None = None  # PostgreSQL only: the schema holding every table
    pseudonym_secret: str | None = field(default=None, repr=False)  # base64; None: data dir
    audit_sqlite_sync: Literal["FULL", "NORMAL"] = "FULL"  # see docs/audit.md
    # PEM of the audit checkpoints' Ed25519 key. None: <data dir>/audit-signing-key.pem
    audit_signing_key: str | None = field(default=None, repr=False)
    # Witnesses of the audit log's checkpoints (docs/audit.md). None: <data dir>/audit-witness.jsonl
    audit_witness_file: Path | None = None
    audit_witness_url: str | None = None  # a cosigning witness's base URL
    audit_witness_grace: int = 5000  # entries `audit verify` accepts past the last witnessed one
    policies_dir: Path | None = None  # None: the catalogue shipped with the package
    eligibility_workers: int = 2  # processes running the OpenFisca rules, each warm
    workers: int = 1  # gateway processes sharing the port (`unefois serve`); >1 needs PostgreSQL
    campaign_recipient: str | None = None  # SIRET of the body running proactive campaigns
    # The campaigns' task broker (amqp://… RabbitMQ, redis://… Redis); None: campaigns run
    # their batches in the process that plans them. The namespace names its queue. A secret
    # (it may hold the broker's password): also from UNEFOIS_BROKER_URL_FILE, never in repr.
    broker_url: str | None = field(default=None, repr=False)
    broker_namespace: str = "unefois"
    rate_per_second: float = 20.0  # per client, sustained
    rate_burst: int = 40  # per client, at once
    # The token endpoint, before any scrypt is spent (gateway/admission.py): buckets per source
    # address and per client id asked, and the hashes run at once / waiting for a slot.
    token_rate_per_address: float = 5.0
    token_burst_per_address: int = 20
    token_rate_per_client: float = 1.0
    token_burst_per_client: int = 10
    token_concurrency: int = 2
    token_queue: int = 32
    upstreams: Mapping[str, UpstreamSettings] = field(default_factory=dict)
    upstream_transport: str = "wire"  # one of UPSTREAM_TRANSPORTS
    # Citizens' person tokens: the FranceConnect issuer whose signed userinfo we trust.
    franceconnect_issuer: str = SANDBOX_FRANCECONNECT_ISSUER
    franceconnect_userinfo_url: str = SANDBOX_FRANCECONNECT_ISSUER + "/api/v2/userinfo"
    franceconnect_jwks_url: str = SANDBOX_FRANCECONNECT_ISSUER + "/api/v2/jwks"
    franceconnect_timeout: float = 2.0
    # The citizen space signs in through FranceConnect as this relying party.
    franceconnect_client_id: str = SANDBOX_FRANCECONNECT_CLIENT_ID
    franceconnect_client_secret: str = field(
        default=SANDBOX_FRANCECONNECT_CLIENT_SECRET, repr=False
    )
    # The auditor console signs agents in through this OpenID Connect provider (ProConnect).
    agent_connect_issuer: str = SANDBOX_AGENT_CONNECT_ISSUER
    agent_connect_client_id: str = SANDBOX_AGENT_CONNECT_CLIENT_ID
    agent_connect_client_secret: str = field(
        default=SANDBOX_AGENT_CONNECT_CLIENT_SECRET, repr=False
    )
    page_session_minutes: int = 30  # a page session ends after this long without a request
    # Notification channels of ``unefois campaign deliver``. E-mail goes through an SMTP relay
    # (a local MTA by default), SMS through a provider's HTTP API (the sandbox sink by
    # default), letters as PDF files for a print-and-post service.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = SANDBOX_SMTP_PORT
    smtp_sender: str = "Unefois <ne-pas-repondre@unefois.localhost>"
    smtp_tls: bool = False
    sms_url: str = SANDBOX_SMS_URL
    sms_token: str = field(default=SANDBOX_SMS_TOKEN, repr=False)
    # What the provider bills for one SMS segment, in euros excluding VAT: ``deliver`` then
    # estimates what it sent cost. None (the default): no estimate, since the price is the
    # provider contract's, not a figure the gateway can know.
    sms_segment_price: Decimal | None = None
    letters_dir: Path | None = None  # None: <data dir>/letters
    # The sender block of the letters: the administration writing, one line each (its name,
    # its service, its postal address). The default says only what the product is.
    letter_sender: tuple[str, ...] = ("Unefois", "Service public", "Dites-le-nous une fois")
    # The démarches-simplifiées instance where people fill in the prefilled forms: its API
    # (dossiers created prefilled, procedures and dossiers read back) and the links people
    # follow. A notification's link lands on the gateway first.
    ds_url: str = SANDBOX_DS_URL
    ds_api_token: str = field(default=SANDBOX_DS_API_TOKEN, repr=False)
    ds_timeout: float = 10.0
    # The secret path segment of the DS webhook URL. None: derived from the pseudonym secret,
    # which every replica shares (production sets it).
    ds_webhook_secret: str | None = field(default=None, repr=False)

    @property
    def clients_path(self) -> Path:
        return self.clients_file or self.data_dir / "clients.yaml"

    @property
    def letters_path(self) -> Path:
        return self.letters_dir or self.data_dir / "letters"


def _positive(env: Mapping[str, str], name: str, default: float, kind: type[float]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(
            f"{name} must be {'an integer' if kind is int else 'a number'}"
        ) from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_positive(env, name, default, int))


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive(env, name, default, float)


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false")


def _price(env: Mapping[str, str], name: str) -> Decimal | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise SettingsError(f"{name} must be a price in euros, like 0.05") from None
    if not value.is_finite() or value < 0:
        raise SettingsError(f"{name} must be a price in euros, like 0.05")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http(s) URL")
    return value.rstrip("/")


class _Secret(NamedTuple):
    value: str
    variable: str  # the variable it came from, for messages: UNEFOIS_X or UNEFOIS_X_FILE


def _read_secret_file(variable: str, path: Path) -> str:
    """The file's text, trailing newline stripped; errors name the variable, never the text."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SettingsError(f"{variable}: {path} does not exist") from None
    except PermissionError:
        raise SettingsError(f"{variable}: {path} cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise SettingsError(f"{variable}: {path} is a directory, not a file") from None
    except OSError as exc:
        raise SettingsError(f"{variable}: {path} cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # The exception's text quotes the offending byte: a piece of the secret.
        raise SettingsError(f"{variable}: {path} is not UTF-8 text") from None
    text = text.rstrip("\r\n")
    if not text:
        raise SettingsError(f"{variable}: {path} is empty")
    return text


def _secret(env: Mapping[str, str], name: str) -> _Secret | None:
    """A secret from ``name`` or from the file ``name_FILE`` names (mounted secrets)."""
    file_variable = f"{name}_FILE"
    value = env.get(name)
    path = env.get(file_variable)
    if value and path:
        raise SettingsError(f"{name} and {file_variable} are both set; keep one")
    if path:
        return _Secret(_read_secret_file(file_variable, Path(path)), file_variable)
    return _Secret(value, name) if value else None


def _secret_value(env: Mapping[str, str], name: str) -> str | None:
    found = _secret(env, name)
    return found.value if found else None


_BROKER_SCHEMES = ("amqp://", "amqps://", "redis://", "rediss://")
_BROKER_NAMESPACE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _broker(env: Mapping[str, str]) -> tuple[str | None, str]:
    """The task broker's URL (RabbitMQ or Redis; it may hold a password: never in a message)
    and the namespace of its queue, checked before any command uses them."""
    found = _secret(env, "UNEFOIS_BROKER_URL")
    if found is not None and not found.value.startswith(_BROKER_SCHEMES):
        raise SettingsError(
            f"{found.variable} must start with amqp://, amqps:// (RabbitMQ), redis:// or "
            "rediss:// (Redis)"
        )
    namespace = env.get("UNEFOIS_BROKER_NAMESPACE") or "unefois"
    if not _BROKER_NAMESPACE.fullmatch(namespace):
        raise SettingsError(
            "UNEFOIS_BROKER_NAMESPACE is a letter or '_', then up to 63 letters, digits, '_' or '-'"
        )
    return (found.value if found else None), namespace


def _pseudonym_secret(env: Mapping[str, str]) -> str | None:
    found = _secret(env, "UNEFOIS_PSEUDONYM_SECRET")
    if found is None:
        return None
    try:
        decode_secret(found.value, found.variable)
    except ConfigurationError as exc:
        raise SettingsError(exc.message) from None
    return found.value


def _letter_sender(env: Mapping[str, str]) -> tuple[str, ...]:
    """``UNEFOIS_LETTER_SENDER``: the sender block's lines separated by ``|`` (at most six,
    each at most 38 characters, as an address block)."""
    raw = env.get("UNEFOIS_LETTER_SENDER")
    if not raw:
        return Settings.letter_sender
    lines = tuple(line.strip() for line in raw.split("|") if line.strip())
    if not 1 <= len(lines) <= 6 or any(len(line) > 38 for line in lines):
        raise SettingsError(
            "UNEFOIS_LETTER_SENDER: one to six lines separated by '|', 38 characters at most each"
        )
    return lines


def _webhook_secret(env: Mapping[str, str]) -> str | None:
    found = _secret(env, "UNEFOIS_DS_WEBHOOK_SECRET")
    if found is None:
        return None
    # A path segment: URL-safe characters only, and long enough not to be guessed.
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", found.value):
        raise SettingsError(
            f"{found.variable}: 32 to 256 characters among letters, digits, '-' and '_'"
        )
    return found.value


def _audit_signing_key(env: Mapping[str, str]) -> str | None:
    found = _secret(env, "UNEFOIS_AUDIT_SIGNING_KEY")
    if found is None:
        return None
    try:
        key = serialization.load_pem_private_key(found.value.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{found.variable}: not an unencrypted Ed25519 private key (PEM)")
    return found.value


def _environment(env: Mapping[str, str]) -> Environment:
    value = env.get("UNEFOIS_ENV") or "development"
    if value == "production":
        return "production"
    if value == "development":
        return "development"
    raise SettingsError(f"UNEFOIS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")


def _trusted_documents(env: Mapping[str, str]) -> TrustedDocuments:
    value = (env.get("UNEFOIS_TRUSTED_DOCUMENTS") or "off").lower()
    if value == "off":
        return "off"
    if value == "registered":
        return "registered"
    raise SettingsError(f"UNEFOIS_TRUSTED_DOCUMENTS must be one of {', '.join(TRUSTED_DOCUMENTS)}")


def _sync(env: Mapping[str, str]) -> Literal["FULL", "NORMAL"]:
    raw = (env.get("UNEFOIS_AUDIT_SQLITE_SYNC") or "full").lower()
    if raw == "full":
        return "FULL"
    if raw == "normal":
        return "NORMAL"
    raise SettingsError("UNEFOIS_AUDIT_SQLITE_SYNC must be full or normal")


def _workers(env: Mapping[str, str]) -> int:
    workers = _int(env, "UNEFOIS_WORKERS", 1)
    url = env.get("UNEFOIS_DATABASE_URL") or ""
    if workers > 1 and not url.lower().startswith(("postgresql", "postgres:")):
        # SQLite takes one writer at a time. The audit chain would stay whole (BEGIN IMMEDIATE),
        # but a store transaction that reads then writes fails with "database is locked" when
        # another process writes, instead of waiting; and the processes queue on one lock.
        raise SettingsError(
            "UNEFOIS_WORKERS: more than one worker needs PostgreSQL (UNEFOIS_DATABASE_URL); "
            "SQLite has one writer at a time"
        )
    return workers


def _upstreams(env: Mapping[str, str]) -> dict[str, UpstreamSettings]:
    out: dict[str, UpstreamSettings] = {}
    for name, port in SANDBOX_PORTS.items():
        prefix = f"UNEFOIS_{name.upper()}"
        base = UpstreamSettings(
            name=name,
            url=_url(env, f"{prefix}_URL", f"http://{SANDBOX_HOST}:{port}"),
            timeout=_float(env, f"{prefix}_TIMEOUT", 2.0),
            pool_size=_int(env, f"{prefix}_POOL_SIZE", 100),
        )
        if name == "api_particulier":
            # One static bearer token, as API Particulier issues them.
            token = _secret_value(env, f"{prefix}_TOKEN") or SANDBOX_API_PARTICULIER_TOKEN
            out[name] = replace(base, token=token)
        else:
            out[name] = replace(
                base,
                client_id=env.get(f"{prefix}_CLIENT_ID") or SANDBOX_CLIENT_ID,
                client_secret=_secret_value(env, f"{prefix}_CLIENT_SECRET")
                or SANDBOX_CLIENT_SECRET,
            )
    return out


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (the process environment when omitted).

    In production (``UNEFOIS_ENV=production``) a :class:`SettingsError` lists every setting
    still at a sandbox default or a secret left to the data directory.
    """
    env = os.environ if env is None else env
    settings = _build(env)
    if settings.environment == "production":
        # Imported here: the checks read this module's sandbox defaults.
        from runtime.production import refuse_sandbox_defaults

        refuse_sandbox_defaults(settings)
    return settings


def _build(env: Mapping[str, str]) -> Settings:
    environment = _environment(env)
    host = env.get("UNEFOIS_HOST") or "127.0.0.1"
    port = _int(env, "UNEFOIS_PORT", 8000)
    public_url = _url(env, "UNEFOIS_PUBLIC_URL", f"http://{host}:{port}")
    clients = env.get("UNEFOIS_CLIENTS_FILE")
    trusted_jwks = env.get("UNEFOIS_TRUSTED_JWKS_URL")
    trusted_issuer = env.get("UNEFOIS_TRUSTED_ISSUER")
    if bool(trusted_jwks) != bool(trusted_issuer):
        raise SettingsError("UNEFOIS_TRUSTED_ISSUER and UNEFOIS_TRUSTED_JWKS_URL go together")
    # The issuer is compared verbatim with the userinfo JWT's ``iss``: keep it as given.
    fc_issuer = env.get("UNEFOIS_FRANCECONNECT_ISSUER") or SANDBOX_FRANCECONNECT_ISSUER
    if not fc_issuer.startswith(("http://", "https://")):
        raise SettingsError("UNEFOIS_FRANCECONNECT_ISSUER must be an http(s) URL")
    fc_base = fc_issuer.rstrip("/")
    signing_keys = _secret(env, "UNEFOIS_SIGNING_KEYS")
    broker_url, broker_namespace = _broker(env)
    return Settings(
        environment=environment,
        host=host,
        port=port,
        public_url=public_url,
        data_dir=Path(env.get("UNEFOIS_DATA_DIR") or "var"),
        clients_file=Path(clients) if clients else None,
        token_issuer=env.get("UNEFOIS_TOKEN_ISSUER") or public_url,
        token_audience=env.get("UNEFOIS_TOKEN_AUDIENCE") or "unefois",
        token_ttl=_int(env, "UNEFOIS_TOKEN_TTL", 300),
        signing_alg=_choice(env, "UNEFOIS_SIGNING_ALG", ("Ed25519", "ES256"), "Ed25519"),
        signing_keys=signing_keys.value if signing_keys else None,
        signing_keys_file=Path(env["UNEFOIS_SIGNING_KEYS_FILE"])
        if signing_keys and signing_keys.variable.endswith("_FILE")
        else None,
        trusted_issuer=trusted_issuer or None,
        trusted_jwks_url=_url(env, "UNEFOIS_TRUSTED_JWKS_URL", trusted_jwks)
        if trusted_jwks
        else None,
        jwks_cache_ttl=_float(env, "UNEFOIS_JWKS_CACHE_TTL", 600.0),
        introspection=_bool(env, "UNEFOIS_INTROSPECTION", False),
        server_timing=_bool(env, "UNEFOIS_SERVER_TIMING", False),
        trusted_documents=_trusted_documents(env),
        max_body_bytes=_int(env, "UNEFOIS_MAX_BODY_BYTES", 64 * 1024),
        max_query_depth=_int(env, "UNEFOIS_MAX_QUERY_DEPTH", 12),
        max_aliases=_int(env, "UNEFOIS_MAX_ALIASES", 30),
        max_tokens=_int(env, "UNEFOIS_MAX_TOKENS", 2000),
        cache_ttl=_float(env, "UNEFOIS_CACHE_TTL", 300.0),
        cache_size=_int(env, "UNEFOIS_CACHE_SIZE", 100_000),
        redis_url=env.get("UNEFOIS_REDIS_URL") or None,
        redis_prefix=env.get("UNEFOIS_REDIS_PREFIX") or "unefois:",
        redis_timeout=_float(env, "UNEFOIS_REDIS_TIMEOUT", 0.1),
        log_level=(env.get("UNEFOIS_LOG_LEVEL") or "INFO").upper(),
        database_url=env.get("UNEFOIS_DATABASE_URL") or None,
        database_schema=env.get("UNEFOIS_DATABASE_SCHEMA") or None,
        audit_sqlite_sync=_sync(env),
        audit_signing_key=_audit_signing_key(env),
        audit_witness_file=Path(env["UNEFOIS_AUDIT_WITNESS_FILE"])
        if env.get("UNEFOIS_AUDIT_WITNESS_FILE")
        else None,
        audit_witness_url=_url(env, "UNEFOIS_AUDIT_WITNESS_URL", env["UNEFOIS_AUDIT_WITNESS_URL"])
        if env.get("UNEFOIS_AUDIT_WITNESS_URL")
        else None,
        audit_witness_grace=_int(env, "UNEFOIS_AUDIT_WITNESS_GRACE", 5000),
        pseudonym_secret=_pseudonym_secret(env),
        policies_dir=Path(env["UNEFOIS_POLICIES_DIR"]) if env.get("UNEFOIS_POLICIES_DIR") else None,
        eligibility_workers=_int(env, "UNEFOIS_ELIGIBILITY_WORKERS", 2),
        workers=_workers(env),
        campaign_recipient=env.get(RECIPIENT_ENV) or None,
        broker_url=broker_url,
        broker_namespace=broker_namespace,
        rate_per_second=_float(env, "UNEFOIS_RATE_LIMIT", 20.0),
        rate_burst=_int(env, "UNEFOIS_RATE_BURST", 40),
        token_rate_per_address=_float(env, "UNEFOIS_TOKEN_RATE_PER_ADDRESS", 5.0),
        token_burst_per_address=_int(env, "UNEFOIS_TOKEN_BURST_PER_ADDRESS", 20),
        token_rate_per_client=_float(env, "UNEFOIS_TOKEN_RATE_PER_CLIENT", 1.0),
        token_burst_per_client=_int(env, "UNEFOIS_TOKEN_BURST_PER_CLIENT", 10),
        token_concurrency=_int(env, "UNEFOIS_TOKEN_CONCURRENCY", 2),
        token_queue=_int(env, "UNEFOIS_TOKEN_QUEUE", 32),
        upstreams=_upstreams(env),
        upstream_transport=_choice(env, "UNEFOIS_UPSTREAM_TRANSPORT", UPSTREAM_TRANSPORTS, "wire"),
        franceconnect_issuer=fc_issuer,
        franceconnect_userinfo_url=_url(
            env, "UNEFOIS_FRANCECONNECT_USERINFO_URL", fc_base + "/api/v2/userinfo"
        ),
        franceconnect_jwks_url=_url(
            env, "UNEFOIS_FRANCECONNECT_JWKS_URL", fc_base + "/api/v2/jwks"
        ),
        franceconnect_timeout=_float(env, "UNEFOIS_FRANCECONNECT_TIMEOUT", 2.0),
        franceconnect_client_id=env.get("UNEFOIS_FRANCECONNECT_CLIENT_ID")
        or SANDBOX_FRANCECONNECT_CLIENT_ID,
        franceconnect_client_secret=_secret_value(env, "UNEFOIS_FRANCECONNECT_CLIENT_SECRET")
        or SANDBOX_FRANCECONNECT_CLIENT_SECRET,
        agent_connect_issuer=_url(
            env, "UNEFOIS_AGENT_CONNECT_ISSUER", SANDBOX_AGENT_CONNECT_ISSUER
        ),
        agent_connect_client_id=env.get("UNEFOIS_AGENT_CONNECT_CLIENT_ID")
        or SANDBOX_AGENT_CONNECT_CLIENT_ID,
        agent_connect_client_secret=_secret_value(env, "UNEFOIS_AGENT_CONNECT_CLIENT_SECRET")
        or SANDBOX_AGENT_CONNECT_CLIENT_SECRET,
        page_session_minutes=_int(env, "UNEFOIS_PAGE_SESSION_MINUTES", 30),
        smtp_host=env.get("UNEFOIS_SMTP_HOST") or "127.0.0.1",
        smtp_port=_int(env, "UNEFOIS_SMTP_PORT", SANDBOX_SMTP_PORT),
        smtp_sender=env.get("UNEFOIS_SMTP_SENDER") or "Unefois <ne-pas-repondre@unefois.localhost>",
        smtp_tls=_bool(env, "UNEFOIS_SMTP_TLS", False),
        sms_url=_url(env, "UNEFOIS_SMS_URL", SANDBOX_SMS_URL),
        sms_token=_secret_value(env, "UNEFOIS_SMS_TOKEN") or SANDBOX_SMS_TOKEN,
        sms_segment_price=_price(env, "UNEFOIS_SMS_SEGMENT_PRICE"),
        letters_dir=Path(env["UNEFOIS_LETTERS_DIR"]) if env.get("UNEFOIS_LETTERS_DIR") else None,
        letter_sender=_letter_sender(env),
        ds_url=_url(env, "UNEFOIS_DS_URL", SANDBOX_DS_URL),
        ds_api_token=_secret_value(env, "UNEFOIS_DS_API_TOKEN") or SANDBOX_DS_API_TOKEN,
        ds_timeout=_float(env, "UNEFOIS_DS_TIMEOUT", 10.0),
        ds_webhook_secret=_webhook_secret(env),
    )
