-- Idempotency keys of API writes (IETF idempotency-key draft): one row per
-- (user, key); the response is kept so a retry gets the original answer.
CREATE TABLE idempotency_keys (
    scope        TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status       INTEGER,
    response     TEXT,
    created_at   TEXT NOT NULL
);
