-- What replicas sharing one database need from it (issue 16): saved searches, so that
-- a paging button works on any replica and after a restart; leases, so that one
-- reindex runs at a time; reindex announcements, so that the others follow; and
-- settings, such as the askers' salt, that every replica must agree on. Times are
-- Unix milliseconds (UTC). Postgres has the same tables in migrations/postgres/.

-- A search whose result pages are browsed with buttons; kept an hour.
-- AUTOINCREMENT: an id is never reused, so an old button cannot page someone else's
-- later search.
CREATE TABLE searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    query TEXT NOT NULL,
    -- The Discord user id, as the i64 with the same bits.
    user_id INTEGER NOT NULL,
    ephemeral INTEGER NOT NULL
);
-- Expiry deletes a range of this index.
CREATE INDEX searches_created ON searches (created_at);

-- A lease on a cluster-wide job: held by `holder` until `expires_at` unless renewed.
-- A row with an expiry, not a session lock, so that a crashed holder's lease lapses.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    since_ms INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Each finished reindex, so that the other replicas reload the same generation.
CREATE TABLE reindexes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    announced_by TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);

-- Values every replica must share, by name.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
