-- Questions asked and the feedback on their answers (issue 15), in Postgres: the same
-- schema as migrations/sqlite/0001_insights.sql, in Postgres types. Times are Unix
-- milliseconds (UTC). Ids (`questions.id`, `votes.question_id`) are answer ids: the
-- time the answer was made in milliseconds, shifted left 16 bits, plus a counter, so
-- that a window of time is a range of the primary key. Flags are 0 or 1 in a BIGINT,
-- as in SQLite, so that both read back as the same integer.

CREATE TABLE questions (
    id BIGINT PRIMARY KEY,
    asked_at BIGINT NOT NULL,
    -- "ask" (Discord's /ask) or "cli" (`spacecollab ask --record`).
    command TEXT NOT NULL,
    guild_id BIGINT,
    channel_id BIGINT,
    -- The asker as a salted SHA-256 hash (hex), never a user id or name.
    asker TEXT,
    -- NULL when `store_question_text = false`.
    question TEXT,
    -- The question's sorted distinct analysed terms, to count rephrasings as one.
    terms_key TEXT NOT NULL,
    answered BIGINT NOT NULL,
    suggestion TEXT,
    latency_us BIGINT NOT NULL
);

-- The passages shown, best first.
CREATE TABLE question_hits (
    question_id BIGINT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    rank BIGINT NOT NULL,
    doc_id TEXT NOT NULL,
    section TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (question_id, rank)
);

-- One vote per voter per answer; voting again replaces it. No foreign key: a vote may
-- arrive before the question's record is written, which goes through a queue.
CREATE TABLE votes (
    question_id BIGINT NOT NULL,
    voter TEXT NOT NULL,
    vote BIGINT NOT NULL CHECK (vote IN (-1, 1)),
    -- "What was wrong?", given with a down vote.
    note TEXT,
    voted_at BIGINT NOT NULL,
    PRIMARY KEY (question_id, voter)
);

-- /insights counts: each figure is one range of this index.
CREATE INDEX questions_window ON questions (answered, id);
-- /insights unanswered groups: read in terms order from the index alone.
CREATE INDEX questions_unanswered_terms ON questions (answered, terms_key, id);
-- /forget-me.
CREATE INDEX questions_asker ON questions (asker) WHERE asker IS NOT NULL;
CREATE INDEX votes_voter ON votes (voter);
-- Documents never shown: one lookup per document.
CREATE INDEX question_hits_doc ON question_hits (doc_id);
