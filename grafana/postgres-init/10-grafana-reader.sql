-- Grafana's read-only login (the PostgreSQL datasource in
-- grafana/provisioning/datasources/datasources.yml), so the dashboards never
-- hold the owner account the analytics service migrates and writes with.
-- docker-compose mounts this directory as /docker-entrypoint-initdb.d: the
-- postgres image runs it once, as socketscope, when it creates the database.
-- For a volume created before, run it by hand (docs/operations.md).
\set ON_ERROR_STOP on
\getenv reader_password GRAFANA_DB_PASSWORD
CREATE ROLE grafana_reader LOGIN PASSWORD :'reader_password';
-- Belt and braces: even a function with side effects runs read-only.
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE socketscope TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_reader;
-- Tables the service creates later (migrations, daily partitions) are readable too.
ALTER DEFAULT PRIVILEGES FOR ROLE socketscope IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
-- A dashboard query over a long time range must not hold a connection (and
-- PostgreSQL's CPU) indefinitely: Grafana's reader gives up after 30 s.
ALTER ROLE grafana_reader SET statement_timeout = '30s';
-- The client-report panels send long statements that run in milliseconds over
-- the rollups, but the planner prices them by every daily partition (their
-- bounds come from the rollup state, known only when they run), so past
-- jit_above_cost PostgreSQL would first compile them with LLVM: 9 s per panel
-- measured, against 0.4 s to run it (docs/benchmarks.md).
ALTER ROLE grafana_reader SET jit = off;
