#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for the test suite and the benchmarks.
#
#   scripts/postgres.sh start DIR   initializes DIR, starts the server on a free port with TLS, prints its URL
#   scripts/postgres.sh stop DIR    stops it and deletes DIR
#   scripts/postgres.sh run CMD...  runs CMD with CHARTER_TEST_POSTGRES_URL set to a server started for it
#                                   (and CHARTER_TEST_POSTGRES_CA to the CA that signed its certificate)
#
# The server runs from Debian's postgresql package (installed by install-deps.sh). It accepts only
# password (SCRAM) logins on 127.0.0.1, and offers TLS with a certificate for localhost signed by a
# throwaway CA, written to DIR/ca.pem so sslmode=verify-full can be tested.
set -euo pipefail

command=${1:?usage: postgres.sh start|stop DIR, or postgres.sh run CMD...}
if [ "$command" = run ]; then
    shift
    dir=$(mktemp -d /tmp/charter-postgres.XXXXXX)
    trap '"$0" stop "$dir"' EXIT
    CHARTER_TEST_POSTGRES_URL=$("$0" start "$dir")
    CHARTER_TEST_POSTGRES_CA=$dir/ca.pem
    export CHARTER_TEST_POSTGRES_URL CHARTER_TEST_POSTGRES_CA
    "$@"
    exit
fi
dir=${2:?usage: postgres.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed: run scripts/install-deps.sh postgres" >&2; exit 1; }

# PostgreSQL refuses to run as root; run it as the postgres user the package created.
as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
start)
    rm -rf "$dir"
    mkdir -p "$dir"
    password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" >"$dir/password"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Charter test CA" \
            -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile san.ext -out server.pem 2>/dev/null
        chmod 600 server.key
    )
    [ "$(id -u)" -ne 0 ] || chown -R postgres "$dir"
    as_server "$bin/initdb" -D "$dir/data" -U charter --pwfile="$dir/password" --auth=scram-sha-256 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
ssl = on
ssl_cert_file = '$dir/server.pem'
ssl_key_file = '$dir/server.key'
CONF
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    PGPASSWORD=$password "$bin/createdb" -h 127.0.0.1 -p "$port" -U charter charter
    echo "postgres://charter:$password@127.0.0.1:$port/charter"
    ;;
stop)
    if [ -d "$dir/data" ]; then as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true; fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
