-- What replicas sharing one database need from it (issue 16), in Postgres: the same
-- tables as migrations/sqlite/0002_cluster.sql. Times are Unix milliseconds (UTC).

-- A search whose result pages are browsed with buttons; kept an hour. An identity is
-- never reused, so an old button cannot page someone else's later search.
CREATE TABLE searches (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at BIGINT NOT NULL,
    query TEXT NOT NULL,
    -- The Discord user id, as the i64 with the same bits.
    user_id BIGINT NOT NULL,
    ephemeral BIGINT NOT NULL
);
-- Expiry deletes a range of this index.
CREATE INDEX searches_created ON searches (created_at);

-- A lease on a cluster-wide job: held by `holder` until `expires_at` unless renewed.
-- A row with an expiry, not an advisory lock, so that a crashed holder's lease lapses.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    since_ms BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Each finished reindex, so that the other replicas reload the same generation.
CREATE TABLE reindexes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    announced_by TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);

-- Values every replica must share, by name.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
