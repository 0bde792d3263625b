-- The queue projection (issue 15): each person's work items as spans of days,
-- rewritten with every append that touches the person (projection.rs). Overdue and
-- the queue horizon are worked out when it is read.
CREATE TABLE queue_items (
    person_id    TEXT NOT NULL,
    establishment TEXT NOT NULL,
    ord          INTEGER NOT NULL,
    valid_from   TEXT,
    valid_until  TEXT,
    queue        TEXT NOT NULL,
    due          TEXT NOT NULL,
    has_deadline INTEGER NOT NULL,
    detail       TEXT NOT NULL,
    keyworker    TEXT,
    PRIMARY KEY (person_id, ord)
);
-- A page of one establishment's queue: its rows by queue, then by due.
CREATE INDEX queue_items_establishment ON queue_items(establishment, queue, due);
