#!/bin/sh
# Entrypoint of the edoburu/pgbouncer:v1.24.1-p1 stand-in, written from the behaviour of
# edoburu/docker-pgbouncer entrypoint.sh at that tag: an empty auth file when none exists
# (lines 15-17), a config generated from DATABASE_URL and a few settings only when
# /etc/pgbouncer/pgbouncer.ini is absent (lines 89-199), then exec of the command (line 202).
# The stack always uploads its own config, so only the common variables are handled here.
set -e

config_dir=/etc/pgbouncer
config="$config_dir/pgbouncer.ini"
auth_file="${AUTH_FILE:-$config_dir/userlist.txt}"

[ -e "$auth_file" ] || touch "$auth_file"

if [ ! -f "$config" ]; then
  echo "Creating pgbouncer config in $config_dir"
  db_host="${DB_HOST:-}"; db_port="${DB_PORT:-5432}"; db_user="${DB_USER:-}"; db_name="${DB_NAME:-}"; db_password="${DB_PASSWORD:-}"
  if [ -n "${DATABASE_URL:-}" ]; then
    rest="${DATABASE_URL#*://}"
    userinfo="${rest%@*}"; [ "$userinfo" = "$rest" ] && userinfo=""
    hostpart="${rest#*@}"; hostport="${hostpart%%/*}"
    db_name="${hostpart#*/}"; [ "$db_name" = "$hostpart" ] && db_name=""
    db_user="${userinfo%%:*}"; case "$userinfo" in *:*) db_password="${userinfo#*:}" ;; esac
    db_host="${hostport%%:*}"; case "$hostport" in *:*) db_port="${hostport#*:}" ;; esac
  fi
  if [ -n "$db_user" ] && [ -n "$db_password" ] && ! grep -q "^\"$db_user\"" "$auth_file"; then
    case "${AUTH_TYPE:-md5}" in
      plain|scram-sha-256) pass="$db_password" ;;
      *) pass="md5$(printf '%s%s' "$db_password" "$db_user" | md5sum | cut -d' ' -f1)" ;;
    esac
    echo "\"$db_user\" \"$pass\"" >> "$auth_file"
    echo "Wrote authentication credentials for '$db_user' to $auth_file"
  fi
  : "${db_host:?Setup pgbouncer config error! You must set DB_HOST env}"
  {
    echo "[databases]"
    echo "${db_name:-*} = host=$db_host port=$db_port auth_user=${db_user:-postgres}"
    echo "[pgbouncer]"
    echo "listen_addr = ${LISTEN_ADDR:-0.0.0.0}"
    echo "listen_port = ${LISTEN_PORT:-5432}"
    echo "unix_socket_dir = ${UNIX_SOCKET_DIR:-}"
    echo "user = postgres"
    echo "auth_file = $auth_file"
    echo "auth_type = ${AUTH_TYPE:-md5}"
    [ -n "${POOL_MODE:-}" ] && echo "pool_mode = $POOL_MODE"
    [ -n "${MAX_CLIENT_CONN:-}" ] && echo "max_client_conn = $MAX_CLIENT_CONN"
    [ -n "${DEFAULT_POOL_SIZE:-}" ] && echo "default_pool_size = $DEFAULT_POOL_SIZE"
    [ -n "${MAX_PREPARED_STATEMENTS:-}" ] && echo "max_prepared_statements = $MAX_PREPARED_STATEMENTS"
    echo "ignore_startup_parameters = ${IGNORE_STARTUP_PARAMETERS:-extra_float_digits}"
    echo "admin_users = ${ADMIN_USERS:-postgres}"
    [ -n "${STATS_USERS:-}" ] && echo "stats_users = $STATS_USERS"
    true
  } > "$config"
  cat "$config"
fi

echo "Starting $*..."
exec "$@"
