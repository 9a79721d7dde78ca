-- What a replica changed that other replicas may hold in memory (a tenant suspended, a session
-- ended, an API token revoked, an identity's roles changed): each replica reads the rows of the
-- last seconds every half second and drops those entries from its caches, so a change reaches
-- every replica within about a second instead of the caches' time to live. Rows older than ten
-- minutes are deleted as they are read.
CREATE TABLE control.cache_invalidations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL,
    key  text NOT NULL,
    at   bigint NOT NULL
);
CREATE INDEX cache_invalidations_at ON control.cache_invalidations (at);
