#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the test run (the PostgreSQL test tier) and prints, as the
# LAST line of stdout, its admin URL: postgres://cc_csat:PASSWORD@127.0.0.1:PORT/postgres
# Everything else goes to stderr. A server that cannot be had fails the script (exit 1): CI must
# fail, not skip. The server is left running (the CI machine is thrown away); the data dir is
# printed on stderr so it can be stopped by hand: pg_ctl -D DIR stop (as the postgres user when root).
#
# Server binaries: `pg_config --bindir` when it holds initdb, else the newest
# /usr/lib/postgresql/*/bin with initdb; as root with apt-get, Debian's postgresql package is
# installed when neither has one. PostgreSQL refuses to run as root: as root the server runs as
# the `postgres` system user. Settings are for speed on a test machine (fsync off and the like),
# listening on 127.0.0.1 only, on a free port, with the unix socket inside the data dir.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
die() { echo "postgres.sh: ERROR: $*" >&2; exit 1; }

find_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    # Debian's pg_config (libpq-dev) can name a bindir whose server package is not installed.
    dir=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  fi
  dir=$(for d in /usr/lib/postgresql/*/bin; do
          [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && echo "$d"
        done | sort -V | tail -n 1)
  [ -n "$dir" ] || return 1
  echo "$dir"
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "no PostgreSQL server binaries found: installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends postgresql >&2; then
      log "apt-get install failed: refreshing the package lists and trying again"
      apt-get update >&2 || true
      apt-get install -y --no-install-recommends postgresql >&2 || true
    fi
    bindir=$(find_bindir || true)
  fi
fi
[ -n "$bindir" ] || die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: not via pg_config --bindir, not in /usr/lib/postgresql/*/bin, and none could be installed (install Debian's postgresql package)"
log "server binaries: $bindir ($("$bindir/postgres" --version))"

# Who runs the server: PostgreSQL refuses to run as root.
if [ "$(id -u)" -eq 0 ]; then
  pg_user=postgres
  if ! id -u "$pg_user" >/dev/null 2>&1; then
    command -v useradd >/dev/null 2>&1 || die "running as root, but there is no '$pg_user' user to run PostgreSQL as (and no useradd to create one)"
    log "creating the '$pg_user' system user to run PostgreSQL as"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user" >&2
  fi
  if command -v runuser >/dev/null 2>&1; then
    as_pg() { runuser -u "$pg_user" -- "$@"; }
  else
    # shellcheck disable=SC2016 # the inner sh expands "$0" "$@": the command and its arguments
    as_pg() { su -s /bin/sh -c 'exec "$0" "$@"' -- "$pg_user" "$@"; }
  fi
else
  pg_user=$(id -un)
  as_pg() { "$@"; }
fi

# A fresh temp dir owned by the server's user: the data dir, its unix socket, the log.
tmp_root=${TMPDIR:-/tmp}
tmp=$(mktemp -d "$tmp_root/cc-csat-pg.XXXXXX")
if [ "$(id -u)" -eq 0 ]; then
  chown "$pg_user:" "$tmp"
  if ! as_pg test -w "$tmp"; then
    # e.g. TMPDIR under /root, which the postgres user cannot reach
    log "$tmp is out of reach of the '$pg_user' user: using /tmp instead"
    rmdir "$tmp"
    tmp=$(mktemp -d /tmp/cc-csat-pg.XXXXXX)
    chown "$pg_user:" "$tmp"
  fi
fi
data="$tmp/data"
logfile="$tmp/postgres.log"

user=cc_csat
password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
[ ${#password} -eq 32 ] || die "could not make a random password"
pwfile="$tmp/pwfile"
(umask 077 && printf '%s\n' "$password" >"$pwfile")
[ "$(id -u)" -ne 0 ] || chown "$pg_user:" "$pwfile"

log "initdb: $data (superuser $user)"
if ! as_pg "$bindir/initdb" -D "$data" -U "$user" --pwfile="$pwfile" --auth=scram-sha-256 \
     -E UTF8 --locale=C --no-instructions >"$tmp/initdb.log" 2>&1; then
  cat "$tmp/initdb.log" >&2
  die "initdb failed (output above)"
fi
rm -f "$pwfile"

free_port() {
  if command -v node >/dev/null 2>&1; then
    node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  else
    return 1
  fi
}

conf="$data/postgresql.conf"
cp "$conf" "$tmp/postgresql.conf.initdb"
started=
for attempt in 1 2 3; do
  port=$(free_port) || die "cannot pick a free port: neither node nor python3 is on PATH"
  [[ "$port" =~ ^[0-9]+$ ]] || die "cannot pick a free port (got '$port')"
  # The settings go into postgresql.conf itself, so a plain `pg_ctl -D DIR start` brings the same server back.
  cp "$tmp/postgresql.conf.initdb" "$conf"
  cat >>"$conf" <<EOF

# --- cc-csat test server (.ci/postgres.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  log "starting PostgreSQL on 127.0.0.1:$port (log: $logfile)"
  if as_pg "$bindir/pg_ctl" -D "$data" -l "$logfile" -w -t 60 start >&2; then
    started=1
    break
  fi
  log "start attempt $attempt failed; the server log ends:"
  tail -n 20 "$logfile" >&2 || true
  # a postmaster that lost a port race has exited; make sure nothing is left before retrying
  as_pg "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
done
[ -n "$started" ] || die "PostgreSQL did not start (log: $logfile)"

url="postgres://$user:$password@127.0.0.1:$port/postgres"
if command -v psql >/dev/null 2>&1; then
  version=$(psql "$url" -X -At -c 'select version()') || die "the server started but psql cannot connect to it (log: $logfile)"
  log "connected: $version"
else
  log "no psql on PATH: not verifying the connection (pg_ctl -w already waited for the server)"
fi

stop="$bindir/pg_ctl -D $data stop"
[ "$(id -u)" -ne 0 ] || stop="runuser -u $pg_user -- $stop"
log "PostgreSQL is running: data dir $data"
log "stop it with: $stop"
log "admin URL: postgres://$user:***@127.0.0.1:$port/postgres"
echo "$url"
