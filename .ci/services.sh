#!/usr/bin/env bash
# Throw-away PostgreSQL and Redis on loopback ports for `make test`.
#
#   source .ci/services.sh
#   services_packages   # apt-get install what is missing (redis-server, postgresql, chromium, fonts)
#   services_start      # exports DATABASE_URL, CELERY_BROKER_URL, TEST_CELERY_BROKER_URL
#   services_stop       # stops both and removes their files (call it from a trap on EXIT)
#
# PostgreSQL refuses to run as root, so when we are root the cluster belongs to the
# `postgres` system user (or `nobody`) and its commands run through runuser.

SERVICES_DIR=""
SERVICES_PG_BIN=""
SERVICES_PG_USER=""

_services_log() { echo "services: $*" >&2; }

_pg_bin_find() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"; return
    fi
}

_free_port() {
    # First free loopback TCP port from $1 upwards.
    python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
for candidate in range(port, port + 200):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        print(candidate)
        break
else:
    sys.exit("no free port")
PY
}

services_packages() {
    local missing=()
    [ -n "$(_pg_bin_find)" ] || missing+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
    [ "${#missing[@]}" -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
            _services_log "missing ${missing[*]} and cannot install without root; install them and retry"
            return 1
        fi
    fi
    _services_log "installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        # The browser and fonts only serve the browser tests; PostgreSQL and Redis are required.
        _services_log "installing all of ${missing[*]} failed; retrying with the required ones"
        local required=()
        for pkg in "${missing[@]}"; do
            case "$pkg" in postgresql|redis-server) required+=("$pkg") ;; esac
        done
        [ "${#required[@]}" -eq 0 ] || $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${required[@]}" >/dev/null
    fi
}

_as_pg_user() {
    if [ -n "$SERVICES_PG_USER" ]; then
        (cd / && runuser -u "$SERVICES_PG_USER" -- "$@")
    else
        "$@"
    fi
}

services_start() {
    SERVICES_PG_BIN="$(_pg_bin_find)"
    [ -n "$SERVICES_PG_BIN" ] || { _services_log "no PostgreSQL server binaries found"; return 1; }
    command -v redis-server >/dev/null 2>&1 || { _services_log "redis-server not found"; return 1; }

    SERVICES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/crm-test-services.XXXXXX")"
    chmod 755 "$SERVICES_DIR"
    local pgdata="$SERVICES_DIR/pg"
    mkdir -p "$pgdata"
    if [ "$(id -u)" -eq 0 ]; then
        if id postgres >/dev/null 2>&1; then SERVICES_PG_USER=postgres; else SERVICES_PG_USER=nobody; fi
        chown "$SERVICES_PG_USER" "$pgdata"
    fi
    chmod 700 "$pgdata"

    local pg_port redis_port
    pg_port="$(_free_port "${TEST_PG_PORT:-54329}")"
    _as_pg_user "$SERVICES_PG_BIN/initdb" -D "$pgdata" -U crm --auth=trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$SERVICES_DIR/initdb.log" 2>&1 \
        || { cat "$SERVICES_DIR/initdb.log" >&2; return 1; }
    # Durability is pointless for a throw-away test cluster; turning it off makes the suite faster.
    # The benchmark sets SERVICES_PG_DEFAULTS=1 and measures PostgreSQL's default settings: with
    # asynchronous commit VACUUM cannot mark freshly loaded pages all-visible, and the planner
    # then never reads orders through their covering index.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${SERVICES_PG_DEFAULTS:-0}" = "1" ]; then durability=""; fi
    _as_pg_user "$SERVICES_PG_BIN/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 \
        -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1 $durability -c max_connections=200" \
        start >/dev/null || { cat "$pgdata/server.log" >&2; return 1; }
    _as_pg_user "$SERVICES_PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U crm crm

    redis_port="$(_free_port "${TEST_REDIS_PORT:-63799}")"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
        --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log"
    local tries=0
    until python3 - "$redis_port" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
    s.sendall(b"PING\r\n")
    assert s.recv(16).startswith(b"+PONG")
PY
    do
        tries=$((tries + 1))
        [ "$tries" -lt 50 ] || { cat "$SERVICES_DIR/redis.log" >&2; return 1; }
        sleep 0.1
    done

    export DATABASE_URL="postgres://crm@127.0.0.1:$pg_port/crm"
    export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/0"
    export TEST_CELERY_BROKER_URL="$CELERY_BROKER_URL"
    export TEST_REDIS_URL="redis://127.0.0.1:$redis_port/1"
    _services_log "PostgreSQL $("$SERVICES_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
}

services_stop() {
    [ -n "$SERVICES_DIR" ] && [ -d "$SERVICES_DIR" ] || return 0
    if [ -f "$SERVICES_DIR/pg/postmaster.pid" ]; then
        _as_pg_user "$SERVICES_PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if [ -f "$SERVICES_DIR/redis.pid" ]; then
        kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$SERVICES_DIR"
    SERVICES_DIR=""
}
