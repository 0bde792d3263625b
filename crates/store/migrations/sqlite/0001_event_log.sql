-- The append-only, hash-chained event log and its projections.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    person_id      TEXT,
    establishment  TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    occurred_at    TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    appended_at    TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    supersedes     TEXT,
    reason         TEXT,
    payload        TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX events_person ON events(person_id, seq);

-- Nothing is ever updated or deleted in the log.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

-- Projection: which person record each person id now belongs to (merges).
CREATE TABLE person_alias (
    person_id  TEXT PRIMARY KEY,
    canonical  TEXT NOT NULL
);
CREATE INDEX person_alias_canonical ON person_alias(canonical);

-- Projection: prison numbers to person records (merged numbers included).
CREATE TABLE prison_numbers (
    prison_number TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL
);

-- Projection: one row per person for lists and work queues.
CREATE TABLE case_index (
    person_id        TEXT PRIMARY KEY,
    prison_number    TEXT NOT NULL,
    family_name      TEXT NOT NULL,
    given_name       TEXT NOT NULL,
    date_of_birth    TEXT NOT NULL,
    establishment    TEXT NOT NULL,
    custody          TEXT NOT NULL,
    in_custody       INTEGER NOT NULL,
    open_referrals   INTEGER NOT NULL,
    assessment_due   TEXT,
    offending_linked INTEGER NOT NULL,
    last_seq         INTEGER NOT NULL
);
CREATE INDEX case_index_establishment ON case_index(establishment, family_name);
CREATE INDEX case_index_due ON case_index(establishment, assessment_due);

-- Feeds: the source's own record identifiers already applied (dedupe re-deliveries).
CREATE TABLE feed_records (
    feed       TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (feed, source_ref)
);

-- Staff accounts (configuration, not clinical content).
CREATE TABLE staff_accounts (
    username       TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    establishments TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL
);

-- Signed-in sessions (token stored hashed).
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    establishment TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);

-- Who saw which person's record, when (REQUIREMENTS §17). Append-only.
CREATE TABLE access_audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    username   TEXT NOT NULL,
    person_id  TEXT,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE TRIGGER access_audit_no_update BEFORE UPDATE ON access_audit
BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;
CREATE TRIGGER access_audit_no_delete BEFORE DELETE ON access_audit
BEGIN SELECT RAISE(ABORT, 'the access audit is append-only'); END;
