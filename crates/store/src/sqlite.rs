//! The SQLite backend: the embedded default for one prison on one machine.
//! WAL mode with `synchronous=FULL`; every append in `BEGIN IMMEDIATE`.

use crate::Store;
use crate::model::*;
use crate::portable::{
    self, AccessLine, AccountLine, ExportSummary, FeedLine, ImportSummary, Line, Record,
};
use crate::projection::{self, Projector};
use crate::rows::{
    CASE_COLUMNS, EVENT_COLUMNS, EventRow, queue_counts_sql, queue_part_sql, queue_parts,
    tally_counts,
};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::sync::Mutex;
use std::time::Duration;
use throughcare_domain::case::Case;
use throughcare_domain::chain::{ChainVerifier, GENESIS_HASH};
use throughcare_domain::events::{EventKind, NewEvent, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::time::{canonical_instant, local_date, parse_instant, to_log_precision};
use throughcare_domain::work_queues::horizon_end;
use uuid::Uuid;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_event_log.sql"),
    include_str!("../migrations/sqlite/0002_idempotency.sql"),
    include_str!("../migrations/sqlite/0003_queue_items.sql"),
];

/// The first schema version with the queue projection: a database made before it
/// has its projections rebuilt from the log when it is first opened.
const QUEUE_PROJECTION_VERSION: i64 = 3;

/// How many read-only connections serve reads beside the one that writes (WAL lets
/// readers run while a write commits): requests no longer wait for each other's
/// reads (issue 15).
const READERS: usize = 4;

/// The event log in one SQLite file.
pub struct SqliteStore {
    /// Read-only connections for the reads that requests make most (sessions,
    /// accounts, a person, the caseload, the queue); empty for a read-only store.
    /// Declared first so they close first: the writer, closing last, checkpoints
    /// the WAL into the file (a read-only connection cannot), so a copy of the
    /// closed file is whole.
    readers: Vec<Mutex<Connection>>,
    conn: Mutex<Connection>,
    next_reader: std::sync::atomic::AtomicUsize,
    projector: Projector,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies migrations.
    pub fn open(path: &str, profile: &Profile) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let before = migrate(&conn)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.busy_timeout(Duration::from_secs(10))?;
            readers.push(Mutex::new(r));
        }
        let store = SqliteStore {
            conn: Mutex::new(conn),
            readers,
            next_reader: std::sync::atomic::AtomicUsize::new(0),
            projector: Projector::new(profile),
        };
        if before > 0 && before < QUEUE_PROJECTION_VERSION {
            store.rebuild_projections()?;
        }
        Ok(store)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A connection for a read: a free read-only one if there is one, else the
    /// next in turn (or the writer, for a read-only store). Each statement reads the
    /// latest committed state.
    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        let n = self.readers.len();
        if n == 0 {
            return self.conn();
        }
        let start = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for i in 0..n {
            if let Ok(guard) = self.readers[(start + i) % n].try_lock() {
                return guard;
            }
        }
        self.readers[start % n]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Copies the live database to `dest` with SQLite's online backup (consistent
    /// while serving). The copy is one self-contained file (rollback journal, not
    /// WAL), so it can be moved, checked and opened read-only without side files.
    pub fn backup_to(&self, dest: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut out = Connection::open(dest)?;
        {
            let backup = rusqlite::backup::Backup::new(&conn, &mut out)?;
            backup.run_to_completion(256, Duration::from_millis(0), None)?;
        }
        drop(conn);
        out.pragma_update(None, "journal_mode", "DELETE")?;
        Ok(())
    }

    /// Opens an existing database file read-only (a backup copy to restore from, or
    /// to check): nothing is created, migrated or written. The file must have been
    /// made by this version of Throughcare's schema.
    pub fn open_read_only(path: &str, profile: &Profile) -> Result<SqliteStore, StoreError> {
        if !std::path::Path::new(path).is_file() {
            return Err(StoreError::Config(format!("{path} does not exist")));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| StoreError::Config(format!("{path} is not a SQLite database: {e}")))?;
        let current = MIGRATIONS.len() as i64;
        if version != current {
            return Err(StoreError::Config(if version == 0 {
                format!("{path} is not a Throughcare database")
            } else {
                format!(
                    "{path} has schema version {version}; this Throughcare reads version {current} read-only (open it once with the version that made it, or a newer one)"
                )
            }));
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            readers: Vec::new(),
            next_reader: std::sync::atomic::AtomicUsize::new(0),
            projector: Projector::new(profile),
        })
    }
}

/// Applies the migrations not yet applied; the schema version found.
fn migrate(conn: &Connection) -> Result<i64, StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let v = i as i64 + 1;
        if v > version {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {v}; COMMIT;"
            ))?;
        }
    }
    Ok(version)
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        seq: row.get(0)?,
        id: row.get(1)?,
        person: row.get(2)?,
        establishment: row.get(3)?,
        event_type: row.get(4)?,
        occurred_at: row.get(5)?,
        recorded_at: row.get(6)?,
        appended_at: row.get(7)?,
        recorded_by: row.get(8)?,
        supersedes: row.get(9)?,
        reason: row.get(10)?,
        payload: row.get(11)?,
        prev_hash: row.get(12)?,
        hash: row.get(13)?,
    })
}

fn collect_events(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = stmt.query_map(params, event_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?.to_event()?);
    }
    Ok(out)
}

fn canonical_of(conn: &Connection, person: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT canonical FROM person_alias WHERE person_id = ?1",
            [person],
            |r| r.get(0),
        )
        .optional()?)
}

fn events_of(conn: &Connection, canonical: &str) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE person_id IN \
         (SELECT person_id FROM person_alias WHERE canonical = ?1) ORDER BY seq"
    ))?;
    collect_events(&mut stmt, [canonical])
}

fn last_seq_of(conn: &Connection, canonical: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM events WHERE person_id IN \
         (SELECT person_id FROM person_alias WHERE canonical = ?1)",
        [canonical],
        |r| r.get(0),
    )?)
}

fn read_case_row(row: &Row<'_>) -> rusqlite::Result<CaseRow> {
    let person: String = row.get(0)?;
    let dob: String = row.get(4)?;
    let due: Option<String> = row.get(9)?;
    Ok(CaseRow {
        person: PersonId::parse(&person).unwrap_or(PersonId(Uuid::nil())),
        prison_number: row.get(1)?,
        family_name: row.get(2)?,
        given_name: row.get(3)?,
        date_of_birth: dob.parse().unwrap_or_default(),
        establishment: row.get(5)?,
        custody: row.get(6)?,
        in_custody: row.get(7)?,
        open_referrals: row.get(8)?,
        assessment_due: due.and_then(|d| d.parse().ok()),
        offending_linked: row.get(10)?,
        last_seq: row.get(11)?,
    })
}

/// Inserts one event row exactly as given.
fn insert_event(tx: &Connection, row: &EventRow) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO events ({EVENT_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
    ))?;
    stmt.execute(params![
        row.seq,
        row.id,
        row.person,
        row.establishment,
        row.event_type,
        row.occurred_at,
        row.recorded_at,
        row.appended_at,
        row.recorded_by,
        row.supersedes,
        row.reason,
        row.payload,
        row.prev_hash,
        row.hash
    ])?;
    Ok(())
}

/// Updates the projections one just-stored event changes (person aliases, prison
/// numbers, merges) and notes in `touched` the person records whose case index row
/// must be refolded before the transaction ends. The append path and the import
/// path both go through here, so a restored log projects exactly as it was built.
fn project_event(
    tx: &Connection,
    person: Option<&str>,
    kind: &EventKind,
    touched: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let Some(p) = person else {
        return Ok(());
    };
    tx.prepare_cached("INSERT OR IGNORE INTO person_alias (person_id, canonical) VALUES (?1, ?1)")?
        .execute([p])?;
    let canonical = canonical_of(tx, p)?.unwrap_or_else(|| p.to_string());
    match kind {
        EventKind::PersonRegistered(d) => {
            let holder: Option<String> = tx
                .query_row(
                    "SELECT person_id FROM prison_numbers WHERE prison_number = ?1",
                    [d.prison_number.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            match holder {
                Some(h) if h != canonical => {
                    return Err(StoreError::Duplicate(format!(
                        "prison number {} is already registered",
                        d.prison_number
                    )));
                }
                Some(_) => {}
                None => {
                    tx.execute(
                        "INSERT INTO prison_numbers (prison_number, person_id) VALUES (?1, ?2)",
                        [d.prison_number.as_str(), canonical.as_str()],
                    )?;
                }
            }
        }
        EventKind::PeopleMerged(m) => {
            let merged = m.merged.to_string();
            tx.execute(
                "UPDATE person_alias SET canonical = ?1 WHERE canonical = ?2",
                [&canonical, &merged],
            )?;
            tx.execute(
                "UPDATE prison_numbers SET person_id = ?1 WHERE person_id = ?2",
                [&canonical, &merged],
            )?;
            tx.execute("DELETE FROM case_index WHERE person_id = ?1", [&merged])?;
            tx.execute("DELETE FROM queue_items WHERE person_id = ?1", [&merged])?;
            touched.remove(&merged);
        }
        _ => {}
    }
    touched.insert(canonical);
    Ok(())
}

impl SqliteStore {
    fn reproject(&self, tx: &Connection, canonical: &str) -> Result<(), StoreError> {
        let person =
            PersonId::parse(canonical).ok_or_else(|| StoreError::Corrupt("person id".into()))?;
        let case = Case::fold(person, events_of(tx, canonical)?);
        tx.execute("DELETE FROM queue_items WHERE person_id = ?1", [canonical])?;
        for q in self.projector.queue_rows(&case) {
            tx.prepare_cached(
                "INSERT INTO queue_items (person_id, establishment, ord, valid_from, valid_until, queue, due, has_deadline, detail, keyworker, rank) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                canonical,
                q.establishment,
                q.ord,
                q.valid_from,
                q.valid_until,
                q.queue,
                q.due,
                q.has_deadline,
                q.detail,
                q.keyworker,
                q.rank
            ])?;
        }
        match self.projector.case_row(&case) {
            None => {
                tx.execute("DELETE FROM case_index WHERE person_id = ?1", [canonical])?;
            }
            Some(r) => {
                tx.execute(
                    &format!("INSERT OR REPLACE INTO case_index ({CASE_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"),
                    params![
                        canonical,
                        r.prison_number,
                        r.family_name,
                        r.given_name,
                        r.date_of_birth.to_string(),
                        r.establishment,
                        r.custody,
                        r.in_custody,
                        r.open_referrals,
                        r.assessment_due.map(|d| d.to_string()),
                        r.offending_linked,
                        r.last_seq
                    ],
                )?;
            }
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn append(
        &self,
        batch: &[NewEvent],
        expect: Option<Expectation>,
        feed: Option<&FeedRecord>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(f) = feed {
            let seen: Option<i64> = tx
                .query_row(
                    "SELECT seq FROM feed_records WHERE feed = ?1 AND source_ref = ?2",
                    [&f.feed, &f.source_ref],
                    |r| r.get(0),
                )
                .optional()?;
            if seen.is_some() {
                return Ok(Vec::new());
            }
        }
        if let Some(x) = expect {
            let key = x.person.to_string();
            let canonical = canonical_of(&tx, &key)?.unwrap_or(key);
            if last_seq_of(&tx, &canonical)? != x.last_seq {
                return Err(StoreError::Conflict);
            }
        }
        let (mut seq, mut prev): (i64, String) = tx
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, GENESIS_HASH.to_string()));
        let appended_at = to_log_precision(Utc::now());
        let mut touched = BTreeSet::new();
        let mut out = Vec::with_capacity(batch.len());
        for n in batch {
            seq += 1;
            let row = EventRow::new(n, seq, &prev, appended_at);
            insert_event(&tx, &row)?;
            project_event(&tx, row.person.as_deref(), &n.kind, &mut touched)?;
            prev = row.hash.clone();
            out.push(row.to_event()?);
        }
        if let Some(f) = feed {
            tx.execute(
                "INSERT INTO feed_records (feed, source_ref, seq) VALUES (?1, ?2, ?3)",
                params![f.feed, f.source_ref, seq],
            )?;
        }
        for canonical in &touched {
            self.reproject(&tx, canonical)?;
        }
        tx.commit()?;
        Ok(out)
    }

    fn queue(&self, query: &QueueQuery) -> Result<QueuePage, StoreError> {
        let conn = self.reader();
        let today = local_date(query.now);
        let (day, horizon, now) = (
            today.to_string(),
            canonical_instant(horizon_end(today)),
            canonical_instant(query.now),
        );
        let (queue, keyworker) = (
            query.queue.map(|q| q.code()).unwrap_or(""),
            query.keyworker.as_deref().unwrap_or(""),
        );
        let place = |n: usize| format!("?{n}");
        let (counts, total, overdue) = {
            let mut stmt = conn.prepare_cached(&queue_counts_sql(place))?;
            let raw = stmt
                .query_map(
                    params![
                        query.establishment.as_str(),
                        day,
                        horizon,
                        "",
                        keyworker,
                        now
                    ],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            tally_counts(raw, query.queue)
        };
        let mut rows = Vec::new();
        for (late, limit, offset) in queue_parts(overdue, query.offset, query.limit) {
            let mut stmt = conn.prepare_cached(&queue_part_sql(place, late))?;
            let found = stmt.query_map(
                params![
                    query.establishment.as_str(),
                    day,
                    horizon,
                    queue,
                    keyworker,
                    now,
                    limit as i64,
                    offset as i64
                ],
                |r| {
                    Ok((
                        read_case_row(r)?,
                        r.get::<_, String>(12)?,
                        r.get::<_, String>(13)?,
                        r.get::<_, bool>(14)?,
                        r.get::<_, String>(15)?,
                        r.get::<_, Option<String>>(16)?,
                    ))
                },
            )?;
            for row in found {
                let (case, queue, due, has_deadline, detail, keyworker) = row?;
                if let Some(item) =
                    projection::item_at(&queue, &due, has_deadline, detail, query.now)
                {
                    rows.push(QueueRow {
                        case,
                        keyworker,
                        item,
                    });
                }
            }
        }
        Ok(QueuePage {
            rows,
            total,
            counts,
        })
    }

    fn rebuild_projections(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM case_index", [])?;
        tx.execute("DELETE FROM queue_items", [])?;
        let people: Vec<String> = tx
            .prepare("SELECT DISTINCT canonical FROM person_alias ORDER BY canonical")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for canonical in &people {
            self.reproject(&tx, canonical)?;
        }
        tx.commit()?;
        Ok(people.len() as u64)
    }

    fn canonical_person(&self, person: PersonId) -> Result<Option<PersonId>, StoreError> {
        let conn = self.reader();
        Ok(canonical_of(&conn, &person.to_string())?.and_then(|c| PersonId::parse(&c)))
    }

    fn person_events(&self, person: PersonId) -> Result<Vec<RecordedEvent>, StoreError> {
        let conn = self.reader();
        let key = person.to_string();
        match canonical_of(&conn, &key)? {
            Some(c) => events_of(&conn, &c),
            None => Ok(Vec::new()),
        }
    }

    fn find_prison_number(&self, number: &PrisonNumber) -> Result<Option<PersonId>, StoreError> {
        let conn = self.reader();
        let found: Option<String> = conn
            .query_row(
                "SELECT person_id FROM prison_numbers WHERE prison_number = ?1",
                [number.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.and_then(|p| PersonId::parse(&p)))
    }

    fn caseload(&self, establishment: &EstablishmentCode) -> Result<Vec<CaseRow>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CASE_COLUMNS} FROM case_index WHERE establishment = ?1 ORDER BY family_name, given_name, prison_number"
        ))?;
        let rows = stmt.query_map([establishment.as_str()], read_case_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn assessments_due(
        &self,
        establishment: &EstablishmentCode,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {CASE_COLUMNS} FROM case_index WHERE establishment = ?1 AND assessment_due IS NOT NULL \
             ORDER BY assessment_due, offending_linked DESC, family_name"
        ))?;
        let rows = stmt.query_map([establishment.as_str()], read_case_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn case_row(&self, person: PersonId) -> Result<Option<CaseRow>, StoreError> {
        let conn = self.reader();
        let canonical =
            canonical_of(&conn, &person.to_string())?.unwrap_or_else(|| person.to_string());
        Ok(conn
            .query_row(
                &format!("SELECT {CASE_COLUMNS} FROM case_index WHERE person_id = ?1"),
                [canonical],
                read_case_row,
            )
            .optional()?)
    }

    fn service_events(&self) -> Result<Vec<RecordedEvent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE person_id IS NULL ORDER BY seq"
        ))?;
        collect_events(&mut stmt, [])
    }

    fn events_after(&self, after_seq: i64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        collect_events(
            &mut stmt,
            params![after_seq, i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"))?;
        let mut rows = stmt.query([])?;
        let mut v = ChainVerifier::default();
        while let Some(row) = rows.next()? {
            let row = event_row(row)?;
            if let Err(b) = v.check(&row.chain_fields(), &row.prev_hash, &row.hash) {
                return Ok(VerifyReport {
                    verified: v.verified(),
                    head_hash: v.head().to_string(),
                    broken: Some(b),
                });
            }
        }
        Ok(VerifyReport {
            verified: v.verified(),
            head_hash: v.head().to_string(),
            broken: None,
        })
    }

    fn put_account(&self, a: &StaffAccount) -> Result<(), StoreError> {
        let conn = self.conn();
        let ests: Vec<&str> = a.establishments.iter().map(|e| e.as_str()).collect();
        conn.execute(
            "INSERT OR REPLACE INTO staff_accounts (username, display_name, role, password_hash, establishments, active, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                a.username.as_str(),
                a.display_name,
                a.role.code(),
                a.password_hash,
                ests.join(","),
                a.active,
                canonical_instant(a.created_at)
            ],
        )?;
        Ok(())
    }

    fn account(&self, username: &StaffUsername) -> Result<Option<StaffAccount>, StoreError> {
        let conn = self.reader();
        Ok(conn
            .query_row(
                "SELECT username, display_name, role, password_hash, establishments, active, created_at FROM staff_accounts WHERE username = ?1",
                [username.as_str()],
                read_account,
            )
            .optional()?
            .flatten())
    }

    fn accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT username, display_name, role, password_hash, establishments, active, created_at FROM staff_accounts ORDER BY username",
        )?;
        let rows = stmt.query_map([], read_account)?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(a) = r? {
                out.push(a);
            }
        }
        Ok(out)
    }

    fn put_session(&self, s: &Session) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO sessions (token_hash, username, csrf_token, establishment, created_at, expires_at) VALUES (?1,?2,?3,?4,?5,?6)",
            params![
                s.token_hash,
                s.username.as_str(),
                s.csrf_token,
                s.establishment.as_str(),
                canonical_instant(s.created_at),
                canonical_instant(s.expires_at)
            ],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        let conn = self.reader();
        let found = conn
            .query_row(
                "SELECT token_hash, username, csrf_token, establishment, created_at, expires_at FROM sessions WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    let u: String = r.get(1)?;
                    let e: String = r.get(3)?;
                    let c: String = r.get(4)?;
                    let x: String = r.get(5)?;
                    Ok((r.get::<_, String>(0)?, u, r.get::<_, String>(2)?, e, c, x))
                },
            )
            .optional()?;
        Ok(found.and_then(|(token_hash, u, csrf_token, e, c, x)| {
            let s = Session {
                token_hash,
                username: StaffUsername::parse(&u).ok()?,
                csrf_token,
                establishment: EstablishmentCode::parse(&e).ok()?,
                created_at: parse_instant(&c)?,
                expires_at: parse_instant(&x)?,
            };
            (s.expires_at > now).then_some(s)
        }))
    }

    fn set_session_establishment(
        &self,
        token_hash: &str,
        establishment: &EstablishmentCode,
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE sessions SET establishment = ?1 WHERE token_hash = ?2",
            [establishment.as_str(), token_hash],
        )?;
        Ok(())
    }

    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    fn record_access(&self, e: &AccessEntry) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO access_audit (at, username, person_id, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                canonical_instant(e.at),
                e.username,
                e.person.map(|p| p.to_string()),
                e.action,
                e.detail
            ],
        )?;
        Ok(())
    }

    fn access_log(&self, person: PersonId) -> Result<Vec<AccessEntry>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT at, username, person_id, action, detail FROM access_audit WHERE person_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([person.to_string()], |r| {
            let at: String = r.get(0)?;
            let p: Option<String> = r.get(2)?;
            Ok(AccessEntry {
                at: parse_instant(&at).unwrap_or_default(),
                username: r.get(1)?,
                person: p.and_then(|p| PersonId::parse(&p)),
                action: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn idempotency_claim(
        &self,
        scope: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, Option<i64>, Option<String>)> = tx
            .query_row(
                "SELECT request_hash, status, response FROM idempotency_keys WHERE scope = ?1",
                [scope],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let claim = match found {
            None => {
                tx.execute(
                    "INSERT INTO idempotency_keys (scope, request_hash, created_at) VALUES (?1, ?2, ?3)",
                    [scope, request_hash, &canonical_instant(now)],
                )?;
                IdempotencyClaim::Claimed
            }
            Some((hash, _, _)) if hash != request_hash => IdempotencyClaim::Mismatch,
            Some((_, Some(status), Some(response))) => IdempotencyClaim::Completed {
                status: u16::try_from(status).unwrap_or(500),
                response,
            },
            Some(_) => IdempotencyClaim::InFlight,
        };
        tx.commit()?;
        Ok(claim)
    }

    fn idempotency_complete(
        &self,
        scope: &str,
        status: u16,
        response: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE idempotency_keys SET status = ?1, response = ?2 WHERE scope = ?3",
            params![i64::from(status), response, scope],
        )?;
        Ok(())
    }

    fn idempotency_release(&self, scope: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM idempotency_keys WHERE scope = ?1 AND status IS NULL",
            [scope],
        )?;
        Ok(())
    }

    fn log_length(&self) -> Result<i64, StoreError> {
        // Sequence numbers start at 1 with no gaps and events are never deleted.
        Ok(self
            .conn()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
    }

    fn export_log(&self, out: &mut dyn Write) -> Result<ExportSummary, StoreError> {
        let mut conn = self.reader();
        // A deferred transaction is one read snapshot (WAL): other connections go on
        // appending while the export streams.
        let tx = conn.transaction()?;
        let (events, head): (i64, Option<String>) = tx.query_row(
            "SELECT COUNT(*), (SELECT hash FROM events ORDER BY seq DESC LIMIT 1) FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut w = portable::Writer::start(out, events, head)?;
        {
            let mut stmt =
                tx.prepare(&format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                w.event(event_row(r)?)?;
            }
            let mut stmt = tx.prepare(
                "SELECT username, display_name, role, password_hash, establishments, active, created_at \
                 FROM staff_accounts ORDER BY username",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let ests: String = r.get(4)?;
                w.line(&Line::Account(AccountLine::from_columns(
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    &ests,
                    r.get(5)?,
                    r.get(6)?,
                )))?;
            }
            let mut stmt = tx.prepare(
                "SELECT id, at, username, person_id, action, detail FROM access_audit ORDER BY id",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                w.line(&Line::Access(AccessLine {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    username: r.get(2)?,
                    person_id: r.get(3)?,
                    action: r.get(4)?,
                    detail: r.get(5)?,
                }))?;
            }
            let mut stmt = tx.prepare(
                "SELECT feed, source_ref, seq FROM feed_records ORDER BY seq, feed, source_ref",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                w.line(&Line::FeedRecord(FeedLine {
                    feed: r.get(0)?,
                    source_ref: r.get(1)?,
                    seq: r.get(2)?,
                }))?;
            }
        }
        let summary = w.finish()?;
        tx.commit()?;
        Ok(summary)
    }

    fn import_log(&self, input: &mut dyn BufRead) -> Result<ImportSummary, StoreError> {
        let mut reader = portable::Reader::start(input)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let counts: [i64; 4] = tx.query_row(portable::CONTENTS_SQL, [], |r| {
            Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
        })?;
        portable::refuse_unless_empty(counts)?;
        let mut touched = BTreeSet::new();
        while let Some(record) = reader.next_record()? {
            match record {
                Record::Event(row, event) => {
                    insert_event(&tx, &row)?;
                    project_event(&tx, row.person.as_deref(), &event.kind, &mut touched)?;
                }
                Record::Account(a) => {
                    tx.prepare_cached(
                        "INSERT INTO staff_accounts (username, display_name, role, password_hash, establishments, active, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        a.username,
                        a.display_name,
                        a.role,
                        a.password_hash,
                        a.establishments_column(),
                        a.active,
                        a.created_at
                    ])?;
                }
                Record::Access(a) => {
                    tx.prepare_cached(
                        "INSERT INTO access_audit (id, at, username, person_id, action, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![a.id, a.at, a.username, a.person_id, a.action, a.detail])?;
                }
                Record::Feed(f) => {
                    tx.prepare_cached(
                        "INSERT INTO feed_records (feed, source_ref, seq) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![f.feed, f.source_ref, f.seq])?;
                }
            }
        }
        for canonical in &touched {
            self.reproject(&tx, canonical)?;
        }
        tx.commit()?;
        Ok(reader.summary())
    }
}

fn read_account(r: &Row<'_>) -> rusqlite::Result<Option<StaffAccount>> {
    let u: String = r.get(0)?;
    let role: String = r.get(2)?;
    let ests: String = r.get(4)?;
    let created: String = r.get(6)?;
    Ok((|| {
        Some(StaffAccount {
            username: StaffUsername::parse(&u).ok()?,
            display_name: r.get(1).ok()?,
            role: Role::from_code(&role)?,
            password_hash: r.get(3).ok()?,
            establishments: ests
                .split(',')
                .filter(|s| !s.is_empty())
                .filter_map(|s| EstablishmentCode::parse(s).ok())
                .collect(),
            active: r.get(5).ok()?,
            created_at: parse_instant(&created)?,
        })
    })())
}
