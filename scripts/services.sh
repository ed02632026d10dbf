#!/usr/bin/env bash
# Test services for the otel-adapters workspace (DESIGN.md section 5).
#
#   scripts/services.sh up      install what is missing, start everything, print status
#   scripts/services.sh status  print status, exit non-zero if any service is down
#   scripts/services.sh down    stop the services this script started
#   scripts/services.sh up|status|down SERVICE...   only those services (e.g. `up jaeger`)
#
# Services, all on loopback:
#   postgres  127.0.0.1:5432   postgres://postgres@127.0.0.1:5432/test   (trust auth)
#   mariadb   127.0.0.1:3306   mysql://root@127.0.0.1:3306/test          (empty root password)
#   redis     127.0.0.1:6379   redis://127.0.0.1:6379/                   (no persistence)
#   redis-cluster  127.0.0.1:7000-7002  three Redis Cluster masters, no replicas (no persistence;
#                              REDIS_CLUSTER_URLS=redis://127.0.0.1:7000,redis://127.0.0.1:7001,...)
#   ferretdb  127.0.0.1:27017  mongodb://127.0.0.1:27017/                (MongoDB protocol, SQLite handler)
#   jaeger    127.0.0.1:16686  Jaeger v2 query API + UI; OTLP in on 127.0.0.1:4317 (gRPC) and
#                              127.0.0.1:4318 (HTTP); in-memory storage (scripts/jaeger/config.yaml)
#
# State, data and logs live under ${OTEL_SERVICES_DIR:-$HOME/.cache/otel-adapters/services}.
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS user; if that user
# cannot reach the state dir (e.g. it is under /root, mode 700), its cluster lives under the
# postgres user's home and the state dir holds a symlink `postgres` to it.
#
# Every step is idempotent: `up` on running services only checks them. Missing Debian packages
# are installed with apt-get (root or sudo needed); FerretDB and Jaeger are built from the Go
# tools modules in scripts/ferretdb/ and scripts/jaeger/ into $HOME/.cache/otel-adapters/bin,
# only when missing (Jaeger's cold build takes several minutes on 2 cores).
#
# Knobs: OTEL_SERVICES_DIR (state dir), OTEL_SERVICES_WAIT (seconds to wait per service, 30).
set -Eeuo pipefail

# Report unexpected command failures (expected ones end in `return 1` and are reported by name).
on_err() {
    local rc=$? line=$1 cmd=$2
    case $cmd in
    return* | exit* | "("*) ;;
    *) echo "services.sh: line $line: command failed (exit $rc): $cmd" >&2 ;;
    esac
}
trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="$HOME/.cache/otel-adapters"
STATE_DIR="${OTEL_SERVICES_DIR:-$CACHE_DIR/services}"
BIN_DIR="$CACHE_DIR/bin"
WAIT_SECS="${OTEL_SERVICES_WAIT:-30}"
HOST=127.0.0.1

PG_PORT=5432
MY_PORT=3306
REDIS_PORT=6379
MONGO_PORT=27017

JAEGER_QUERY_PORT=16686
JAEGER_OTLP_GRPC_PORT=4317
JAEGER_OTLP_HTTP_PORT=4318
JAEGER_HEALTH_PORT=13133

REDIS_CLUSTER_PORTS=(7000 7001 7002)

ALL_SERVICES=(postgres mariadb redis redis-cluster ferretdb jaeger)
SERVICES=("${ALL_SERVICES[@]}")
declare -A PORTS=([postgres]=$PG_PORT [mariadb]=$MY_PORT [redis]=$REDIS_PORT [redis-cluster]=${REDIS_CLUSTER_PORTS[0]} [ferretdb]=$MONGO_PORT [jaeger]=$JAEGER_QUERY_PORT)

for d in /usr/local/go/bin "$HOME/go/bin" /usr/local/sbin /usr/sbin /sbin; do
    if [[ -d $d && ":$PATH:" != *":$d:"* ]]; then PATH="$PATH:$d"; fi
done
export PATH

# Keep client tools away from user config that could change what they connect to.
unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGSSLMODE MYSQL_HOST MYSQL_TCP_PORT MYSQL_PWD REDISCLI_AUTH

log() { echo "services.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

IS_ROOT=0
if [[ $(id -u) -eq 0 ]]; then IS_ROOT=1; fi

as_root() {
    if [[ $IS_ROOT -eq 1 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# ---------------------------------------------------------------------------------------------
# small helpers

# tcp_open PORT: something accepts TCP connections on $HOST:PORT.
tcp_open() {
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

# pid_alive PIDFILE PATTERN: print the pid in PIDFILE if that process is alive (not a zombie)
# and its command line contains PATTERN.
pid_alive() {
    local file=$1 pattern=$2 pid state
    [[ -s $file ]] || return 1
    pid=$(head -n 1 "$file" 2>/dev/null | tr -dc '0-9') || return 1
    [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $state != Z ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
    echo "$pid"
}

# stop_pid PID NAME: SIGTERM, wait (bounded), then SIGKILL.
stop_pid() {
    local pid=$1 name=$2 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < WAIT_SECS * 5; i++)); do
        if [[ ! -e /proc/$pid ]] || [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then
            return 0
        fi
        sleep 0.2
    done
    log "$name (pid $pid) did not stop after ${WAIT_SECS}s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# wait_for NAME CHECK_FUNCTION [PIDFILE PATTERN]: poll CHECK_FUNCTION for up to WAIT_SECS;
# give up early if the process behind PIDFILE died.
wait_for() {
    local name=$1 check=$2 pidfile=${3:-} pattern=${4:-} deadline
    deadline=$((SECONDS + WAIT_SECS))
    while ((SECONDS < deadline)); do
        if "$check"; then return 0; fi
        if [[ -n $pidfile ]] && ! pid_alive "$pidfile" "$pattern" >/dev/null; then
            # the pid file may not be written yet right after start: allow a short grace period
            if ((SECONDS > deadline - WAIT_SECS + 5)); then
                log "$name: process exited"
                return 1
            fi
        fi
        sleep 0.5
    done
    "$check"
}

# keep_log_small FILE: start a new log when the old one passed 20 MiB (one old copy is kept).
keep_log_small() {
    local f=$1
    if [[ -f $f ]] && (($(stat -c %s "$f") > 20 * 1024 * 1024)); then mv -f "$f" "$f.old"; fi
}

print_line() { printf '%-13s  %-4s  %s%s\n' "$1" "$2" "$3" "${4:-}"; }

# ---------------------------------------------------------------------------------------------
# installation

APT_UPDATED=0
apt_install() {
    ((${#@})) || return 0
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; please install: $*"
    log "installing Debian packages: $*"
    # Debian packages try to start their own daemon on install; keep them from doing so (it would
    # take our ports). A policy-rc.d that exits 101 is the documented way; only add one if absent.
    local policy=/usr/sbin/policy-rc.d created=0
    if [[ ! -e $policy ]]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        created=1
    fi
    local rc=0 apt_log="$STATE_DIR/apt.log"
    {
        if [[ $APT_UPDATED -eq 0 ]]; then
            as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
            APT_UPDATED=1
        fi
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
    } >"$apt_log" 2>&1 || rc=$?
    if [[ $created -eq 1 ]]; then as_root rm -f "$policy"; fi
    if [[ $rc -ne 0 ]]; then
        tail -n 40 "$apt_log" | sed 's/^/  [apt] /' >&2
        die "apt-get install $* failed (exit $rc); full log: $apt_log"
    fi
    log "installed: $* (log: $apt_log)"
}

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
    [[ -n $d && -x $d/postgres && -x $d/initdb && -x $d/pg_ctl && -x $d/psql ]] || return 1
    echo "$d"
}

mariadbd_bin() {
    local b
    for b in mariadbd mysqld; do
        if command -v "$b" >/dev/null 2>&1; then
            command -v "$b"
            return 0
        fi
    done
    return 1
}

install_missing() {
    local pkgs=()
    pg_bindir >/dev/null || pkgs+=(postgresql postgresql-client)
    if ! mariadbd_bin >/dev/null || ! command -v mariadb-install-db >/dev/null 2>&1; then
        pkgs+=(mariadb-server)
    fi
    if ! command -v mariadb >/dev/null 2>&1 || ! command -v mariadb-admin >/dev/null 2>&1; then
        pkgs+=(mariadb-client)
    fi
    command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || pkgs+=(redis-tools)
    # protoc (and the well-known .proto files) for the gRPC crate's build script
    command -v protoc >/dev/null 2>&1 || pkgs+=(protobuf-compiler)
    [[ -e /usr/include/google/protobuf/timestamp.proto ]] || pkgs+=(libprotobuf-dev)
    apt_install "${pkgs[@]}"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

PG_BIN=""
PG_BASE=""
PG_DATA=""
PG_LOG=""

pg_init_vars() {
    PG_BIN=$(pg_bindir) || PG_BIN=""
    PG_BASE="$STATE_DIR/postgres"
    if [[ $IS_ROOT -eq 1 ]] && id postgres >/dev/null 2>&1 &&
        ! (cd / && runuser -u postgres -- test -x "$STATE_DIR") 2>/dev/null; then
        # The postgres user cannot reach the state dir: keep the cluster in its home instead.
        local home
        home=$(getent passwd postgres | cut -d: -f6)
        [[ -n $home && -d $home ]] || home=/var/lib/postgresql
        PG_BASE="$home/otel-adapters-$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)"
    fi
    PG_DATA="$PG_BASE/data"
    PG_LOG="$PG_BASE/postgres.log"
}

# run a PostgreSQL server tool as the cluster owner
as_pg() {
    if [[ $IS_ROOT -eq 1 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

pg_psql() { # pg_psql DB SQL
    PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" "postgres://postgres@$HOST:$PG_PORT/$1" -X -Atq -v ON_ERROR_STOP=1 -c "$2"
}

pg_check() {
    [[ -n $PG_BIN ]] || return 1
    [[ $(pg_psql test 'SELECT 1' 2>/dev/null) == 1 ]]
}

pg_ready() { [[ -n $PG_BIN ]] && "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2; }

pg_ensure_db() {
    if [[ -z $(pg_psql postgres "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]; then
        pg_psql postgres 'CREATE DATABASE test' || [[ -n $(pg_psql postgres "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]
    fi
}

pg_write_config() {
    local listen="$HOST" sockdir="$PG_BASE/run"
    if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then listen="$listen,::1"; fi
    # unix socket paths are limited to ~107 bytes
    if ((${#sockdir} > 90)); then sockdir=""; fi
    as_pg tee "$PG_DATA/otel-adapters.conf" >/dev/null <<EOF
# written by scripts/services.sh on every start; test cluster, durability not needed
listen_addresses = '$listen'
port = $PG_PORT
unix_socket_directories = '$sockdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<EOF
# written by scripts/services.sh: passwordless loopback access for tests
local all         all               trust
host  all         all  127.0.0.1/32 trust
host  all         all  ::1/128      trust
host  replication all  127.0.0.1/32 trust
host  replication all  ::1/128      trust
EOF
    if ! grep -q "^include_if_exists 'otel-adapters.conf'" "$PG_DATA/postgresql.conf"; then
        echo "include_if_exists 'otel-adapters.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    fi
}

# Something answers on 5432 that is not our cluster: reuse it if the test URL works without a
# password, stop it if it is a Debian cluster (pg_ctlcluster), otherwise give up.
pg_foreign() {
    if [[ $(pg_psql postgres 'SELECT 1' 2>/dev/null) == 1 ]]; then
        pg_ensure_db
        if pg_check; then
            log "postgres: reusing the server already listening on $HOST:$PG_PORT"
            return 0
        fi
    fi
    if command -v pg_lsclusters >/dev/null 2>&1; then
        local ver name
        while read -r ver name _; do
            log "postgres: stopping Debian cluster $ver/$name which holds port $PG_PORT"
            as_root pg_ctlcluster "$ver" "$name" stop -m fast || true
        done < <(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p && $4 ~ /online/')
        local i
        for ((i = 0; i < 20; i++)); do
            tcp_open "$PG_PORT" || return 2
            sleep 0.5
        done
    fi
    log "postgres: port $PG_PORT is taken by another server that does not accept postgres://postgres@$HOST:$PG_PORT/ without password"
    return 1
}

start_postgres() {
    pg_init_vars
    [[ -n $PG_BIN ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
    local version
    version=$(basename "$(dirname "$PG_BIN")")

    if pid_alive "$PG_DATA/postmaster.pid" postgres >/dev/null 2>&1; then
        wait_for postgres pg_ready "$PG_DATA/postmaster.pid" postgres
        pg_ensure_db
        pg_check
        return
    fi
    if tcp_open "$PG_PORT"; then
        local rc=0
        pg_foreign || rc=$?
        if [[ $rc -eq 0 ]]; then return 0; fi
        if [[ $rc -eq 1 ]]; then return 1; fi
    fi

    if [[ $IS_ROOT -eq 1 ]]; then
        mkdir -p "$PG_BASE"
        chown postgres:postgres "$PG_BASE"
        if [[ $PG_BASE != "$STATE_DIR/postgres" ]]; then
            # keep the data reachable from the state dir
            if [[ -d $STATE_DIR/postgres && ! -L $STATE_DIR/postgres ]]; then rm -rf "$STATE_DIR/postgres"; fi
            ln -sfn "$PG_BASE" "$STATE_DIR/postgres"
        fi
    else
        mkdir -p "$PG_BASE"
    fi
    as_pg mkdir -p "$PG_BASE/run"

    if [[ -f $PG_DATA/PG_VERSION && $(cat "$PG_DATA/PG_VERSION") != "$version" ]]; then
        log "postgres: data dir is from PostgreSQL $(cat "$PG_DATA/PG_VERSION"), server is $version: re-creating it"
        rm -rf "$PG_DATA"
    fi
    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
        rm -rf "$PG_DATA"
        log "postgres: initdb $PG_DATA (PostgreSQL $version)"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync \
            >"$PG_BASE/initdb.log" 2>&1 || {
            cat "$PG_BASE/initdb.log" >&2
            return 1
        }
    fi
    pg_write_config
    keep_log_small "$PG_LOG"
    # a stale lock file from a killed server would make the new one refuse to start
    rm -f "$PG_DATA/postmaster.pid"

    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -s -w -t "$WAIT_SECS" start 9>&- || return 1
    wait_for postgres pg_ready "$PG_DATA/postmaster.pid" postgres || return 1
    pg_ensure_db
    pg_check
}

stop_postgres() {
    pg_init_vars
    local pid
    if pid=$(pid_alive "$PG_DATA/postmaster.pid" postgres); then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -s -m fast -w -t "$WAIT_SECS" stop || stop_pid "$pid" postgres
    fi
}

reset_postgres() {
    stop_postgres
    rm -rf "$PG_DATA"
}

# ---------------------------------------------------------------------------------------------
# MariaDB

MY_DIR="$STATE_DIR/mariadb"
MY_DATA="$MY_DIR/data"
MY_SOCK="$MY_DIR/mysqld.sock"
MY_PID="$MY_DIR/mariadbd.pid"
MY_LOG="$MY_DIR/mariadb.log"

my_client() { mariadb --no-defaults --connect-timeout=3 "$@"; }

my_check() {
    command -v mariadb >/dev/null 2>&1 || return 1
    [[ $(my_client -h "$HOST" -P "$MY_PORT" --protocol=TCP -u root -D test -N -B -e 'SELECT 1' 2>/dev/null) == 1 ]]
}

my_socket_ready() { mariadb-admin --no-defaults --connect-timeout=2 --socket="$MY_SOCK" -u root ping >/dev/null 2>&1; }

my_bootstrap_sql() {
    # root with an empty password over TCP from loopback (skip-name-resolve: match by address)
    my_client --socket="$MY_SOCK" -u root <<'EOF'
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
CREATE USER IF NOT EXISTS 'root'@'::1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS test;
FLUSH PRIVILEGES;
EOF
}

my_foreign() {
    if my_check; then
        log "mariadb: reusing the server already listening on $HOST:$MY_PORT"
        return 0
    fi
    # Debian's own server (root via unix_socket auth): shut it down
    local sock
    for sock in /run/mysqld/mysqld.sock /var/run/mysqld/mysqld.sock; do
        if [[ -S $sock ]] && mariadb-admin --no-defaults --socket="$sock" -u root shutdown >/dev/null 2>&1; then
            log "mariadb: stopped the server at $sock which held port $MY_PORT"
            local i
            for ((i = 0; i < 40; i++)); do
                tcp_open "$MY_PORT" || return 2
                sleep 0.5
            done
        fi
    done
    log "mariadb: port $MY_PORT is taken by another server that does not accept root without password"
    return 1
}

start_mariadb() {
    local bin
    bin=$(mariadbd_bin) || die "mariadbd not found"
    mkdir -p "$MY_DIR"

    if pid_alive "$MY_PID" "$(basename "$bin")" >/dev/null 2>&1; then
        wait_for mariadb my_socket_ready "$MY_PID" "$(basename "$bin")"
        my_bootstrap_sql
        my_check
        return
    fi
    if tcp_open "$MY_PORT"; then
        local rc=0
        my_foreign || rc=$?
        if [[ $rc -eq 0 ]]; then return 0; fi
        if [[ $rc -eq 1 ]]; then return 1; fi
    fi

    local user_opt=()
    if [[ $IS_ROOT -eq 1 ]]; then user_opt=(--user=root); fi
    if [[ ! -d $MY_DATA/mysql ]]; then
        rm -rf "$MY_DATA"
        log "mariadb: mariadb-install-db --datadir=$MY_DATA"
        mariadb-install-db --no-defaults --datadir="$MY_DATA" "${user_opt[@]}" \
            --auth-root-authentication-method=normal --skip-test-db >"$MY_DIR/install-db.log" 2>&1 || {
            cat "$MY_DIR/install-db.log" >&2
            return 1
        }
    fi
    rm -f "$MY_PID" "$MY_SOCK"
    keep_log_small "$MY_LOG"
    setsid "$bin" --no-defaults "${user_opt[@]}" \
        --datadir="$MY_DATA" --socket="$MY_SOCK" --pid-file="$MY_PID" --log-error="$MY_LOG" \
        --bind-address="$HOST" --port="$MY_PORT" --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --max-connections=500 --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 \
        </dev/null >>"$MY_LOG" 2>&1 9>&- &
    wait_for mariadb my_socket_ready "$MY_PID" "$(basename "$bin")" || return 1
    my_bootstrap_sql
    wait_for mariadb my_check
}

stop_mariadb() {
    local bin pid
    bin=$(mariadbd_bin) || return 0
    if pid=$(pid_alive "$MY_PID" "$(basename "$bin")"); then
        stop_pid "$pid" mariadb
    fi
}

reset_mariadb() {
    stop_mariadb
    rm -rf "$MY_DATA"
}

# ---------------------------------------------------------------------------------------------
# Redis

REDIS_DIR="$STATE_DIR/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_check() {
    command -v redis-cli >/dev/null 2>&1 || return 1
    [[ $(timeout 5 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

start_redis() {
    mkdir -p "$REDIS_DIR"
    if pid_alive "$REDIS_PID" redis-server >/dev/null 2>&1; then
        wait_for redis redis_check "$REDIS_PID" redis-server
        return
    fi
    if tcp_open "$REDIS_PORT"; then
        if redis_check; then
            log "redis: reusing the server already listening on $HOST:$REDIS_PORT"
            return 0
        fi
        log "redis: port $REDIS_PORT is taken by something that does not answer PING"
        return 1
    fi
    launch_redis_server "$REDIS_PORT" "$REDIS_DIR" "$REDIS_PID" "$REDIS_LOG"
    wait_for redis redis_check "$REDIS_PID" redis-server
}

# launch_redis_server PORT DIR PIDFILE LOG [OPTION...]: a daemonized redis-server without
# persistence on $HOST:PORT.
launch_redis_server() {
    local port=$1 dir=$2 pidfile=$3 logfile=$4
    rm -f "$pidfile"
    keep_log_small "$logfile"
    redis-server --daemonize yes --bind "$HOST" --port "$port" "${@:5}" \
        --save '' --appendonly no --dir "$dir" \
        --pidfile "$pidfile" --logfile "$logfile" </dev/null >>"$logfile" 2>&1 9>&-
}

stop_redis() {
    local pid
    if pid=$(pid_alive "$REDIS_PID" redis-server); then
        stop_pid "$pid" redis
    fi
}

reset_redis() { stop_redis; }

# ---------------------------------------------------------------------------------------------
# Redis Cluster: one redis-server per port under $RC_DIR/PORT (nodes.conf, pid, log), joined
# once by `redis-cli --cluster create`; later restarts rejoin from nodes.conf.

RC_DIR="$STATE_DIR/redis-cluster"

rc_cli() { # rc_cli PORT ARGS...
    timeout 5 redis-cli -h "$HOST" -p "$1" "${@:2}" 2>/dev/null
}

# rc_info_field PORT FIELD: a field of CLUSTER INFO on one node.
rc_info_field() {
    rc_cli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"
}

rc_nodes_up() {
    command -v redis-cli >/dev/null 2>&1 || return 1
    local p
    for p in "${REDIS_CLUSTER_PORTS[@]}"; do
        [[ $(rc_cli "$p" ping) == PONG ]] || return 1
    done
}

# Every node answers, sees all the masters and says cluster_state:ok.
redis_cluster_check() {
    rc_nodes_up || return 1
    local p
    for p in "${REDIS_CLUSTER_PORTS[@]}"; do
        [[ $(rc_info_field "$p" cluster_state) == ok ]] || return 1
        [[ $(rc_info_field "$p" cluster_known_nodes) == "${#REDIS_CLUSTER_PORTS[@]}" ]] || return 1
    done
}

start_redis_cluster_node() {
    local port=$1 dir="$RC_DIR/$1"
    mkdir -p "$dir"
    if pid_alive "$dir/redis.pid" redis-server >/dev/null 2>&1; then return 0; fi
    if tcp_open "$port"; then
        if [[ -n $(rc_info_field "$port" cluster_state) ]]; then
            log "redis-cluster: reusing the cluster node already listening on $HOST:$port"
            return 0
        fi
        log "redis-cluster: port $port is taken by something that is not a Redis Cluster node"
        return 1
    fi
    launch_redis_server "$port" "$dir" "$dir/redis.pid" "$dir/redis.log" \
        --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
}

start_redis_cluster() {
    local p nodes=()
    for p in "${REDIS_CLUSTER_PORTS[@]}"; do
        start_redis_cluster_node "$p"
        nodes+=("$HOST:$p")
    done
    wait_for redis-cluster rc_nodes_up
    if redis_cluster_check; then return 0; fi
    # Fresh nodes (no slot assigned anywhere) are joined once; nodes that already know each
    # other (a restart from nodes.conf) only need time to agree.
    local assigned=0
    for p in "${REDIS_CLUSTER_PORTS[@]}"; do
        assigned=$((assigned + $(rc_info_field "$p" cluster_slots_assigned)))
    done
    if ((assigned == 0)); then
        log "redis-cluster: creating the cluster of ${nodes[*]}"
        timeout 60 redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
            >>"$RC_DIR/create.log" 2>&1 </dev/null
    fi
    # A cluster that does not agree is stopped, so that `up` wipes it and creates it afresh.
    wait_for redis-cluster redis_cluster_check || {
        stop_redis_cluster
        return 1
    }
}

stop_redis_cluster() {
    local p pid
    for p in "${REDIS_CLUSTER_PORTS[@]}"; do
        if pid=$(pid_alive "$RC_DIR/$p/redis.pid" redis-server); then
            stop_pid "$pid" "redis-cluster node $p"
        fi
    done
}

reset_redis_cluster() {
    stop_redis_cluster
    rm -rf "$RC_DIR"
}

# ---------------------------------------------------------------------------------------------
# FerretDB

FERRET_MOD="$SCRIPT_DIR/ferretdb"
FERRET_BIN="$BIN_DIR/ferretdb"
FERRET_STAMP="$BIN_DIR/ferretdb.stamp"
FERRET_DIR="$STATE_DIR/ferretdb"
FERRET_PID="$FERRET_DIR/ferretdb.pid"
FERRET_LOG="$FERRET_DIR/ferretdb.log"

ferret_stamp() { cat "$FERRET_MOD/go.mod" "$FERRET_MOD/go.sum" | sha256sum | cut -d' ' -f1; }

# Build FerretDB from the tools module when the binary is missing or was built from another
# go.mod/go.sum. FerretDB's cmd/ferretdb panics at start-up unless the generated file
# build/version/version.txt is embedded, and module zips do not carry it. So the tools module is
# copied to a scratch dir, vendored, given that file, and `go install tool` runs there with
# -mod=vendor; the binary is then moved into $BIN_DIR. GOCACHE/GOMODCACHE keep their defaults.
build_ferretdb() {
    if [[ -x $FERRET_BIN && -f $FERRET_STAMP && $(cat "$FERRET_STAMP") == "$(ferret_stamp)" ]]; then
        return 0
    fi
    command -v go >/dev/null 2>&1 || die "go not found (needed to build FerretDB)"
    local version build
    version=$(awk '$1 == "github.com/FerretDB/FerretDB" { print $2; exit }' "$FERRET_MOD/go.mod")
    [[ -n $version ]] || die "no github.com/FerretDB/FerretDB requirement in $FERRET_MOD/go.mod"
    log "ferretdb: building FerretDB $version (go install tool) into $BIN_DIR"
    mkdir -p "$BIN_DIR" "$CACHE_DIR"
    # a fixed path (we hold the lock) so that Go's build cache hits on a rebuild
    build="$CACHE_DIR/ferretdb-build"
    rm -rf "$build"
    mkdir -p "$build"
    cp "$FERRET_MOD/go.mod" "$FERRET_MOD/go.sum" "$build/"
    local rc=0
    (
        cd "$build" &&
            go mod vendor &&
            echo "$version" >vendor/github.com/FerretDB/FerretDB/build/version/version.txt &&
            GOBIN="$build/bin" GOFLAGS="-mod=vendor -buildvcs=false -trimpath" go install tool &&
            mv -f "$build/bin/ferretdb" "$FERRET_BIN" # a rename: fine even while the old one runs
    ) || rc=$?
    rm -rf "$build"
    [[ $rc -eq 0 ]] || die "building FerretDB failed (exit $rc)"
    "$FERRET_BIN" --version >/dev/null || die "the built $FERRET_BIN does not run"
    ferret_stamp >"$FERRET_STAMP"
}

# A real MongoDB wire-protocol round trip with bash only: OP_MSG {ping: 1, $db: "admin"},
# expect a reply containing ok: 1.0.
mongo_ping() {
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        # header: length 51, requestID 1, responseTo 0, opCode 2013; flags 0; section kind 0;
        # BSON document (30 bytes): {ping: int32 1, $db: "admin"}
        printf "\x33\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1e\x00\x00\x00\x10ping\x00\x01\x00\x00\x00\x02\$db\x00\x06\x00\x00\x00admin\x00\x00" >&3
        len=$(head -c 4 <&3 | od -An -tu4 --endian=little | tr -d " ")
        [[ -n $len ]] && ((len > 16 && len < 1048576)) || exit 1
        head -c $((len - 4)) <&3 | od -An -v -tx1 | tr -d "\n" | tr -s " " |
            grep -q "01 6f 6b 00 00 00 00 00 00 00 f0 3f"
    ' "$HOST" "$MONGO_PORT" 2>/dev/null
}

start_ferretdb() {
    build_ferretdb
    mkdir -p "$FERRET_DIR/data"
    if pid_alive "$FERRET_PID" ferretdb >/dev/null 2>&1; then
        wait_for ferretdb mongo_ping "$FERRET_PID" ferretdb
        return
    fi
    if tcp_open "$MONGO_PORT"; then
        if mongo_ping; then
            log "ferretdb: reusing the MongoDB-protocol server already listening on $HOST:$MONGO_PORT"
            return 0
        fi
        log "ferretdb: port $MONGO_PORT is taken by something that does not answer a MongoDB ping"
        return 1
    fi
    rm -f "$FERRET_PID"
    keep_log_small "$FERRET_LOG"
    # the wrapper shell records its pid and execs FerretDB, so the pid file names FerretDB itself
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$FERRET_PID" "$FERRET_BIN" \
        --handler=sqlite --sqlite-url="file:$FERRET_DIR/data/" --state-dir="$FERRET_DIR" \
        --listen-addr="$HOST:$MONGO_PORT" --debug-addr=- --telemetry=disable \
        --log-level=INFO --log-format=text \
        </dev/null >>"$FERRET_LOG" 2>&1 9>&- &
    wait_for ferretdb mongo_ping "$FERRET_PID" ferretdb
}

stop_ferretdb() {
    local pid
    if pid=$(pid_alive "$FERRET_PID" ferretdb); then
        stop_pid "$pid" ferretdb
    fi
}

reset_ferretdb() {
    stop_ferretdb
    rm -rf "$FERRET_DIR/data"
}

# ---------------------------------------------------------------------------------------------
# Jaeger v2 (OTLP in, in-memory storage, query API/UI), for the end-to-end trace test

JAEGER_MOD="$SCRIPT_DIR/jaeger"
JAEGER_CONFIG="$JAEGER_MOD/config.yaml"
JAEGER_BIN="$BIN_DIR/jaeger"
JAEGER_STAMP="$BIN_DIR/jaeger.stamp"
JAEGER_DIR="$STATE_DIR/jaeger"
JAEGER_PID="$JAEGER_DIR/jaeger.pid"
JAEGER_LOG="$JAEGER_DIR/jaeger.log"

jaeger_stamp() { cat "$JAEGER_MOD/go.mod" "$JAEGER_MOD/go.sum" | sha256sum | cut -d' ' -f1; }

# Build Jaeger (cmd/jaeger, the v2 binary) from the tools module when the binary is missing or
# was built from another go.mod/go.sum. Jaeger tags each release twice (v1.N and v2.M on one
# commit); the Go module path has no /v2, so go.mod requires the v1.N tag: v1.76.0 = v2.13.0.
# The UI's static assets are not part of the Go module: the binary serves the query API and a
# placeholder page (see README.md, "Sending traces to a backend").
build_jaeger() {
    if [[ -x $JAEGER_BIN && -f $JAEGER_STAMP && $(cat "$JAEGER_STAMP") == "$(jaeger_stamp)" ]]; then
        return 0
    fi
    command -v go >/dev/null 2>&1 || die "go not found (needed to build Jaeger)"
    local version build started=$SECONDS
    version=$(awk '$1 == "github.com/jaegertracing/jaeger" { print $2; exit }' "$JAEGER_MOD/go.mod")
    [[ -n $version ]] || die "no github.com/jaegertracing/jaeger requirement in $JAEGER_MOD/go.mod"
    log "jaeger: building Jaeger (module $version) with go install tool into $BIN_DIR; a cold build takes minutes"
    mkdir -p "$BIN_DIR" "$CACHE_DIR"
    build="$CACHE_DIR/jaeger-build"
    rm -rf "$build"
    local rc=0
    (
        cd "$JAEGER_MOD" &&
            GOBIN="$build/bin" GOFLAGS="-mod=readonly -buildvcs=false" go install \
                -ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=$version" tool &&
            mv -f "$build/bin/jaeger" "$JAEGER_BIN" # a rename: fine even while the old one runs
    ) || rc=$?
    rm -rf "$build"
    [[ $rc -eq 0 ]] || die "building Jaeger failed (exit $rc)"
    "$JAEGER_BIN" version >/dev/null 2>&1 || die "the built $JAEGER_BIN does not run"
    jaeger_stamp >"$JAEGER_STAMP"
    log "jaeger: built in $((SECONDS - started))s"
}

# http_ok PORT PATH: an HTTP/1.0 GET on $HOST:PORT answers 200 (bash only, no curl needed).
http_ok() {
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$2" "$0" "$1" >&3
        IFS= read -r status <&3 && [[ $status == "HTTP/1."[01]" 200"* ]]
    ' "$HOST" "$1" "$2" 2>/dev/null
}

# Jaeger is usable: the query API answers and both OTLP receivers accept connections.
jaeger_check() {
    http_ok "$JAEGER_QUERY_PORT" /api/services && tcp_open "$JAEGER_OTLP_GRPC_PORT" && tcp_open "$JAEGER_OTLP_HTTP_PORT"
}

start_jaeger() {
    build_jaeger
    mkdir -p "$JAEGER_DIR"
    if pid_alive "$JAEGER_PID" jaeger >/dev/null 2>&1; then
        wait_for jaeger jaeger_check "$JAEGER_PID" jaeger
        return
    fi
    local port
    for port in "$JAEGER_QUERY_PORT" "$JAEGER_OTLP_GRPC_PORT" "$JAEGER_OTLP_HTTP_PORT" "$JAEGER_HEALTH_PORT"; do
        if tcp_open "$port"; then
            if jaeger_check; then
                log "jaeger: reusing the Jaeger already listening on $HOST:$JAEGER_QUERY_PORT"
                return 0
            fi
            log "jaeger: port $port is taken by something that is not a Jaeger with OTLP receivers"
            return 1
        fi
    done
    rm -f "$JAEGER_PID"
    keep_log_small "$JAEGER_LOG"
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$JAEGER_PID" "$JAEGER_BIN" \
        --config "file:$JAEGER_CONFIG" </dev/null >>"$JAEGER_LOG" 2>&1 9>&- &
    wait_for jaeger jaeger_check "$JAEGER_PID" jaeger
}

stop_jaeger() {
    local pid
    if pid=$(pid_alive "$JAEGER_PID" jaeger); then
        stop_pid "$pid" jaeger
    fi
}

reset_jaeger() { stop_jaeger; } # storage is in memory: nothing to wipe

# ---------------------------------------------------------------------------------------------
# commands

addr_of() {
    case $1 in
    redis-cluster) echo "$HOST:${REDIS_CLUSTER_PORTS[0]}-${REDIS_CLUSTER_PORTS[-1]}" ;;
    *) echo "$HOST:${PORTS[$1]}" ;;
    esac
}

log_of() {
    case $1 in
    postgres)
        pg_init_vars
        echo "$PG_LOG"
        ;;
    mariadb) echo "$MY_LOG" ;;
    redis) echo "$REDIS_LOG" ;;
    redis-cluster) echo "$RC_DIR/${REDIS_CLUSTER_PORTS[0]}/redis.log" ;;
    ferretdb) echo "$FERRET_LOG" ;;
    jaeger) echo "$JAEGER_LOG" ;;
    esac
}

check_service() {
    case $1 in
    postgres)
        pg_init_vars
        pg_check
        ;;
    mariadb) my_check ;;
    redis) redis_check ;;
    redis-cluster) redis_cluster_check ;;
    ferretdb) mongo_ping ;;
    jaeger) jaeger_check ;;
    esac
}

lock_state() {
    mkdir -p "$STATE_DIR"
    exec 9>"$STATE_DIR/services.lock"
    # fd 9 is closed in every daemon started below, so the lock ends with this script
    flock -w 300 9 || die "could not lock $STATE_DIR/services.lock within 300s (another services.sh running?)"
}

cmd_status() {
    local s down=()
    for s in "${SERVICES[@]}"; do
        if check_service "$s"; then
            print_line "$s" up "$(addr_of "$s")"
        else
            print_line "$s" down "$(addr_of "$s")"
            down+=("$s")
        fi
    done
    if ((${#down[@]})); then
        log "down: ${down[*]} (start them with scripts/services.sh up)"
        exit 1
    fi
}

cmd_up() {
    lock_state
    install_missing
    local s rc failed=()
    for s in "${SERVICES[@]}"; do
        set +e
        (
            set -e
            "start_${s//-/_}"
        )
        rc=$?
        set -e
        # Test data is disposable: if a server of ours failed to start (and no other server
        # holds its port), wipe its data dir and try once more, e.g. after an unclean kill.
        if [[ $rc -ne 0 ]] && ! tcp_open "${PORTS[$s]}" && [[ $s != ferretdb || -x $FERRET_BIN ]] &&
            [[ $s != jaeger || -x $JAEGER_BIN ]]; then
            log "$s: failed to start; wiping its data and trying once more"
            set +e
            (
                set -e
                "reset_${s//-/_}"
                "start_${s//-/_}"
            )
            rc=$?
            set -e
        fi
        if [[ $rc -ne 0 ]] || ! check_service "$s"; then
            failed+=("$s")
        fi
    done
    for s in "${SERVICES[@]}"; do
        if [[ " ${failed[*]} " == *" $s "* ]]; then
            print_line "$s" down "$(addr_of "$s")"
        else
            print_line "$s" up "$(addr_of "$s")"
        fi
    done
    if ((${#failed[@]})); then
        for s in "${failed[@]}"; do
            local f
            f=$(log_of "$s")
            log "$s did not come up; last lines of $f:"
            if [[ -f $f ]]; then tail -n 30 "$f" | sed "s/^/  [$s] /" >&2; fi
        done
        die "services not up: ${failed[*]}"
    fi
}

cmd_down() {
    lock_state
    local s
    for s in "${SERVICES[@]}"; do
        "stop_${s//-/_}"
        if check_service "$s"; then
            # still answering: not started by this script (reused), leave it alone
            print_line "$s" up "$(addr_of "$s")" " (not started from $STATE_DIR, left running)"
        else
            print_line "$s" down "$(addr_of "$s")"
        fi
    done
}

usage() {
    sed -n '2,/^set -/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

# select_services NAME...: restrict the command to these services (default: all).
select_services() {
    (($#)) || return 0
    local s
    for s in "$@"; do
        [[ " ${ALL_SERVICES[*]} " == *" $s "* ]] || die "unknown service $s (known: ${ALL_SERVICES[*]})"
    done
    SERVICES=("$@")
}

case "${1:-}" in
up | status | down) select_services "${@:2}" ;;
esac

case "${1:-}" in
up) cmd_up ;;
status) cmd_status ;;
down) cmd_down ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
