"""The one typed settings object of the IOC, read once from ``IOC_*`` environment variables.

Nothing else in the code base reads ``os.environ``: the composition root builds a ``Settings`` and passes it
(or the parts a component needs) down. ``docs/CONFIGURATION.md`` lists every field; a unit test keeps the two
in step.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from auth.addresses import parse_networks
from cities.pack import DEFAULT_CITY, CityPack, load_city
from cities.schema import check_bounds
from i18n.languages import LANGUAGES, is_time_zone, parse_language
from streams.shards import Shards

REPO_ROOT = Path(__file__).resolve().parent


class WebhookReceiver(BaseModel):
    """One alert webhook receiver (Standard Webhooks): where to POST and the secret to sign with."""

    # hide_input_in_errors: a bad receiver must not print its secret into the logs.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$", description="Short id, recorded on each outbox row.")
    url: str = Field(pattern=r"^https?://", description="http(s) URL; its host must be on the allow-list.")
    # Optional here: only the webhook sender signs, and it takes the secret from IOC_ALERT_RECEIVER_SECRETS (or,
    # as before that setting existed, from here). The dashboard and the evaluator need names and URLs only.
    secret: SecretStr | None = Field(
        None, description="`whsec_` + base64 of 24-64 random bytes (the Standard Webhooks format)."
    )

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else check_signing_secret(value)


def check_signing_secret(value: SecretStr) -> SecretStr:
    """Refuse a webhook signing secret that is not `whsec_` + base64 of 24-64 bytes (never echoing it)."""
    raw = value.get_secret_value()
    if not raw.startswith("whsec_"):
        raise ValueError("a receiver secret starts with 'whsec_' (Standard Webhooks)")
    try:
        key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ValueError("a receiver secret is 'whsec_' + base64; the rest is not base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"a receiver secret holds 24-64 bytes (the spec's bounds), this one {len(key)}")
    return value


# The accounts a process can connect as (docs/SECURITY.md): Redis users and PostgreSQL roles of the same names.
RedisAccount = Literal["producer", "ingest", "alerts", "dashboard"]
DatabaseAccount = Literal["ingest", "alerts", "dashboard"]


class Settings(BaseSettings):
    """Every setting the IOC reads; the env name is ``IOC_`` + the field name in capitals."""

    # Inputs are left out of validation errors: an alert receiver's secret must never reach a log.
    model_config = SettingsConfigDict(env_prefix="IOC_", frozen=True, extra="ignore", hide_input_in_errors=True)

    # --- services -------------------------------------------------------------------------------------
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis holding the city streams.")
    redis_cluster: bool = Field(
        False, description="IOC_REDIS_URL (and the accounts' URLs) name a node of a Redis Cluster: every process "
        "connects with the cluster client, which finds the other nodes and follows failovers (docs/DEPLOY.md).",
    )
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5433/ioc",
        description="TimescaleDB (PostgreSQL with the timescaledb extension).",
    )
    db_schema: str = Field("ioc", description="PostgreSQL schema holding the IOC tables.")
    # --- accounts: each process connects as its own Redis user and PostgreSQL role (docs/SECURITY.md) ------------
    # Empty: the process uses IOC_REDIS_URL / IOC_DATABASE_URL. One environment (a .env, scripts/run.sh) can hold
    # them all, each process picks its own; `ioc services up` and `ioc migrate` take the accounts' passwords from them.
    producer_redis_url: SecretStr = Field(
        SecretStr(""), description="Redis account of producers (`ioc simulate`), user `ioc_producer`: XADD to the "
        "city streams only. Empty: IOC_REDIS_URL.",
    )
    ingest_redis_url: SecretStr = Field(
        SecretStr(""), description="Redis account of `ioc ingest`, user `ioc_ingest`. Empty: IOC_REDIS_URL."
    )
    alerts_redis_url: SecretStr = Field(
        SecretStr(""), description="Redis account of `ioc alerts run` (the evaluator), user `ioc_alerts`. "
        "Empty: IOC_REDIS_URL.",
    )
    dashboard_redis_url: SecretStr = Field(
        SecretStr(""), description="Redis account of the dashboard (`ioc serve`, `app:server`), user "
        "`ioc_dashboard`. Empty: IOC_REDIS_URL.",
    )
    ingest_database_url: SecretStr = Field(
        SecretStr(""), description="PostgreSQL account of `ioc ingest`, role `ioc_ingest`. Empty: IOC_DATABASE_URL."
    )
    alerts_database_url: SecretStr = Field(
        SecretStr(""), description="PostgreSQL account of `ioc alerts run` (evaluator and webhook sender), role "
        "`ioc_alerts`. Empty: IOC_DATABASE_URL.",
    )
    dashboard_database_url: SecretStr = Field(
        SecretStr(""), description="PostgreSQL account of the dashboard and of `ioc users` / `ioc displays`, role "
        "`ioc_dashboard`. Empty: IOC_DATABASE_URL.",
    )
    database_read_url: SecretStr = Field(
        SecretStr(""), description="A streaming replica (hot standby) of IOC_DATABASE_URL for the dashboard's read "
        "queries (map, complaints, data centres, history). Sign-in, audit and alert commands stay on the primary. "
        "Empty: the dashboard reads from its own database URL.",
    )
    chroot_dir: Path = Field(
        Path("/var/cache/ioc/timescaledb-trixie"),
        description="Where `ioc services up` keeps the Debian trixie chroot with TimescaleDB (root only).",
    )
    redis_cluster_url: str = Field(
        "redis://127.0.0.1:7001", description="The local Redis Cluster of `ioc services cluster up` (development "
        "and tests): its first node; the six nodes (3 masters, a replica each) listen on this port and the next five.",
    )

    # --- streams (the event contract, docs/EVENTS.md) --------------------------------------------------
    stream_iot: str = Field("city:iot", description="Stream of sensor readings.")
    stream_complaints: str = Field("city:complaints", description="Stream of complaint (service request) events.")
    stream_datacenter: str = Field("city:datacenter", description="Stream of data-centre power samples.")
    stream_deadletter: str = Field("city:deadletter", description="Where rejected entries go, with the reason.")
    stream_shards: int = Field(
        1, ge=1, le=1024, description="Shards of the city streams. 1: the names above. N > 1: each stream becomes N "
        "streams named `<name>:{0}` … `<name>:{N-1}` (Redis Cluster hash tags), producers choose one by the event's "
        "device, request or site (docs/EVENTS.md). Every producer and worker must use the same number.",
    )
    deadletter_maxlen: int = Field(1_000_000, ge=1000, description="Entries kept on the dead-letter stream.")
    max_field_bytes: int = Field(4096, ge=64, description="Largest accepted value of one event field, in bytes.")
    # Per-entry budgets (docs/EVENTS.md): without them any number of 4 KiB extra fields was accepted, and stored.
    entry_max_fields: int = Field(
        64, ge=16, description="Most fields one stream entry may have (the contract's largest stream has 10, the "
        "rest are extra fields); an entry with more goes to the dead letter as `too_large`.",
    )
    entry_max_bytes: int = Field(
        16_384, ge=1024, description="Most bytes of field names and values together in one stream entry (four "
        "fields at IOC_MAX_FIELD_BYTES); a larger entry goes to the dead letter as `too_large`.",
    )
    parse_cache_max_entries: int = Field(
        500_000, ge=1000, description="Answers an ingest worker or the evaluator remembers (devices, positions, "
        "words, field layouts) before it forgets them all and starts again.",
    )
    parse_cache_max_bytes: int = Field(
        134_217_728, ge=1_048_576, description="Approximate bytes those answers may take (about 800 a device); "
        "reaching it also forgets them all.",
    )
    max_future_skew_s: int = Field(
        300, ge=0, description="How far an event's `ts` may run ahead of the time Redis received it."
    )
    # --- the city (docs/CITIES.md): a pack supplies these; setting one overrides the pack's value --------------
    city: str = Field(
        DEFAULT_CITY, description="The city the IOC runs for: a shipped pack's name (`shenzhen`, `new-york`) or the "
        "path of a pack directory (docs/CITIES.md). Its boundaries, bounds, time zone, KPI targets, simulator and "
        "alert rules apply unless a setting below overrides them.",
    )
    # A None default means "the pack's value" (filled in by _city_pack_values below, so never None once built).
    city_bounds: Annotated[tuple[float, float, float, float], NoDecode] = Field(
        None, description="West,south,east,north (WGS-84) outside which a position is rejected. Default: the pack's.",
    )
    districts_geojson: Path = Field(
        None, description="District boundaries (WGS-84 GeoJSON, properties `id`, `name_en`, optional `name_zh`, "
        "`name_th`, …). Default: the pack's.",
    )
    district_snap_m: float = Field(
        1000.0, ge=0, description="A position this close to a district (shore, pier) is counted in it."
    )

    # --- ingest --------------------------------------------------------------------------------------
    consumer_group: str = Field("ioc-ingest", description="Redis consumer group the ingest workers share.")
    ingest_batch: int = Field(10_000, ge=1, description="Entries read per stream per XREADGROUP.")
    ingest_block_ms: int = Field(1000, ge=1, description="How long one XREADGROUP waits for new entries.")
    ingest_linger_ms: int = Field(
        100, ge=0, description="After a read short of a full batch, wait this long for more before reading again."
    )
    claim_idle_ms: int = Field(
        30_000, ge=100, description="Entries pending this long on a (presumably dead) worker are claimed."
    )
    housekeeping_interval_s: float = Field(
        5.0, gt=0, description="How often a worker claims stale entries and trims the streams."
    )
    db_retry_max_s: float = Field(30.0, gt=0, description="Longest back-off between database retries.")
    # A runaway or hostile producer inventing identities must not grow current state, the live snapshot or the
    # evaluator's memory without bound (docs/SECURITY.md). The caps count identities not yet in the state tables,
    # shared by all workers through one Redis counter per stream and minute.
    ingest_new_devices_per_min: int = Field(
        5000, ge=1,
        description="New device ids accepted per minute on the sensor stream; more go to the dead letter as "
        "`too_many_new`. A city commissions devices by the hundred a day; 5,000 a minute lets a whole district "
        "(or the simulator's city) come online at once.",
    )
    ingest_new_sites_per_min: int = Field(
        50, ge=1, description="New data-centre sites accepted per minute (a city runs a few dozen at most)."
    )
    ingest_new_requests_per_min: int = Field(
        1000, ge=1,
        description="New complaint request ids accepted per minute: a big city's hotline peaks near 100 a minute.",
    )
    device_forget_after_hours: float = Field(
        168.0, gt=0,
        description="A device or site silent this long leaves current state (`sensor_latest`, `datacenter_latest`), "
        "the map and the evaluator's memory; its history stays. Must exceed every no-data rule's `silent_for`.",
    )
    ingest_nice: int = Field(
        5, ge=0, le=19,
        description="CPU niceness of ingest workers: storage can catch up, alerts and the dashboard cannot wait.",
    )

    # --- retention -----------------------------------------------------------------------------------
    retention_raw_days: int = Field(30, ge=1, description="Raw events kept, in days.")
    retention_minute_days: int = Field(90, ge=1, description="Per-minute rollups kept, in days.")
    retention_hour_days: int = Field(1825, ge=1, description="Per-hour rollups kept, in days.")
    retention_device_hour_days: int = Field(
        90, ge=1,
        description="Per-device hourly means of the per-device anomaly rules (`device_rollup_1h`) kept, in days: "
        "a rule's `baseline_days` is at most 90.",
    )

    # --- simulator -----------------------------------------------------------------------------------
    sim_seed: int = Field(20261124, description="Seed of the simulated city: same seed, same city.")
    sim_sensors: int = Field(2000, ge=1, description="Simulated IoT devices.")
    sim_readings_per_s: float = Field(200.0, gt=0, description="Simulated sensor readings per second.")
    sim_complaints_per_hour: float = Field(
        None, gt=0, description="New complaints per hour at the daily peak. Default: the pack's."
    )
    sim_datacenter_sites: int = Field(None, ge=1, description="Simulated data-centre sites. Default: the pack's.")
    sim_backfill_readings_per_s: float = Field(
        20.0, gt=0, description="Sensor readings per simulated second when back-filling history (`--backfill-days`)."
    )
    backfill_days: float = Field(
        7.0, ge=0, le=366,
        description="Days of simulated history `scripts/run.sh` writes into TimescaleDB before going live "
        "(`ioc simulate backfill`), only where the database has none; 0 turns it off.",
    )
    backfill_interval_s: float = Field(
        600.0, gt=0,
        description="In back-filled history each sensor metric reports once per this many seconds over the last "
        "two days and three times less often before (live: every few seconds): a week takes one to two minutes.",
    )
    backfill_live_rate_min: float = Field(
        30.0, ge=0,
        description="Minutes of back-filled history from 24 h ago (plus the 10 before) written at the live reading "
        "rate, so for that long after the first start 'readings / min' compares like with like with yesterday.",
    )
    sim_incidents: bool = Field(
        True, description="Play the seeded incident schedule (river flood, air-quality spike, DC cooling failure)."
    )

    # --- dashboard -----------------------------------------------------------------------------------
    http_host: str = Field("127.0.0.1", description="Address the dashboard listens on.")
    http_port: int = Field(8050, ge=1, le=65535, description="Port the dashboard listens on.")
    static_max_age_s: int = Field(
        86_400, ge=0, description="Cache lifetime browsers are told for /assets (busted by Dash's ?m= stamp)."
    )
    max_request_bytes: int = Field(
        1_048_576, ge=65_536, description="Largest request body the dashboard reads; larger ones get 413 unread."
    )
    compressed_static_cache_mb: int = Field(
        32, ge=0, le=1024,
        description="Memory per dashboard worker for compressed JavaScript bundles and assets (0: compress each time).",
    )  # fmt: skip
    live_refresh_ms: int = Field(
        1000,
        ge=200,
        description="How often a live view (overview, wall, alert markers on /map) asks if the snapshot changed.",
    )
    live_rebuild_min_s: float = Field(
        1.0, gt=0, description="Shortest time between two rebuilds of the live snapshot, across all workers."
    )
    live_rebuild_max_s: float = Field(
        15.0, gt=0, description="Rebuild the live snapshot at least this often, so staleness shows without data."
    )
    city_timezone: str = Field(
        None, description="Time zone in which a city 'day' starts (KPIs 'today'). Default: the pack's."
    )
    default_language: str = Field(
        None, description="Language of every page, the wall and webhook text for whoever has not chosen one: `en`, "
        "`zh-CN` or `th` (a person's own choice, a display token's language and `?lang=` come first; "
        "docs/LANGUAGES.md). Default: the pack's.",
    )  # fmt: skip
    display_timezone: str = Field(
        "", description="Time zone every date and time on the pages, the wall and in webhook text is shown in. "
        "Empty: IOC_CITY_TIMEZONE.",
    )  # fmt: skip
    stale_after_s: int = Field(
        120, ge=1, description="Data older than this turns the freshness indicator red (overview and wall)."
    )
    map_tile_url: str = Field(
        "", description="Basemap tile URL template ({z}/{x}/{y}); empty draws district outlines only (no tiles)."
    )
    map_tile_attribution: str = Field("", description="Attribution shown for the basemap tiles.")
    map_cluster_px: int = Field(
        60, ge=20, le=240,
        description="Size in screen pixels of the square cells the city map clusters its sensors in (per zoom).",
    )
    live_max_sensors: int = Field(
        50_000, ge=100,
        description="Devices the live snapshot carries for the maps; past it the snapshot says how many were left "
        "out (counts and KPIs still cover all).",
    )
    console_page_size: int = Field(
        100, ge=10, le=1000, description="Rows per page of the alert console's open alerts."
    )
    wall_playlist: Annotated[tuple[str, ...], NoDecode] = Field(
        ("overview", "map", "alerts", "energy"),
        description="Views the wall display rotates through, comma-separated (`?playlist=` overrides).",
    )
    wall_interval_s: int = Field(
        30, ge=5, description="Seconds each wall view stays on screen (`?interval=` overrides)."
    )

    # --- operations: readiness and metrics (docs/OPERATIONS.md) ------------------------------------------
    ready_max_lag: int = Field(
        100_000, ge=0,
        description="`/readyz` answers 503 when the ingest group has more entries than this waiting on any city "
        "stream (its consumer-group lag).",
    )
    ready_max_snapshot_age_s: float = Field(
        60.0, gt=0, description="`/readyz` answers 503 when the live snapshot was built longer ago than this."
    )
    ready_probe_timeout_s: float = Field(
        2.0, gt=0, le=30, description="Longest `/readyz` waits for Redis or for the database before it calls it down."
    )
    metrics_token: SecretStr = Field(
        SecretStr(""), description="Bearer token that opens the dashboard's `/metrics` (`Authorization: Bearer …`, "
        "Prometheus' `authorization.credentials_file`). Empty: only IOC_METRICS_ALLOWED_NETWORKS may scrape.",
    )
    metrics_allowed_networks: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Addresses or networks, comma-separated, that may read the dashboard's `/metrics` without "
        "the token (the connecting address itself; never through IOC_TRUSTED_PROXIES). Empty: none.",
    )
    metrics_multiproc_dir: str = Field(
        "", description="Directory where gunicorn's dashboard workers keep their metrics (prometheus-client's "
        "multiprocess mode), emptied when gunicorn starts. Empty: a new temporary directory per start.",
    )
    metrics_addr: str = Field(
        "127.0.0.1", description="Address the metrics servers of `ioc ingest` and `ioc alerts run` listen on."
    )
    ingest_metrics_port: int = Field(
        0, ge=0, le=65535,
        description="Port of `ioc ingest`'s metrics (`/metrics`); worker N of `--workers` uses this port + N. "
        "0: no metrics server.",
    )
    alerts_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port of `ioc alerts run`'s metrics (`/metrics`). 0: no metrics server."
    )

    # --- who may do what (docs/SECURITY.md) ----------------------------------------------------------------
    session_hours: float = Field(
        12.0, gt=0, le=720, description="How long a person's sign-in lasts (a shift), whatever they do meanwhile."
    )
    display_session_days: int = Field(
        365, ge=1, le=3650, description="How long a wall display's session lasts once its token is exchanged."
    )
    display_recheck_s: float = Field(
        30.0, gt=0, le=60,
        description="A display session is re-checked against the database this often: a revoked token stops "
        "its wall within this time (people's sessions are checked on every request).",
    )
    signin_max_failures: int = Field(
        5, ge=1, le=100, description="Wrong passwords in a row that lock an account (IOC_SIGNIN_LOCKOUT_MINUTES)."
    )
    signin_lockout_minutes: float = Field(15.0, gt=0, description="How long a locked account stays locked.")
    signin_attempts_per_minute: int = Field(
        10, ge=1, description="Sign-in attempts (and display-token exchanges) per client address per minute."
    )
    trusted_user_header: str = Field(
        "", description="Header naming the signed-in user, set by the SSO proxy in front of the dashboard (e.g. "
        "`X-Forwarded-User`); believed only from IOC_TRUSTED_PROXIES. Empty: users sign in with a password.",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Addresses or networks of the reverse proxies, comma-separated (`10.0.0.5,10.1.0.0/16`): "
        "only their X-Forwarded-For and trusted user header are believed.",
    )
    sso_new_user_role: Literal["viewer", "operator", "admin", "none"] = Field(
        "viewer", description="Role of an account created for a user the SSO proxy names and the IOC does not "
        "know yet; `none` refuses such users until an admin adds them.",
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto", description="Mark the session cookie Secure: `auto` when the request came over HTTPS (directly, "
        "or X-Forwarded-Proto from a trusted proxy).",
    )
    silence_max_hours: float = Field(
        168.0, gt=0, le=8760, description="Longest silence an officer may create (the server refuses longer)."
    )
    note_max_chars: int = Field(2000, ge=1, le=100_000, description="Longest note on an alert, in characters.")
    silence_max_matchers: int = Field(10, ge=1, le=100, description="Most label matchers one silence may have.")

    # --- the open-data API, /api/v1 (docs/API.md) -----------------------------------------------------------
    api_requests_per_minute: int = Field(
        120, ge=1, le=100_000,
        description="Requests one API key may make per minute (all dashboard processes together), unless the key "
        "was issued with its own limit; past it the API answers 429 with Retry-After.",
    )
    api_position_decimals: int = Field(
        3, ge=0, le=6,
        description="Decimal places of the latitudes and longitudes the API publishes (sensors, alerts): 3 is about "
        "110 m, 2 about 1.1 km. The dashboard's own maps are not affected.",
    )
    api_page_max: int = Field(1000, ge=10, le=10_000, description="Most items one page of an API list may hold.")
    api_max_range_days: int = Field(
        31, ge=1, le=3660,
        description="Longest time range one API request may ask for (history, aggregates, PUE; docs/API.md).",
    )

    # --- alerts (docs/ALERTS.md) ------------------------------------------------------------------------
    alert_rules_file: Path = Field(
        None, description="The alert rules (TOML); `ioc alerts rules` checks it. Default: the pack's own, else "
        "`config/alert_rules.toml`.",
    )
    alert_consumer_group: str = Field(
        "ioc-alerts", description="Consumer group of the alert evaluator on the city streams (apart from ingest)."
    )
    alert_tick_s: float = Field(
        1.0, gt=0, le=60, description="How often time alone is evaluated: hold periods, silent devices, SLA counts."
    )
    alert_linger_ms: int = Field(
        20, ge=0, le=1000, description="After a read short of a full batch, the evaluator waits this long for more."
    )
    alert_baseline_refresh_s: float = Field(
        3600.0, ge=60, le=86400,
        description="How often the evaluator loads anomaly rules' baselines again from the hourly rollups (a load "
        "that fails is tried again within a minute; the rules keep the baselines they had meanwhile). A per-device "
        "rule loads the hours of the day it can judge by until the next load.",
    )
    dashboard_url: str = Field(
        "http://127.0.0.1:8050", description="Public address of the dashboard; webhooks link to `<this>/alerts/<id>`."
    )
    alert_receivers: Annotated[tuple[WebhookReceiver, ...], NoDecode] = Field(
        (), description='Webhook receivers as JSON: `[{"name": "ops", "url": "https://…"}]`; their signing secrets '
        'go in IOC_ALERT_RECEIVER_SECRETS (a `"secret"` here is still accepted).',
    )
    alert_receiver_secrets: dict[str, SecretStr] = Field(
        {}, description='Signing secrets of the receivers as JSON, `{"ops": "whsec_…"}`: needed only by the webhook '
        "sender (`ioc alerts run` without `--no-send`), never by the dashboard or the evaluator.",
    )
    alert_webhook_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Hosts receivers may point at, comma-separated (`*.example.org` for subdomains); "
        "any other receiver is refused at start.",
    )
    alert_webhook_timeout_s: float = Field(
        15.0, gt=0, description="How long one webhook POST may take in all: connect, send, reply and body."
    )
    alert_retry_base_s: float = Field(5.0, gt=0, description="First webhook retry ceiling; it doubles each try.")
    alert_retry_max_delay_s: float = Field(3600.0, gt=0, description="Largest pause between two webhook tries.")
    alert_retry_for_s: float = Field(
        86_400.0, gt=0, description="A webhook message still failing this long after it was queued is dead-lettered."
    )
    alert_sender_threads: int = Field(
        4, ge=1, le=64, description="Webhook deliveries in flight at once per `ioc alerts run` process."
    )
    alert_max_open_per_rule: int = Field(
        200, ge=1,
        description="Open alerts one rule may have; past it the rule opens one summary alert counting what it held "
        "back, instead of an alert (and a webhook) per device.",
    )
    alert_sender_per_receiver: int = Field(
        2, ge=1, le=64, description="Webhook deliveries in flight at once to any one receiver, per process; keep it "
        "below `IOC_ALERT_SENDER_THREADS` so a slow receiver leaves threads for the others.",
    )

    # --- Open311 GeoReport v2: the complaint platform's public reads (docs/OPEN311.md) ---------------------------
    open311_enabled: bool = Field(
        True, description="Serve the Open311 GeoReport v2 reads (`/open311/v2/…`, `/open311/discovery.*`) to anyone, "
        "without a session, as the spec has them. They carry no personal data; whether the world reaches them is "
        "the front proxy's choice. false: no Open311 answers; the paths need a sign-in like any other.",
    )
    open311_requests_per_minute: int = Field(
        60, ge=1, le=100_000, description="Open311 requests per client address per minute; more are answered 429 "
        "with Retry-After.",
    )
    open311_max_requests: int = Field(
        1000, ge=1, le=10_000, description="Most service requests one Open311 answer lists (the spec's default "
        "is 1,000), newest first.",
    )
    open311_max_days: int = Field(
        90, ge=1, le=366, description="Without dates Open311 lists requests of this many recent days, and a "
        "`start_date`…`end_date` range may span at most this many (the spec's 90).",
    )
    open311_max_ids: int = Field(
        100, ge=1, le=1000, description="Most `service_request_id`s one Open311 query may name; more are refused 400.",
    )
    open311_position_decimals: int = Field(
        3, ge=0, le=6, description="Decimals of the lat/long Open311 publishes: 3 is about 100 m, so a request "
        "names a block, not a citizen's door.",
    )
    open311_agency_responsible: str = Field(
        "", max_length=200, description="`agency_responsible` of every Open311 request (e.g. the city's hotline "
        "office). Empty: left out.",
    )
    open311_contact: str = Field(
        "", max_length=500, description="`contact` of the Open311 discovery document: how to reach the people "
        "behind the API. Empty: IOC_DASHBOARD_URL.",
    )

    @model_validator(mode="before")
    @classmethod
    def _city_pack_values(cls, data: object) -> object:
        # Before validation, so that an override set in the environment (or passed in) is parsed and checked like
        # any value, and a value the pack supplies like one from the environment. A broken pack stops here,
        # with every problem in it listed.
        if not isinstance(data, dict):
            return data
        pack = load_city(str(data.get("city") or DEFAULT_CITY))
        for name, value in pack_values(pack).items():
            if data.get(name) in (None, ""):
                data[name] = value
        return data

    @field_validator("alert_receivers", mode="before")
    @classmethod
    def _parse_receivers(cls, value: object) -> object:
        # JSON from the environment; an empty value means none (child processes get "" for an empty tuple).
        if isinstance(value, str):
            return tuple(json.loads(value)) if value.strip() else ()
        return value

    @field_validator("alert_receiver_secrets")
    @classmethod
    def _check_receiver_secrets(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, secret in value.items():
            try:
                check_signing_secret(secret)
            except ValueError as bad:
                raise ValueError(f"receiver {name!r}: {bad}") from None
        return value

    @model_validator(mode="after")
    def _secrets_name_receivers(self) -> Settings:
        unknown = sorted(set(self.alert_receiver_secrets) - {r.name for r in self.alert_receivers})
        if unknown and self.alert_receivers:
            raise ValueError(f"IOC_ALERT_RECEIVER_SECRETS names receivers not in IOC_ALERT_RECEIVERS: {unknown}")
        return self

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(p.strip() for p in value.split(",") if p.strip())
        parse_networks(value)  # refuses a bad entry, naming it
        return value

    @model_validator(mode="after")
    def _header_needs_proxies(self) -> Settings:
        if self.trusted_user_header and not self.trusted_proxies:
            raise ValueError("IOC_TRUSTED_USER_HEADER is believed only from IOC_TRUSTED_PROXIES: set the proxies' "
                             "addresses too, or anyone could claim to be anyone")
        return self

    @field_validator("metrics_allowed_networks", mode="before")
    @classmethod
    def _parse_metrics_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(p.strip() for p in value.split(",") if p.strip())
        parse_networks(value)  # refuses a bad entry, naming it
        return value

    @field_validator("alert_webhook_allowed_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip().lower() for p in value.split(",") if p.strip())
        return value

    @field_validator("city_bounds", mode="before")
    @classmethod
    def _parse_bounds(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [float(p) for p in value.split(",")]
            if len(parts) != 4:
                raise ValueError("city_bounds takes four numbers: west,south,east,north")
            return tuple(parts)
        return value

    @field_validator("default_language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        language = parse_language(value)
        if language is None:
            raise ValueError(f"a language is one of {', '.join(LANGUAGES)}")
        return language

    @field_validator("display_timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        if value and not is_time_zone(value):
            raise ValueError(f"{value[:64]!r} is not an IANA time zone (e.g. Asia/Shanghai, Asia/Bangkok)")
        return value

    @field_validator("wall_playlist", mode="before")
    @classmethod
    def _parse_playlist(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("city_bounds")
    @classmethod
    def _check_bounds(cls, value: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return check_bounds(value)

    def redacted(self) -> dict[str, object]:
        """Every setting as ``ioc config`` prints it: passwords in URLs and receivers' secrets masked."""
        shown: dict[str, object] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr) and name.endswith("_url"):
                value = value.get_secret_value()  # an account's URL: its user and host help, its password not
            shown[name] = mask_url_password(value) if isinstance(value, str) and "://" in value else value
        return shown

    def revealed_json(self) -> str:
        """The settings as JSON with every secret in clear: only for handing to this process's own children
        (``model_dump_json`` would send them the masks)."""
        return json.dumps(_reveal(self.model_dump()), default=str)

    def redis_url_for(self, account: RedisAccount) -> str:
        """The Redis URL ``account``'s process connects with: its own (IOC_<ACCOUNT>_REDIS_URL), else IOC_REDIS_URL."""
        own: SecretStr = getattr(self, f"{account}_redis_url")
        return own.get_secret_value() or self.redis_url

    def database_url_for(self, account: DatabaseAccount) -> str:
        """The PostgreSQL URL of ``account``'s process: IOC_<ACCOUNT>_DATABASE_URL, else IOC_DATABASE_URL."""
        own: SecretStr = getattr(self, f"{account}_database_url")
        return own.get_secret_value() or self.database_url

    def dashboard_read_url(self) -> str:
        """Where the dashboard's read queries go: IOC_DATABASE_READ_URL, else the dashboard's own database URL."""
        return self.database_read_url.get_secret_value() or self.database_url_for("dashboard")

    def signing_receivers(self) -> tuple[WebhookReceiver, ...]:
        """The receivers with their signing secrets (for the webhook sender); ValueError names any without one."""
        signed = tuple(r.model_copy(update={"secret": self.alert_receiver_secrets.get(r.name, r.secret)})
                       for r in self.alert_receivers)  # fmt: skip
        missing = [r.name for r in signed if r.secret is None]
        if missing:
            raise ValueError(f"no signing secret for receivers {missing}: set them in IOC_ALERT_RECEIVER_SECRETS "
                             '(`{"name": "whsec_…"}`) in the environment of the webhook sender')
        return signed

    @property
    def display_zone(self) -> str:
        """The time zone dates and times are shown in (IOC_DISPLAY_TIMEZONE, else the city's)."""
        return self.display_timezone or self.city_timezone

    @property
    def city_pack(self) -> CityPack:
        """The checked city pack IOC_CITY names (read once per process and file change)."""
        return load_city(self.city)

    @property
    def streams(self) -> dict[str, str]:
        """Kind of event → stream name (of the single-node layout; ``shards`` has every shard's)."""
        return {"iot": self.stream_iot, "complaints": self.stream_complaints, "datacenter": self.stream_datacenter}

    @property
    def shards(self) -> Shards:
        """The city streams over IOC_STREAM_SHARDS shards."""
        return Shards(self.streams, self.stream_shards)


def pack_values(pack: CityPack) -> dict[str, object]:
    """The settings a city pack supplies, by field name: each used where its setting is not set."""
    simulator = pack.file.simulator
    return {
        "city_bounds": pack.bounds, "districts_geojson": pack.districts_path, "city_timezone": pack.timezone,
        "default_language": pack.default_language,
        "alert_rules_file": pack.alert_rules_path or REPO_ROOT / "config" / "alert_rules.toml",
        "sim_complaints_per_hour": simulator.complaints_per_hour,
        "sim_datacenter_sites": simulator.datacenters.default_count,
    }  # fmt: skip


def _reveal(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reveal(v) for v in value]
    return value


def mask_url_password(url: str) -> str:
    """``postgresql://ioc:s3cret@db/ioc`` → ``postgresql://ioc:***@db/ioc``; a URL without one unchanged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; ``overrides`` win (tests and the CLI use them)."""
    return Settings(**overrides)
