-- Failed logins counted across the replicas (tenants/login_shared.go): one row per account
-- ("a:<email>") and per client address ("i:<address>"), holding what the login throttle keeps in
-- memory — failures not yet forgotten (n), when they were last reduced (at, ms) and the time
-- before which no attempt is checked (until, ms) — so that N replicas do not allow N times the
-- guesses. Only PostgreSQL uses it (SQLite is one process); idle rows are deleted after a day.
CREATE TABLE control.login_failures (
    key   text PRIMARY KEY,
    n     integer NOT NULL,
    at    bigint NOT NULL,
    until bigint NOT NULL
);
