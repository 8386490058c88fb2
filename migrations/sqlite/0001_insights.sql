-- Questions asked and the feedback on their answers (issue 15). Times are Unix
-- milliseconds (UTC). Ids (`questions.id`, `votes.question_id`) are answer ids: the
-- time the answer was made in milliseconds, shifted left 16 bits, plus a counter, so
-- that a window of time is a range of the primary key.

CREATE TABLE questions (
    id INTEGER PRIMARY KEY,
    asked_at INTEGER NOT NULL,
    -- "ask" (Discord's /ask) or "cli" (`spacecollab ask --record`).
    command TEXT NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER,
    -- The asker as a salted SHA-256 hash (hex), never a user id or name.
    asker TEXT,
    -- NULL when `store_question_text = false`.
    question TEXT,
    -- The question's sorted distinct analysed terms, to count rephrasings as one.
    terms_key TEXT NOT NULL,
    answered INTEGER NOT NULL,
    suggestion TEXT,
    latency_us INTEGER NOT NULL
);

-- The passages shown, best first.
CREATE TABLE question_hits (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    section TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (question_id, rank)
) WITHOUT ROWID;

-- One vote per voter per answer; voting again replaces it. No foreign key: a vote may
-- arrive before the question's record is written, which goes through a queue.
CREATE TABLE votes (
    question_id INTEGER NOT NULL,
    voter TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    -- "What was wrong?", given with a down vote.
    note TEXT,
    voted_at INTEGER NOT NULL,
    PRIMARY KEY (question_id, voter)
) WITHOUT ROWID;

-- /insights counts: each figure is one range of this index.
CREATE INDEX questions_window ON questions (answered, id);
-- /insights unanswered groups: read in terms order from the index alone, so grouping
-- needs no sort (over 1,000,000 questions, about 3 times faster than sorting a window).
CREATE INDEX questions_unanswered_terms ON questions (answered, terms_key, id);
-- /forget-me.
CREATE INDEX questions_asker ON questions (asker) WHERE asker IS NOT NULL;
CREATE INDEX votes_voter ON votes (voter);
-- Documents never shown: one lookup per document.
CREATE INDEX question_hits_doc ON question_hits (doc_id);
