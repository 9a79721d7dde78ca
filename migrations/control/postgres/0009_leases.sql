-- Leases: a background job that should run once across the replicas (the overdue marks, the
-- billing rating, a module's loop) runs on the replica holding its lease. The holder renews it
-- well before expires_at; a replica that dies stops renewing and another takes the lease over
-- once it has expired. A plain row rather than an advisory lock, so that it works through
-- PgBouncer in transaction mode.
CREATE TABLE control.leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at bigint NOT NULL
);
