-- Placement of tenants across PostgreSQL clusters (tenants/clusters.go, tenants/move.go). On
-- SQLite every tenant is a file under the data directory: the one cluster "main". The columns
-- and the table exist so that both dialects share the model; a move is refused on SQLite.
ALTER TABLE control.tenants ADD COLUMN cluster text NOT NULL DEFAULT 'main';
ALTER TABLE control.tenants ADD COLUMN write_freeze text NOT NULL DEFAULT '';

CREATE TABLE control.tenant_moves (
    tenant_id    text PRIMARY KEY REFERENCES tenants (id),
    from_cluster text NOT NULL,
    to_cluster   text NOT NULL,
    step         text NOT NULL,
    started_at   timestamp NOT NULL,
    updated_at   timestamp NOT NULL
);
