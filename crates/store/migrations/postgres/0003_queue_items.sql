-- The queue projection (issue 15): each person's work items as spans of days,
-- rewritten with every append that touches the person (projection.rs). Overdue and
-- the queue horizon are worked out when it is read.
CREATE TABLE queue_items (
    person_id    TEXT NOT NULL,
    establishment TEXT NOT NULL,
    ord          BIGINT NOT NULL,
    valid_from   TEXT,
    valid_until  TEXT,
    queue        TEXT NOT NULL,
    due          TEXT NOT NULL,
    has_deadline BOOLEAN NOT NULL,
    detail       TEXT NOT NULL,
    keyworker    TEXT,
    -- 0 when the person's offending is linked to their substance use (S4 §1), else 1:
    -- the second key of the queue's order.
    rank         BIGINT NOT NULL,
    PRIMARY KEY (person_id, ord)
);
-- A page of one establishment's queue in the queue's order (rank, due), with every
-- column the filter reads, so a page and the counts are read from the index alone
-- and the page stops after its rows.
CREATE INDEX queue_items_order ON queue_items(establishment, rank, due, person_id, ord, has_deadline, queue, valid_from, valid_until, keyworker);
