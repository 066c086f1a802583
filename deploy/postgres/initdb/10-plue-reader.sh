#!/usr/bin/env bash
# Creates the read-only role plue_reader on the stack database's first start: the official
# postgres image runs /docker-entrypoint-initdb.d/*.sh once, on an empty data directory.
# plue-mcp's database and workflows tools, Grafana's PostgreSQL data source and
# postgres-exporter all log in as this role; its password is PLUE_READER_PASSWORD from
# deploy/.env. deploy/test.sh runs this very script against a real PostgreSQL.
set -euo pipefail
: "${PLUE_READER_PASSWORD:?set PLUE_READER_PASSWORD in deploy/.env}"
psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-plue}" \
  -v reader_password="$PLUE_READER_PASSWORD" -v db="${POSTGRES_DB:-plue}" <<'SQL'
SELECT format('CREATE ROLE plue_reader LOGIN PASSWORD %L', :'reader_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'plue_reader') \gexec
GRANT CONNECT ON DATABASE :"db" TO plue_reader;
GRANT pg_read_all_data TO plue_reader;
GRANT pg_monitor TO plue_reader;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE TEMPORARY ON DATABASE :"db" FROM PUBLIC;
SQL
