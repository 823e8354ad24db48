#!/usr/bin/env bash
# Entrypoint of the postgres:16.4-bookworm stand-in, written from the behaviour of
# docker-library/postgres 16/bookworm/docker-entrypoint.sh (commit c9906f922d): the environment
# variables it reads, root -> postgres step-down, first-start initialisation, pg_hba line, a
# socket-only temporary server for setup, then exec of the command. Not a copy: init scripts run
# in name order (*.sh sourced or executed, *.sql through psql), nothing else.
set -Eeo pipefail

# VAR or VAR_FILE (exclusive); the value is exported and VAR_FILE unset, so after the step-down to
# postgres the file is not read again (upstream lines 9-25).
from_env_or_file() {
	local var="$1" file_var="$1_FILE" default="${2:-}" value
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		echo "error: both $var and $file_var are set (but are exclusive)" >&2
		exit 1
	fi
	value="$default"
	if [ -n "${!var:-}" ]; then value="${!var}"; elif [ -n "${!file_var:-}" ]; then value="$(< "${!file_var}")"; fi
	export "$var"="$value"
	unset "$file_var"
}

sql() {
	psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER" "$@"
}

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

wants_help=
for arg; do case "$arg" in -'?'|--help|--describe-config|-V|--version) wants_help=1 ;; esac; done

if [ "$1" = postgres ] && [ -z "$wants_help" ]; then
	from_env_or_file POSTGRES_PASSWORD
	from_env_or_file POSTGRES_USER postgres
	from_env_or_file POSTGRES_DB "$POSTGRES_USER"
	from_env_or_file POSTGRES_INITDB_ARGS
	mkdir -p "$PGDATA"; chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :; chmod 03775 /var/run/postgresql || :
	if [ "$(id -u)" = 0 ]; then
		find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
		exec gosu postgres "$BASH_SOURCE" "$@"
	fi

	if [ -s "$PGDATA/PG_VERSION" ]; then
		echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
	else
		if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
			echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
			echo '       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust.' >&2
			exit 1
		fi
		ls /docker-entrypoint-initdb.d/ > /dev/null
		eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
		# Host connections authenticate with POSTGRES_HOST_AUTH_METHOD, else with the server's
		# password_encryption (upstream lines 241-259).
		shift_args=("${@:2}")
		method="${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "${shift_args[@]}")}"
		printf '\nhost all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"

		export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
		PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "${shift_args[@]}" -c listen_addresses='' -p "${PGPORT:-5432}")" -w start
		exists="$(POSTGRES_DB= sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
			SELECT 1 FROM pg_database WHERE datname = :'db' ;
		EOSQL
		)"
		if [ -z "$exists" ]; then
			POSTGRES_DB= sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
				CREATE DATABASE :"db" ;
			EOSQL
		fi
		for f in /docker-entrypoint-initdb.d/*; do
			case "$f" in
				*.sh) if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
				*.sql) sql --dbname "$POSTGRES_DB" -f "$f" ;;
				*) ;;
			esac
		done
		PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
		unset PGPASSWORD
		echo 'PostgreSQL init process complete; ready for start up.'
	fi
fi

exec "$@"
