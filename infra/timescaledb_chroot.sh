#!/usr/bin/env bash
# TimescaleDB (and, if asked, Redis) from a Debian trixie chroot, for root on a Debian host without Docker.
#
# Called by `ioc services up/down` (infra/services.py); usable by hand too:
#   timescaledb_chroot.sh ensure         DIR             create the chroot once (about 40 s, ~700 MB)
#   timescaledb_chroot.sh start-postgres DIR PORT        configure and start PostgreSQL 17 + TimescaleDB on PORT
#   timescaledb_chroot.sh start-redis    DIR PORT [PASS] start the chroot's redis-server on PORT
#   timescaledb_chroot.sh start-replica  DIR PRIMARY_PORT PORT [rebuild]
#                                                        a hot standby of the primary on PORT, streaming from it
#                                                        (pg_basebackup -R once; again with `rebuild`)
#   timescaledb_chroot.sh stop-replica   DIR             stop the hot standby only
#   timescaledb_chroot.sh stop           DIR             stop what runs from the chroot and unmount its mounts
#   timescaledb_chroot.sh status         DIR             say what runs from the chroot
# Every command is idempotent. Trixie, because it is the first Debian release that packages TimescaleDB.
set -Eeuo pipefail
trap 'echo "timescaledb_chroot: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

PG_VERSION=17
SUITE=trixie
MIRROR=http://deb.debian.org/debian
PACKAGES="postgresql-$PG_VERSION,postgresql-$PG_VERSION-timescaledb,redis-server"

die() { echo "timescaledb_chroot: $*" >&2; exit 1; }

# A clean environment inside the chroot: the host's locale or PATH may not exist there. Servers started from here
# must not inherit the lock (fd 9), or they would hold it for as long as they run.
in_chroot() { chroot "$DIR" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@" 9>&-; }

is_mounted() { mountpoint -q "$1"; }

# Whether the pid in pid file $1 runs from this chroot: after a reboot the number may belong to anything else.
ours() { local pid; pid=$(cat "$1" 2>/dev/null) && [[ "$(readlink "/proc/$pid/root" 2>/dev/null)" == "$DIR" ]]; }

# Mount points at or below $1, deepest first, so they can be unmounted in order.
mounts_below() { awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r; }

unmount_below() { local m; for m in $(mounts_below "$1"); do umount -l "$m"; done; }

ensure() {
    [[ -x "$DIR/usr/lib/postgresql/$PG_VERSION/bin/postgres" ]] && return 0
    [[ -e "$DIR" ]] && die "$DIR exists but holds no PostgreSQL $PG_VERSION; move it away or remove it"
    command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
    local partial="$DIR.partial"
    # A run that was interrupted may have left mounts inside the half-made chroot; never delete through them.
    unmount_below "$partial"
    rm -rf --one-file-system "$partial"
    echo "timescaledb_chroot: creating $DIR (Debian $SUITE, PostgreSQL $PG_VERSION, TimescaleDB, Redis; ~40 s)" >&2
    # C.UTF-8 so the cluster the postgresql package creates is UTF8, not SQL_ASCII.
    LANG=C.UTF-8 LC_ALL=C.UTF-8 debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$partial" "$MIRROR" \
        > "$partial.log" 2>&1 || { tail -n 30 "$partial.log" >&2; die "debootstrap failed (log: $partial.log)"; }
    unmount_below "$partial"
    # The rename is the commit point: a chroot at $DIR is always complete.
    mv "$partial" "$DIR"
    mv "$partial.log" "$DIR/var/log/ioc-debootstrap.log"
}

mount_proc() {
    is_mounted "$DIR/proc" || mount -t proc proc "$DIR/proc"
    # POSIX dynamic shared memory (PostgreSQL's default; parallel queries use it) needs a tmpfs at /dev/shm, and
    # without one the server does not start. A private tmpfs rather than a bind of the host's keeps the two apart.
    mkdir -p "$DIR/dev/shm"
    is_mounted "$DIR/dev/shm" || mount -t tmpfs -o mode=1777,nosuid,nodev shm "$DIR/dev/shm"
}

configure_postgres() {
    local port=$1 etc="$DIR/etc/postgresql/$PG_VERSION/main"
    [[ -d "$etc" ]] || in_chroot pg_createcluster --locale=C.UTF-8 "$PG_VERSION" main >/dev/null
    # pg_lsclusters and pg_ctlcluster read the port from postgresql.conf itself; conf.d repeats it for readers.
    sed -i -E "s/^#?port = [0-9]+/port = $port/" "$etc/postgresql.conf"
    mkdir -p "$etc/conf.d"
    cat > "$etc/conf.d/ioc.conf" <<EOF
# Written by infra/timescaledb_chroot.sh on every start; edit that script, not this file.
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
listen_addresses = '127.0.0.1'
dynamic_shared_memory_type = posix
port = $port
max_connections = 200
# Sized for a 2-core / 24 GiB box running ingest benchmarks.
shared_buffers = 1GB
effective_cache_size = 8GB
maintenance_work_mem = 512MB
work_mem = 16MB
max_wal_size = 4GB
min_wal_size = 512MB
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
wal_compression = lz4  # far less CPU than the default pglz, on a box where CPU is what limits ingest
wal_buffers = 64MB
# Durability is part of the contract: a reading acknowledged from Redis is on disk.
synchronous_commit = on
timescaledb.max_background_workers = 8
max_worker_processes = 16
# Streaming replication to the development read replica (start-replica). PostgreSQL's own defaults, written out
# because the replica depends on them: a wal_level change needs a restart, which start_postgres does only then.
wal_level = replica
max_wal_senders = 10
EOF
    trust_loopback "$etc/pg_hba.conf"
}

# Development only: any local user may connect as anyone, and replicate. First, so they win over the package's rules.
trust_loopback() {
    local hba=$1 rule
    for rule in "host replication all 127.0.0.1/32 trust" "host all all 127.0.0.1/32 trust"; do
        grep -qxF "$rule" "$hba" || sed -i "1i $rule" "$hba"
    done
}

config_digest() { { cat "$1"/postgresql.conf "$1"/pg_hba.conf; cat "$1"/conf.d/*.conf 2>/dev/null || true; } | md5sum; }

postgres_running() { in_chroot pg_ctlcluster "$PG_VERSION" main status >/dev/null 2>&1; }

start_postgres() {
    local port=$1 etc="$DIR/etc/postgresql/$PG_VERSION/main" before after
    ensure
    mount_proc
    before=$(config_digest "$etc")
    configure_postgres "$port"
    after=$(config_digest "$etc")
    if ! postgres_running; then
        in_chroot pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
    elif [[ "$before" != "$after" ]]; then
        reload_or_restart main "$port"
    fi
}

# The server is shared by everyone's tests on this machine and a restart breaks their connections: a changed
# configuration is reloaded, and the server restarted only if a changed setting needs it (port, shared_buffers,
# wal_level: pg_settings.pending_restart). $2 is the port it is configured for.
reload_or_restart() {
    local cluster=$1 port=$2 loaded pending
    loaded=$(sql_at "$port" "SELECT pg_conf_load_time()")
    if [[ -z "$loaded" ]]; then
        # Not answering on the configured port: the port itself changed, which only a restart applies.
        echo "timescaledb_chroot: restarting $PG_VERSION/$cluster: its port changed to $port" >&2
        in_chroot pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$cluster" restart
        return
    fi
    in_chroot pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$cluster" reload
    # A reload is a signal, handled a moment later: wait (bounded, 10 s) until the server has read the files again.
    for _ in $(seq 100); do
        [[ "$(sql_at "$port" "SELECT pg_conf_load_time()")" != "$loaded" ]] && break
        sleep 0.1
    done
    pending=$(sql_at "$port" "SELECT string_agg(name, ', ') FROM pg_settings WHERE pending_restart")
    if [[ -n "$pending" ]]; then
        echo "timescaledb_chroot: restarting $PG_VERSION/$cluster: changed settings need it ($pending)" >&2
        in_chroot pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$cluster" restart
    fi
}

# One value from the server on port $1, or nothing if it does not answer.
sql_at() { in_chroot psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -XAtqc "$2" 2>/dev/null || true; }

replica_running() { in_chroot pg_ctlcluster "$PG_VERSION" replica status >/dev/null 2>&1; }

# A hot standby of the primary for the dashboard's reads in development. Its data directory is a copy, so it can
# always be made again from the primary (`rebuild`), e.g. after it was stopped so long the primary recycled the
# WAL it needed. No replication slot: a forgotten slot would keep WAL on the shared primary until its disk fills.
start_replica() {
    local primary_port=$1 port=$2 rebuild=${3:-}
    local etc="$DIR/etc/postgresql/$PG_VERSION/replica" data="/var/lib/postgresql/$PG_VERSION/replica"
    ensure
    mount_proc
    postgres_running || die "the primary ($PG_VERSION/main) is not running: run ioc services up first"
    if [[ -n "$rebuild" ]]; then
        stop_replica
        rm -f "$DIR$data/standby.signal"
    fi
    # A cluster of Debian's (pg_ctlcluster, pg_lsclusters know it), whose fresh data directory the base backup
    # replaces.
    [[ -d "$etc" ]] || in_chroot pg_createcluster --locale=C.UTF-8 -p "$port" "$PG_VERSION" replica >/dev/null
    if [[ ! -f "$DIR$data/standby.signal" ]]; then
        echo "timescaledb_chroot: base backup of $PG_VERSION/main (port $primary_port) for the replica on $port" >&2
        rm -rf --one-file-system "$DIR$data.partial"
        # -R writes primary_conninfo and standby.signal; -X stream carries the WAL written meanwhile. Into .partial
        # first: a directory at $data with standby.signal is always a complete backup.
        chroot --userspec=postgres:postgres "$DIR" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
            "/usr/lib/postgresql/$PG_VERSION/bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
            -D "$data.partial" -R -X stream -c fast 9>&-
        rm -rf --one-file-system "${DIR:?}$data"
        mv "$DIR$data.partial" "$DIR$data"
    fi
    local before after
    before=$(config_digest "$etc")
    configure_replica "$port"
    after=$(config_digest "$etc")
    if ! replica_running; then
        in_chroot pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" replica start
    elif [[ "$before" != "$after" ]]; then
        reload_or_restart replica "$port"
    fi
}

configure_replica() {
    local port=$1 etc="$DIR/etc/postgresql/$PG_VERSION/replica"
    sed -i -E "s/^#?port = [0-9]+/port = $port/" "$etc/postgresql.conf"
    mkdir -p "$etc/conf.d"
    # The primary's settings (a hot standby refuses to start with max_connections, max_worker_processes or
    # max_wal_senders below the primary's), on its own port, with a smaller cache: it serves a few dashboards.
    {
        echo "# Written by infra/timescaledb_chroot.sh (start-replica) on every start; edit that script, not this file."
        sed -E -e "s/^port = .*/port = $port/" -e "s/^shared_buffers = .*/shared_buffers = 256MB/" \
            -e "/^# Written by/d" "$DIR/etc/postgresql/$PG_VERSION/main/conf.d/ioc.conf"
        echo "hot_standby = on"
        # The primary keeps the rows a long dashboard query on the replica still reads, instead of cancelling it.
        echo "hot_standby_feedback = on"
    } > "$etc/conf.d/ioc.conf"
    trust_loopback "$etc/pg_hba.conf"
}

stop_replica() {
    if [[ -d "$DIR/proc/self" ]] && replica_running; then
        in_chroot pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" replica stop -m fast
    fi
}

start_redis() {
    local port=$1 password=${2:-}
    ensure
    mount_proc
    local pidfile="/var/lib/redis/ioc-$port.pid"
    ours "$DIR$pidfile" && return 0
    local args=(--port "$port" --bind 127.0.0.1 --appendonly yes --dir /var/lib/redis --daemonize yes
        --pidfile "$pidfile" --logfile "/var/log/redis/ioc-$port.log")
    [[ -n "$password" ]] && args+=(--requirepass "$password")
    chroot --userspec=redis:redis "$DIR" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 redis-server "${args[@]}" 9>&-
}

stop() {
    [[ -d "$DIR" ]] || return 0
    stop_replica
    if [[ -d "$DIR/proc/self" ]] && postgres_running; then
        in_chroot pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main stop -m fast
    fi
    local pidfile pid
    for pidfile in "$DIR"/var/lib/redis/ioc-*.pid; do
        [[ -f "$pidfile" ]] || continue
        if ours "$pidfile"; then
            pid=$(cat "$pidfile")
            # SIGTERM makes Redis flush its append-only file before it exits.
            kill -TERM "$pid"
            timeout 30 tail --pid="$pid" -f /dev/null || die "redis-server $pid did not stop within 30 s"
        fi
        rm -f "$pidfile"
    done
    unmount_below "$DIR"
}

status() {
    [[ -x "$DIR/usr/lib/postgresql/$PG_VERSION/bin/postgres" ]] || { echo "no chroot at $DIR"; return 0; }
    if [[ -d "$DIR/proc/self" ]]; then in_chroot pg_lsclusters; else echo "postgres: stopped (proc not mounted)"; fi
    local pidfile
    for pidfile in "$DIR"/var/lib/redis/ioc-*.pid; do
        ours "$pidfile" && echo "redis: running ($(basename "$pidfile"))"
    done
    return 0
}

[[ $# -ge 2 ]] || die "usage: $0 ensure|start-postgres|start-redis|start-replica|stop-replica|stop|status DIR [ARGS]"
[[ $(id -u) -eq 0 ]] || die "must run as root (chroot, mount)"
cmd=$1
DIR=$(realpath -m "$2")
shift 2
# One at a time per chroot: two `ioc services up` at once would otherwise both debootstrap or both start servers.
# debootstrap inherits the lock, so even one orphaned by a killed caller keeps a new run from deleting under it.
mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock -w 1800 9 || die "another run holds $DIR.lock for over 30 minutes"
case "$cmd" in
    ensure) ensure ;;
    start-postgres) start_postgres "$@" ;;
    start-redis) start_redis "$@" ;;
    start-replica) start_replica "$@" ;;
    stop-replica) stop_replica ;;
    stop) stop ;;
    status) status ;;
    *) die "unknown command $cmd" ;;
esac
