-- Placement of tenants across PostgreSQL clusters (tenants/clusters.go, tenants/move.go). Each
-- tenant's schema lives on one cluster, named here; the names map to connection URLs in the
-- configuration (CITYOPS_CLUSTERS, secrets stay out of the database), "main" being the cluster
-- of the control plane itself. write_freeze, when not empty, says why the tenant's writes are
-- paused (a move in progress): the gate refuses writes with 503 and Retry-After, reads go on.
ALTER TABLE control.tenants ADD COLUMN cluster text NOT NULL DEFAULT 'main';
ALTER TABLE control.tenants ADD COLUMN write_freeze text NOT NULL DEFAULT '';
CREATE INDEX tenants_cluster ON control.tenants (cluster) WHERE status <> 'deleted';

-- A move in progress, one per tenant: where from, where to and the last step done, so that a
-- move interrupted by a crash is resumed (or rolled back) by running the command again.
CREATE TABLE control.tenant_moves (
    tenant_id    uuid PRIMARY KEY REFERENCES control.tenants (id),
    from_cluster text NOT NULL,
    to_cluster   text NOT NULL,
    step         text NOT NULL,
    started_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
