#!/bin/sh
# postgres.Dockerfile's entry point: what the official image's does with the
# variables deploy/compose.cluster.yaml sets. On the first start (PGDATA
# empty): initdb with POSTGRES_USER (default postgres) as the superuser whose
# password is POSTGRES_PASSWORD (required), local socket logins trusted,
# network logins by scram-sha-256 from any address, listening on every
# address; then the database POSTGRES_DB (default: the user's name). Then the
# command (`postgres`; arguments alone are given to postgres).
set -eu
case "${1:-}" in
    -*) set -- postgres "$@" ;;
esac
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "postgres-entrypoint: POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    user=${POSTGRES_USER:-postgres}
    database=${POSTGRES_DB:-$user}
    # The password goes through a file only this user reads, never argv.
    umask 077
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --encoding=UTF8 \
        --auth-local=trust --auth-host=scram-sha-256
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    if [ "$database" != postgres ]; then
        quoted=$(printf '%s' "$database" | sed 's/"/""/g')
        echo "CREATE DATABASE \"$quoted\"" | postgres --single -D "$PGDATA" postgres >/dev/null
    fi
    echo "postgres-entrypoint: made the cluster, user '$user', database '$database'"
fi
exec "$@"
