"""The one settings object, read from the environment and `.env` once at start-up.

Nothing else in the project reads the environment: `load_settings()` is called by the
entry points (CLI, Serve ingress) and the resulting object is passed down.
"""

from __future__ import annotations

import logging
import math
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

#: Secrets shorter than this (in characters) are refused outside DEBUG.
MIN_SECRET_KEY_LENGTH = 32
#: A key must carry at least this much entropy, estimated as length x log2(distinct
#: characters): ``token_urlsafe(32)`` gives ~210 bits, 40 times "x" gives 0.
MIN_SECRET_KEY_BITS = 128
#: Words that mark a placeholder copied from documentation rather than a generated key.
_PLACEHOLDER_WORDS = (
    "replace",
    "change",
    "example",
    "placeholder",
    "insecure",
    "secret",
    "password",
    "your",
    "todo",
    "token_urlsafe",
    "<",
    " ",
)


class InsecureSettingsError(ValueError):
    """Raised when the configuration would run the server insecurely."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """posecoach configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    secret_key: SecretStr | None = None
    debug: bool = False
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "testserver"]
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    db_name: str | None = None
    db_user: str | None = None
    db_password: SecretStr | None = None
    db_host: str | None = None
    db_port: int | None = None
    #: Full SQLAlchemy URL; overrides DB_* and the SQLite default when set.
    database_url: str | None = None
    data_dir: Path = Path("data")
    #: Redis shared by every ingress replica (redis://host:port/db): cluster-wide limits
    #: and the hand-off of unsaved sessions (api/shared_state.py). Unset: in process.
    redis_url: SecretStr | None = None
    #: How long one Redis call may take before what it guards answers 503.
    redis_timeout_s: float = Field(default=0.5, gt=0, le=10)

    jwt_issuer: str = "posecoach"
    access_token_ttl_s: int = Field(default=15 * 60, gt=0)
    refresh_token_ttl_s: int = Field(default=7 * 24 * 3600, gt=0)
    #: argon2id cost; the default follows OWASP's password storage cheat sheet (19 MiB, t=2).
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)

    #: Failed-or-pending logins per window for one account *from one client address*:
    #: a stranger who guesses wrong locks out only themselves, not the account's owner.
    login_attempts_per_account: int = Field(default=5, ge=1)
    #: Between attempts on one account from one address: nothing after the first, then
    #: this delay, doubling with each attempt in the window (1, 2, 4, 8 s; 429 sooner).
    login_delay_base_s: float = Field(default=1.0, ge=0, le=60)
    #: ... and for one account from all addresses together (distributed guessing).
    login_attempts_per_account_all_sources: int = Field(default=100, ge=1)
    login_attempts_per_ip: int = Field(default=20, ge=1)
    #: Data exports (GET /api/auth/export/) one user may ask for per hour.
    exports_per_hour: int = Field(default=10, ge=1)
    login_window_s: float = Field(default=300.0, gt=0)

    #: Request headers at the public port: all of them together (431 beyond, before the
    #: app sees the request) and how many.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_header_count: int = Field(default=100, ge=10, le=10_000)
    max_json_body_bytes: int = Field(default=64 * 1024, gt=0)
    #: Deepest nesting of arrays and objects a JSON body may have (400 beyond).
    max_json_depth: int = Field(default=32, ge=2, le=256)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, gt=0)

    #: WebSocket sessions (/ws/exercise/...): largest message accepted (bigger: error).
    ws_max_message_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    #: Frames per second a session may send; frames over the rate are dropped and counted.
    ws_max_frames_per_s: float = Field(default=30.0, gt=0)
    #: A session with no message for this long is saved and closed.
    ws_idle_timeout_s: float = Field(default=60.0, gt=0)
    #: Frames of one session in the pose backend at once; newer frames replace queued ones.
    ws_frames_in_flight: int = Field(default=1, ge=1, le=8)
    #: Frames of all sessions of one server process in the pose backend at once. Past
    #: what the backend computes, more only queue there (latency), so the rest wait in
    #: their sessions' latest-frame-wins slots. 10 keeps two CPU pose replicas busy with
    #: two calls of 5 frames (ray_config.yaml's ingress_batching; bench/README.md,
    #: "Scale out"); for GPU replicas use about 2 x replicas x max_batch_size.
    ws_backend_frames_in_flight: int = Field(default=10, ge=1)
    #: How long one frame may take in the pose backend before it is answered with an error.
    ws_frame_timeout_s: float = Field(default=10.0, gt=0)
    #: Browser origins allowed to open a WebSocket (besides the server's own host);
    #: CORS_ORIGINS are allowed too. Clients that send no Origin (native apps) are allowed.
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    #: A rest at least this long between reps closes a set (live sessions and uploads).
    set_gap_s: float = Field(default=20.0, gt=0)
    #: Open exercise WebSockets one user may hold (4429 beyond): on all replicas together
    #: with REDIS_URL, else on this process.
    ws_max_sessions_per_user: int = Field(default=3, ge=1)
    #: With REDIS_URL: a socket's place under that cap is a lease its replica renews; a
    #: replica that dies frees its users' places when their leases run out.
    ws_socket_lease_s: float = Field(default=30.0, ge=3)
    #: A started exercise longer than this is ended and saved (the socket stays open).
    ws_max_session_s: float = Field(default=2 * 3600.0, gt=0)

    #: Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (a reverse proxy's
    #: address, CIDR ranges allowed, ``*`` for all). Empty: the TCP peer is the client.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Distinct keys (accounts, client addresses) each login/registration limiter holds.
    #: Expired entries are evicted; when every entry is live, new keys are refused (429).
    throttle_max_keys: int = Field(default=100_000, ge=1)

    #: How long a save waits for the database before the session is left to the outbox.
    db_save_timeout_s: float = Field(default=5.0, gt=0)
    #: Outbox retries back off from the first delay, doubling up to the cap.
    outbox_retry_first_s: float = Field(default=1.0, gt=0)
    outbox_retry_max_s: float = Field(default=60.0, gt=0)
    #: Retry-After (seconds) sent with 503 while the database is unreachable.
    db_retry_after_s: int = Field(default=5, ge=1)

    #: Uploads: longest video accepted (seconds), frames per second analysed (None: the
    #: video's own up to 30), per-user waiting/running jobs and bytes of stored videos.
    upload_max_duration_s: float = Field(default=600.0, gt=0)
    #: Frames one upload may have analysed (413 beyond, from the header before any work;
    #: a header that under-counts is cut off here while reading).
    upload_max_frames: int = Field(default=18_000, ge=1)
    upload_rate: float | None = Field(default=None, gt=0, le=120)
    upload_max_queued: int = Field(default=5, ge=1)
    upload_quota_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    #: Jobs one ingress process runs at once, and frames all its jobs together may have in
    #: the pose backend (their share of WS_BACKEND_FRAMES_IN_FLIGHT; live frames go first).
    upload_jobs: int = Field(default=4, ge=0)
    upload_frames_in_flight: int = Field(default=2, ge=1)
    #: A running job's lease: renewed while it runs; after a crash, the job is taken over
    #: (from its start) once the lease has run out. A job interrupted this often fails.
    upload_lease_s: float = Field(default=30.0, gt=0)
    upload_max_attempts: int = Field(default=3, ge=1)
    #: After a pose backend failure or timeout a job waits this long times its attempts
    #: before running again; in process, each attempt also gives a frame twice the time
    #: the one before did (WS_FRAME_TIMEOUT_S first, 4x at most). Through Serve a call is
    #: given up after WS_FRAME_TIMEOUT_S whatever its frames (an unreachable replica must
    #: not stall live sessions), so there only the wait grows.
    upload_retry_s: float = Field(default=10.0, gt=0)
    #: How often an idle worker looks for new jobs (an upload on this process wakes it).
    upload_poll_s: float = Field(default=2.0, gt=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator(
        "allowed_hosts", "cors_origins", "ws_allowed_origins", "forwarded_allow_ips", mode="before"
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _require_strong_secret(self) -> Settings:
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        problem = secret_key_problem(key)
        if problem is None:
            return self
        if not self.debug:
            raise InsecureSettingsError(
                f"SECRET_KEY {problem}. Set a strong SECRET_KEY, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
                "or set DEBUG=true for local development."
            )
        # In DEBUG a random key is fine: tokens simply do not survive a restart.
        logger.warning("DEBUG: SECRET_KEY missing or weak; generated a random one for this run")
        self.secret_key = SecretStr(secrets.token_urlsafe(48))
        return self

    @property
    def secret(self) -> str:
        """The signing key (always set after validation)."""
        assert self.secret_key is not None
        return self.secret_key.get_secret_value()

    @property
    def uses_postgres(self) -> bool:
        """True when any DB_* variable is set (PostgreSQL), False for the SQLite default."""
        return any(
            v is not None
            for v in (self.db_name, self.db_user, self.db_password, self.db_host, self.db_port)
        )

    def sqlalchemy_url(self) -> URL:
        """The database URL: DATABASE_URL, else PostgreSQL from DB_*, else a SQLite file."""
        if self.database_url:
            return make_url(self.database_url)
        if self.uses_postgres:
            return URL.create(
                "postgresql+psycopg2",
                username=self.db_user,
                password=self.db_password.get_secret_value() if self.db_password else None,
                host=self.db_host or "127.0.0.1",
                port=self.db_port or 5432,
                database=self.db_name or "posecoach",
            )
        return make_url(f"sqlite:///{(self.data_dir / 'posecoach.sqlite3').resolve()}")


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is no signing key (missing, short, a placeholder, low entropy), or None."""
    if not key:
        return "is missing"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    lowered = key.lower()
    word = next((w for w in _PLACEHOLDER_WORDS if w in lowered), None)
    if word is not None:
        return f"looks like a placeholder (contains {word!r})"
    bits = len(key) * math.log2(len(set(key)))
    if bits < MIN_SECRET_KEY_BITS:
        return f"has too little entropy (about {bits:.0f} bits, needs {MIN_SECRET_KEY_BITS})"
    return None


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment (and `.env`); keyword overrides win."""
    return Settings(**overrides)  # type: ignore[arg-type]
