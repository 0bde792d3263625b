-- The append-only, hash-chained event log and its projections (PostgreSQL).
-- Instants are kept as canonical text so the hash chain is byte-identical to SQLite's.
CREATE TABLE events (
    seq            BIGINT PRIMARY KEY,
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

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % table is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The chain head: one row, locked by every append, so appends from any number of
-- app instances form one linear chain.
CREATE TABLE chain_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO chain_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE person_alias (
    person_id  TEXT PRIMARY KEY,
    canonical  TEXT NOT NULL
);
CREATE INDEX person_alias_canonical ON person_alias(canonical);

CREATE TABLE prison_numbers (
    prison_number TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL
);

CREATE TABLE case_index (
    person_id        TEXT PRIMARY KEY,
    prison_number    TEXT NOT NULL,
    family_name      TEXT NOT NULL,
    given_name       TEXT NOT NULL,
    date_of_birth    TEXT NOT NULL,
    establishment    TEXT NOT NULL,
    custody          TEXT NOT NULL,
    in_custody       BOOLEAN NOT NULL,
    open_referrals   BIGINT NOT NULL,
    assessment_due   TEXT,
    offending_linked BOOLEAN NOT NULL,
    last_seq         BIGINT NOT NULL
);
CREATE INDEX case_index_establishment ON case_index(establishment, family_name);
CREATE INDEX case_index_due ON case_index(establishment, assessment_due);

CREATE TABLE feed_records (
    feed       TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (feed, source_ref)
);

CREATE TABLE staff_accounts (
    username       TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    establishments TEXT NOT NULL,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    establishment TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);

CREATE TABLE access_audit (
    id         BIGSERIAL PRIMARY KEY,
    at         TEXT NOT NULL,
    username   TEXT NOT NULL,
    person_id  TEXT,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX access_audit_person ON access_audit(person_id, id);
CREATE TRIGGER access_audit_no_update BEFORE UPDATE ON access_audit FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_audit_no_delete BEFORE DELETE ON access_audit FOR EACH ROW EXECUTE FUNCTION refuse_change();
