//! The stored form of an event, shared by every backend: each column as text (the
//! hash chain covers exactly these strings), conversion to and from domain events,
//! and the chain computation.

use crate::model::StoreError;
use chrono::{DateTime, Utc};
use throughcare_domain::chain::{ChainFields, event_hash};
use throughcare_domain::events::{EventKind, NewEvent, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::record_ids::{EventId, PersonId};
use throughcare_domain::time::{canonical_instant, parse_instant};

/// The columns of the `events` table, in order, for SELECT and INSERT.
pub(crate) const EVENT_COLUMNS: &str = "seq, id, person_id, establishment, event_type, occurred_at, recorded_at, appended_at, recorded_by, supersedes, reason, payload, prev_hash, hash";

/// One row of the `events` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventRow {
    pub(crate) seq: i64,
    pub(crate) id: String,
    pub(crate) person: Option<String>,
    pub(crate) establishment: String,
    pub(crate) event_type: String,
    pub(crate) occurred_at: String,
    pub(crate) recorded_at: String,
    pub(crate) appended_at: String,
    pub(crate) recorded_by: String,
    pub(crate) supersedes: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) payload: String,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
}

impl EventRow {
    /// The row for a new event appended after `prev_hash` at position `seq`.
    pub(crate) fn new(
        n: &NewEvent,
        seq: i64,
        prev_hash: &str,
        appended_at: DateTime<Utc>,
    ) -> EventRow {
        let mut row = EventRow {
            seq,
            id: n.id.to_string(),
            person: n.person.map(|p| p.to_string()),
            establishment: n.establishment.to_string(),
            event_type: n.kind.type_name().to_string(),
            occurred_at: canonical_instant(n.occurred_at),
            recorded_at: canonical_instant(n.recorded_at.unwrap_or(appended_at)),
            appended_at: canonical_instant(appended_at),
            recorded_by: n.recorded_by.to_string(),
            supersedes: n.supersedes.map(|s| s.to_string()),
            reason: n.reason.clone(),
            payload: n.kind.payload_json(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        row.hash = event_hash(prev_hash, &row.chain_fields());
        row
    }

    /// The fields the chain hashes.
    pub(crate) fn chain_fields(&self) -> ChainFields<'_> {
        ChainFields {
            seq: self.seq,
            id: &self.id,
            person: self.person.as_deref(),
            establishment: &self.establishment,
            event_type: &self.event_type,
            occurred_at: &self.occurred_at,
            recorded_at: &self.recorded_at,
            appended_at: &self.appended_at,
            recorded_by: &self.recorded_by,
            supersedes: self.supersedes.as_deref(),
            reason: self.reason.as_deref(),
            payload: &self.payload,
        }
    }

    /// The domain event this row holds.
    pub(crate) fn to_event(&self) -> Result<RecordedEvent, StoreError> {
        let seq = self.seq;
        let bad = |what: &str| StoreError::Corrupt(format!("event {seq}: {what}"));
        Ok(RecordedEvent {
            seq,
            id: EventId::parse(&self.id).ok_or_else(|| bad("id"))?,
            person: match &self.person {
                Some(p) => Some(PersonId::parse(p).ok_or_else(|| bad("person"))?),
                None => None,
            },
            establishment: EstablishmentCode::parse(&self.establishment)
                .map_err(|_| bad("establishment"))?,
            occurred_at: parse_instant(&self.occurred_at).ok_or_else(|| bad("occurred_at"))?,
            recorded_at: parse_instant(&self.recorded_at).ok_or_else(|| bad("recorded_at"))?,
            appended_at: parse_instant(&self.appended_at).ok_or_else(|| bad("appended_at"))?,
            recorded_by: StaffUsername::parse(&self.recorded_by).map_err(|_| bad("recorded_by"))?,
            supersedes: match &self.supersedes {
                Some(s) => Some(EventId::parse(s).ok_or_else(|| bad("supersedes"))?),
                None => None,
            },
            reason: self.reason.clone(),
            kind: EventKind::from_parts(&self.event_type, &self.payload)
                .map_err(|e| bad(&format!("payload: {e}")))?,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        })
    }
}

/// The case index's columns, in the order both stores read them.
pub(crate) const CASE_COLUMNS: &str = "person_id, prison_number, family_name, given_name, date_of_birth, establishment, custody, in_custody, open_referrals, assessment_due, offending_linked, last_seq";

/// [`CASE_COLUMNS`] of the case index joined as `c` (the queue's query).
pub(crate) fn prefixed_case_columns() -> String {
    CASE_COLUMNS
        .split(", ")
        .map(|c| format!("c.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The filter of a queue read, with `p(n)` writing the backend's placeholder for
/// parameter `n`: 1 establishment, 2 day, 3 horizon instant, 4 queue code or "",
/// 5 keyworker or "". The same test as `work_queues::items_on` (in force on the
/// day; within the horizon, or a first-night clock, or a waiting list).
fn queue_filter(p: fn(usize) -> String) -> String {
    format!(
        "q.establishment = {} \
         AND (q.valid_from IS NULL OR q.valid_from <= {d}) \
         AND (q.valid_until IS NULL OR {d} < q.valid_until) \
         AND (NOT q.has_deadline OR q.due <= {} OR q.queue = 'first_night') \
         AND ({q} = '' OR q.queue = {q}) \
         AND ({k} = '' OR q.keyworker = {k})",
        p(1),
        p(3),
        d = p(2),
        q = p(4),
        k = p(5),
    )
}

/// One part of a page of the queue, in the order of the index (rank, due, person,
/// item): the overdue items (`overdue`) or the rest. Parameters as
/// [`queue_filter`], then 6 the instant (for overdue), 7 the limit, 8 the offset.
/// The inner query reads the index alone and stops after the page; the case index
/// is joined for the page's rows only. Columns: the case index's, then queue, due,
/// has_deadline, detail, keyworker.
pub(crate) fn queue_part_sql(p: fn(usize) -> String, overdue: bool) -> String {
    let late = format!("q.has_deadline AND q.due <= {}", p(6));
    format!(
        "SELECT {}, q.queue, q.due, q.has_deadline, q.detail, q.keyworker \
         FROM (SELECT q.person_id, q.ord, q.rank, q.due, q.queue, q.has_deadline, q.detail, q.keyworker \
               FROM queue_items q WHERE {} AND {} \
               ORDER BY q.rank, q.due, q.person_id, q.ord LIMIT {} OFFSET {}) q \
         JOIN case_index c ON c.person_id = q.person_id \
         ORDER BY q.rank, q.due, q.person_id, q.ord",
        prefixed_case_columns(),
        queue_filter(p),
        if overdue {
            late
        } else {
            format!("NOT ({late})")
        },
        p(7),
        p(8),
    )
}

/// The two parts of a page `offset..offset + limit` of a queue whose first
/// `overdue` rows are overdue: (overdue part?, limit, offset) for each part read.
pub(crate) fn queue_parts(
    overdue: usize,
    offset: usize,
    limit: usize,
) -> Vec<(bool, usize, usize)> {
    let mut parts = Vec::new();
    let first = overdue.saturating_sub(offset).min(limit);
    if first > 0 {
        parts.push((true, first, offset));
    }
    if limit > first {
        parts.push((false, limit - first, offset.saturating_sub(overdue)));
    }
    parts
}

/// Every queue's count under the filter (parameter 4 given as ""): queue, items,
/// overdue; parameter 6 the instant.
pub(crate) fn queue_counts_sql(p: fn(usize) -> String) -> String {
    format!(
        "SELECT q.queue, COUNT(*), SUM(CASE WHEN q.has_deadline AND q.due <= {} THEN 1 ELSE 0 END) \
         FROM queue_items q WHERE {} GROUP BY q.queue",
        p(6),
        queue_filter(p),
    )
}

/// The per-queue counts read by [`queue_counts_sql`] (queue code, items, overdue),
/// in the order of the queues, with the total and the overdue items of the queue
/// asked about (or of all): what both stores answer and page by.
pub(crate) fn tally_counts(
    raw: impl IntoIterator<Item = (String, i64, i64)>,
    queue: Option<throughcare_domain::work_queues::QueueKind>,
) -> (Vec<crate::model::QueueCount>, usize, usize) {
    use throughcare_domain::work_queues::QueueKind;
    let mut counts: Vec<crate::model::QueueCount> = raw
        .into_iter()
        .filter_map(|(code, items, overdue)| {
            Some(crate::model::QueueCount {
                queue: QueueKind::from_code(&code)?,
                items: usize::try_from(items).unwrap_or(0),
                overdue: usize::try_from(overdue).unwrap_or(0),
            })
        })
        .collect();
    counts.sort_by_key(|c| QueueKind::ALL.iter().position(|k| *k == c.queue));
    let asked = counts.iter().filter(|c| queue.is_none_or(|q| q == c.queue));
    let (total, overdue) = asked.fold((0, 0), |(t, o), c| (t + c.items, o + c.overdue));
    (counts, total, overdue)
}
