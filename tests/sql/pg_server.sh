#!/bin/sh
# pg_server.sh start|stop DIR — a throwaway PostgreSQL server for the SQL
# source tests: a cluster in DIR/data, listening on a Unix socket in DIR
# and on no TCP port, trust authentication, superuser mlp (connect with
# "host=DIR dbname=postgres user=mlp"). The server binaries are Debian's
# (package postgresql, /usr/lib/postgresql/VERSION/bin). Run as root, the
# server runs as the unprivileged user postgres, as PostgreSQL requires.
# Exit status 77: the server cannot be started here, the reason on stderr.
set -eu
cmd=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "no initdb and pg_ctl under /usr/lib/postgresql/*/bin (package postgresql)" >&2
  exit 77
fi

# as_server CMD...: CMD as the user the server runs as.
as_server() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif [ -c /dev/null ]; then
    runuser -u postgres -- "$@"
  else
    # Where /dev/null is no device (some containers), initdb cannot write
    # to it as another user: a private mount puts a sink file there.
    : > "$dir/null"
    chmod 666 "$dir/null"
    unshare -m sh -c 'mount --bind "$1" /dev/null && shift && exec runuser -u postgres -- "$@"' \
      sh "$dir/null" "$@"
  fi
}

if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres > "$dir/id.log" 2>&1; then
    echo "running as root, and there is no user postgres to run the server as" >&2
    exit 77
  fi
  chown postgres "$dir"
fi

case $cmd in
start)
  if ! as_server "$bin/initdb" -D "$dir/data" -A trust -U mlp -E UTF8 --no-sync > "$dir/initdb.log" 2>&1; then
    echo "initdb failed:" >&2
    tail -n 5 "$dir/initdb.log" >&2
    exit 77
  fi
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-k $dir -c listen_addresses= -c fsync=off" start > "$dir/pg_ctl.log" 2>&1 || {
    echo "the server did not start:" >&2
    tail -n 5 "$dir/server.log" >&2
    exit 77
  }
  ;;
stop)
  as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop > "$dir/pg_ctl.log" 2>&1
  ;;
*)
  echo "usage: pg_server.sh start|stop DIR" >&2
  exit 2
  ;;
esac
