#!/usr/bin/env bash
# Runs CMD… beside a throwaway PostgreSQL cluster (Debian's `postgresql` package; installs
# nothing): initdb in a temp dir, listening on 127.0.0.1 at a free port, run as the
# `postgres` user when we are root. Exports PWA_BILLING_TEST_DATABASE_URL (a superuser URL
# of the `postgres` database; each test creates its own database), runs CMD, and always
# stops the cluster and removes the dir. Exits with CMD's status.
#   scripts/with-postgres.sh cargo test -p pwa-billing-server
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/with-postgres.sh CMD [ARGS...]" >&2; exit 2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: PostgreSQL is not installed (scripts/install-tools.sh postgres, or apt-get install -y postgresql)" >&2
  exit 1
fi

if [ "$(id -u)" = 0 ]; then
  user=postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  user=$(id -un)
  as_pg() { "$@"; }
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/pwa-billing-pg.XXXXXX")
[ "$user" = postgres ] && [ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

as_pg "$bindir/initdb" -D "$dir/data" -A trust -U "$user" -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }

# A free port: try random ones until nothing answers there and the server starts.
started=
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 30000))
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
  if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null; then
    started=1
    break
  fi
done
[ -n "$started" ] || { echo "with-postgres: PostgreSQL did not start" >&2; cat "$dir/server.log" >&2 || true; exit 1; }

export PWA_BILLING_TEST_DATABASE_URL="postgres://$user@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
set +e
"$@"
status=$?
set -e
exit $status
