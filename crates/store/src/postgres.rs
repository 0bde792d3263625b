//! The PostgreSQL backend, for a region or the national estate: several app
//! instances share one database. Appends lock the single `chain_head` row, so the
//! chain stays linear whoever appends; `synchronous_commit` is on.
//!
//! The synchronous `postgres` client runs its own small runtime, so each connection
//! lives on a worker thread of its own and store calls are sent to it: callers (even
//! async handlers) never enter that runtime themselves.

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
use postgres::ToStatement;
use postgres::{Client, IsolationLevel, NoTls, Row, Statement, Transaction};
use std::collections::BTreeSet;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use throughcare_domain::case::Case;
use throughcare_domain::chain::{ChainVerifier, GENESIS_HASH};
use throughcare_domain::events::{EventKind, NewEvent, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::time::{canonical_instant, local_date, parse_instant, to_log_precision};
use throughcare_domain::work_queues::horizon_end;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_event_log.sql"),
    include_str!("../migrations/postgres/0002_idempotency.sql"),
    include_str!("../migrations/postgres/0003_queue_items.sql"),
];
/// The first schema version with the queue projection: a database made before it
/// has its projections rebuilt from the log when it is first opened.
const QUEUE_PROJECTION_VERSION: i32 = 3;
const CONNECTIONS: usize = 4;
/// Any fixed number: the advisory lock key under which migrations run.
const MIGRATION_LOCK: i64 = 0x0074_6872_6f75_6768;

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// The event log in a PostgreSQL database.
pub struct PostgresStore {
    jobs: Mutex<Sender<Job>>,
    projector: Arc<Projector>,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

fn worker(url: String, jobs: Arc<Mutex<Receiver<Job>>>, ready: Sender<Result<(), StoreError>>) {
    let mut client = match Client::connect(&url, NoTls) {
        Ok(c) => {
            let _ = ready.send(Ok(()));
            c
        }
        Err(e) => {
            let _ = ready.send(Err(StoreError::Database(e.to_string())));
            return;
        }
    };
    loop {
        let job = {
            let rx = jobs.lock().unwrap_or_else(|p| p.into_inner());
            rx.recv()
        };
        match job {
            Ok(job) => job(&mut client),
            Err(_) => return,
        }
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`), applies migrations, starts the connections.
    pub fn open(url: &str, profile: &Profile) -> Result<PostgresStore, StoreError> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let (ready_tx, ready_rx) = channel();
        for _ in 0..CONNECTIONS {
            let (url, rx, ready) = (url.to_string(), rx.clone(), ready_tx.clone());
            std::thread::Builder::new()
                .name("postgres-connection".into())
                .spawn(move || worker(url, rx, ready))
                .map_err(|e| StoreError::Config(e.to_string()))?;
        }
        for _ in 0..CONNECTIONS {
            ready_rx
                .recv()
                .map_err(|_| StoreError::Database("connection thread ended".into()))??;
        }
        let store = PostgresStore {
            jobs: Mutex::new(tx),
            projector: Arc::new(Projector::new(profile)),
        };
        let before = store.with(migrate)?;
        if before > 0 && before < QUEUE_PROJECTION_VERSION {
            store.rebuild_projections()?;
        }
        Ok(store)
    }

    /// Runs `f` on one of the connections and waits for its answer.
    fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = channel();
        let job: Job = Box::new(move |client| {
            let _ = tx.send(f(client));
        });
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| StoreError::Database("the database connections have stopped".into()))?;
        rx.recv()
            .map_err(|_| StoreError::Database("the database connection failed".into()))?
    }

    /// Starts `f` on one of the connections and returns where its answer will
    /// arrive, so the caller can feed or drain it meanwhile (exports and imports
    /// stream through channels: the caller's reader or writer never crosses threads).
    fn spawn<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<Receiver<Result<R, StoreError>>, StoreError> {
        let (tx, rx) = channel();
        let job: Job = Box::new(move |client| {
            let _ = tx.send(f(client));
        });
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| StoreError::Database("the database connections have stopped".into()))?;
        Ok(rx)
    }
}

/// Applies the migrations not yet applied; the schema version found.
fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let result = (|| {
        client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)",
        )?;
        let row = client.query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?;
        let version: i32 = row.get(0);
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let v = i as i32 + 1;
            if v > version {
                let mut tx = client.transaction()?;
                tx.batch_execute(sql)?;
                tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&v])?;
                tx.commit()?;
            }
        }
        Ok::<_, StoreError>(version)
    })();
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
    result
}

fn event_row(row: &Row) -> EventRow {
    EventRow {
        seq: row.get(0),
        id: row.get(1),
        person: row.get(2),
        establishment: row.get(3),
        event_type: row.get(4),
        occurred_at: row.get(5),
        recorded_at: row.get(6),
        appended_at: row.get(7),
        recorded_by: row.get(8),
        supersedes: row.get(9),
        reason: row.get(10),
        payload: row.get(11),
        prev_hash: row.get(12),
        hash: row.get(13),
    }
}

fn to_events(rows: Vec<Row>) -> Result<Vec<RecordedEvent>, StoreError> {
    rows.iter().map(|r| event_row(r).to_event()).collect()
}

fn canonical_of(
    c: &mut impl postgres::GenericClient,
    person: &str,
) -> Result<Option<String>, StoreError> {
    Ok(c.query_opt(
        "SELECT canonical FROM person_alias WHERE person_id = $1",
        &[&person],
    )?
    .map(|r| r.get(0)))
}

fn events_of(
    c: &mut impl postgres::GenericClient,
    canonical: &str,
) -> Result<Vec<RecordedEvent>, StoreError> {
    to_events(c.query(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE person_id IN \
             (SELECT person_id FROM person_alias WHERE canonical = $1) ORDER BY seq"
        ),
        &[&canonical],
    )?)
}

fn case_row(r: &Row) -> CaseRow {
    let person: String = r.get(0);
    let dob: String = r.get(4);
    let due: Option<String> = r.get(9);
    let open: i64 = r.get(8);
    CaseRow {
        person: PersonId::parse(&person).unwrap_or(PersonId(uuid::Uuid::nil())),
        prison_number: r.get(1),
        family_name: r.get(2),
        given_name: r.get(3),
        date_of_birth: dob.parse().unwrap_or_default(),
        establishment: r.get(5),
        custody: r.get(6),
        in_custody: r.get(7),
        open_referrals: u32::try_from(open).unwrap_or(0),
        assessment_due: due.and_then(|d| d.parse().ok()),
        offending_linked: r.get(10),
        last_seq: r.get(11),
    }
}

fn reproject(
    tx: &mut Transaction<'_>,
    projector: &Projector,
    canonical: &str,
) -> Result<(), StoreError> {
    let person =
        PersonId::parse(canonical).ok_or_else(|| StoreError::Corrupt("person id".into()))?;
    let case = Case::fold(person, events_of(tx, canonical)?);
    tx.execute(
        "DELETE FROM queue_items WHERE person_id = $1",
        &[&canonical],
    )?;
    for q in projector.queue_rows(&case) {
        tx.execute(
            "INSERT INTO queue_items (person_id, establishment, ord, valid_from, valid_until, queue, due, has_deadline, detail, keyworker, rank) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &canonical,
                &q.establishment,
                &q.ord,
                &q.valid_from,
                &q.valid_until,
                &q.queue,
                &q.due,
                &q.has_deadline,
                &q.detail,
                &q.keyworker,
                &q.rank,
            ],
        )?;
    }
    tx.execute("DELETE FROM case_index WHERE person_id = $1", &[&canonical])?;
    if let Some(r) = projector.case_row(&case) {
        tx.execute(
            &format!("INSERT INTO case_index ({CASE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"),
            &[
                &canonical,
                &r.prison_number,
                &r.family_name,
                &r.given_name,
                &r.date_of_birth.to_string(),
                &r.establishment,
                &r.custody,
                &r.in_custody,
                &i64::from(r.open_referrals),
                &r.assessment_due.map(|d| d.to_string()),
                &r.offending_linked,
                &r.last_seq,
            ],
        )?;
    }
    Ok(())
}

/// The statement that inserts one event row.
fn insert_event_sql() -> String {
    format!(
        "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
    )
}

/// Inserts one event row exactly as given.
fn insert_event(tx: &mut Transaction<'_>, row: &EventRow) -> Result<(), StoreError> {
    insert_event_with(tx, insert_event_sql().as_str(), row)
}

/// Inserts one event row with `statement` (the text of [`insert_event_sql`], or
/// that statement already prepared).
fn insert_event_with<S: ToStatement + ?Sized>(
    tx: &mut Transaction<'_>,
    statement: &S,
    row: &EventRow,
) -> Result<(), StoreError> {
    tx.execute(
        statement,
        &[
            &row.seq,
            &row.id,
            &row.person,
            &row.establishment,
            &row.event_type,
            &row.occurred_at,
            &row.recorded_at,
            &row.appended_at,
            &row.recorded_by,
            &row.supersedes,
            &row.reason,
            &row.payload,
            &row.prev_hash,
            &row.hash,
        ],
    )?;
    Ok(())
}

/// Statements prepared once per transaction and reused for every event in it (a
/// restore projects thousands of events; each unprepared statement costs a round
/// trip more).
#[derive(Default)]
struct Prepared(HashMap<&'static str, Statement>);

impl Prepared {
    /// The statement for `sql`, prepared on first use in this transaction.
    fn get(
        &mut self,
        tx: &mut Transaction<'_>,
        sql: &'static str,
    ) -> Result<Statement, StoreError> {
        if let Some(s) = self.0.get(sql) {
            return Ok(s.clone());
        }
        let s = tx.prepare(sql)?;
        self.0.insert(sql, s.clone());
        Ok(s)
    }
}

/// Updates the projections one just-stored event changes (person aliases, prison
/// numbers, merges) and notes in `touched` the person records whose case index row
/// must be refolded before the transaction ends. The append path and the import
/// path both go through here, so a restored log projects exactly as it was built.
fn project_event(
    tx: &mut Transaction<'_>,
    prepared: &mut Prepared,
    person: Option<&str>,
    kind: &EventKind,
    touched: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let Some(p) = person else {
        return Ok(());
    };
    let alias = prepared.get(
        tx,
        "INSERT INTO person_alias (person_id, canonical) VALUES ($1, $1) ON CONFLICT DO NOTHING",
    )?;
    tx.execute(&alias, &[&p])?;
    let canonical_sql = prepared.get(
        tx,
        "SELECT canonical FROM person_alias WHERE person_id = $1",
    )?;
    let canonical = tx
        .query_opt(&canonical_sql, &[&p])?
        .map(|r| r.get::<_, String>(0))
        .unwrap_or_else(|| p.to_string());
    match kind {
        EventKind::PersonRegistered(d) => {
            let holder_sql = prepared.get(
                tx,
                "SELECT person_id FROM prison_numbers WHERE prison_number = $1",
            )?;
            let holder: Option<String> = tx
                .query_opt(&holder_sql, &[&d.prison_number.as_str()])?
                .map(|r| r.get(0));
            match holder {
                Some(h) if h != canonical => {
                    return Err(StoreError::Duplicate(format!(
                        "prison number {} is already registered",
                        d.prison_number
                    )));
                }
                Some(_) => {}
                None => {
                    let insert = prepared.get(
                        tx,
                        "INSERT INTO prison_numbers (prison_number, person_id) VALUES ($1, $2)",
                    )?;
                    tx.execute(&insert, &[&d.prison_number.as_str(), &canonical])?;
                }
            }
        }
        EventKind::PeopleMerged(m) => {
            let merged = m.merged.to_string();
            tx.execute(
                "UPDATE person_alias SET canonical = $1 WHERE canonical = $2",
                &[&canonical, &merged],
            )?;
            tx.execute(
                "UPDATE prison_numbers SET person_id = $1 WHERE person_id = $2",
                &[&canonical, &merged],
            )?;
            tx.execute("DELETE FROM case_index WHERE person_id = $1", &[&merged])?;
            tx.execute("DELETE FROM queue_items WHERE person_id = $1", &[&merged])?;
            touched.remove(&merged);
        }
        _ => {}
    }
    touched.insert(canonical);
    Ok(())
}

fn append(
    client: &mut Client,
    projector: &Projector,
    batch: &[NewEvent],
    expect: Option<Expectation>,
    feed: Option<&FeedRecord>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut tx = client.transaction()?;
    // Serialise on the chain head: every append, from any instance, waits here.
    let head = tx.query_one(
        "SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE",
        &[],
    )?;
    let (mut seq, mut prev): (i64, String) = (head.get(0), head.get(1));
    if let Some(f) = feed
        && tx
            .query_opt(
                "SELECT seq FROM feed_records WHERE feed = $1 AND source_ref = $2",
                &[&f.feed, &f.source_ref],
            )?
            .is_some()
    {
        return Ok(Vec::new());
    }
    if let Some(x) = expect {
        let key = x.person.to_string();
        let canonical = canonical_of(&mut tx, &key)?.unwrap_or(key);
        let last: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE person_id IN \
                 (SELECT person_id FROM person_alias WHERE canonical = $1)",
                &[&canonical],
            )?
            .get(0);
        if last != x.last_seq {
            return Err(StoreError::Conflict);
        }
    }
    let appended_at = to_log_precision(Utc::now());
    let mut touched = BTreeSet::new();
    let mut prepared = Prepared::default();
    let mut out = Vec::with_capacity(batch.len());
    for n in batch {
        seq += 1;
        let row = EventRow::new(n, seq, &prev, appended_at);
        insert_event(&mut tx, &row)?;
        project_event(
            &mut tx,
            &mut prepared,
            row.person.as_deref(),
            &n.kind,
            &mut touched,
        )?;
        prev = row.hash.clone();
        out.push(row.to_event()?);
    }
    if let Some(f) = feed {
        tx.execute(
            "INSERT INTO feed_records (feed, source_ref, seq) VALUES ($1, $2, $3)",
            &[&f.feed, &f.source_ref, &seq],
        )?;
    }
    tx.execute(
        "UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1",
        &[&seq, &prev],
    )?;
    for canonical in &touched {
        reproject(&mut tx, projector, canonical)?;
    }
    tx.commit()?;
    Ok(out)
}

/// What an export's connection sends its caller.
enum ExportMsg {
    /// The snapshot's event count and chain head, for the header.
    Start(i64, Option<String>),
    /// The next page of lines.
    Lines(Vec<Line>),
}

/// What an import's caller sends its connection.
enum ImportMsg {
    /// The next checked line.
    Record(Box<Record>),
    /// The whole file has been read and checked: commit.
    End,
}

/// Writes the pages an export's connection sends, until it hangs up; `None` if it
/// failed before sending the header (its error is then the answer).
fn write_pages<'a>(
    pages: &Receiver<ExportMsg>,
    out: &'a mut dyn Write,
) -> Result<Option<portable::Writer<'a>>, StoreError> {
    let Ok(ExportMsg::Start(events, head)) = pages.recv() else {
        return Ok(None);
    };
    let mut w = portable::Writer::start(out, events, head)?;
    for msg in pages.iter() {
        match msg {
            ExportMsg::Lines(lines) => {
                for l in &lines {
                    w.line(l)?;
                }
            }
            ExportMsg::Start(..) => return Err(StoreError::Io("a second header".into())),
        }
    }
    Ok(Some(w))
}

fn send_page(pages: &SyncSender<ExportMsg>, msg: ExportMsg) -> Result<(), StoreError> {
    pages
        .send(msg)
        .map_err(|_| StoreError::Io("the export was abandoned".into()))
}

/// How an export turns one row of a query into a line.
type LineOf = fn(&Row) -> Line;

/// Reads one repeatable-read snapshot in pages and sends them to the caller.
fn export_pages(client: &mut Client, pages: SyncSender<ExportMsg>) -> Result<(), StoreError> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let head = tx.query_one(
        "SELECT COUNT(*), (SELECT hash FROM events ORDER BY seq DESC LIMIT 1) FROM events",
        &[],
    )?;
    send_page(&pages, ExportMsg::Start(head.get(0), head.get(1)))?;
    let events = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq");
    let queries: [(&str, LineOf); 4] = [
        (events.as_str(), |r| Line::Event(event_row(r).into())),
        (
            "SELECT username, display_name, role, password_hash, establishments, active, created_at \
             FROM staff_accounts ORDER BY username",
            |r| {
                Line::Account(AccountLine::from_columns(
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get::<_, &str>(4),
                    r.get(5),
                    r.get(6),
                ))
            },
        ),
        (
            "SELECT id, at, username, person_id, action, detail FROM access_audit ORDER BY id",
            |r| {
                Line::Access(AccessLine {
                    id: r.get(0),
                    at: r.get(1),
                    username: r.get(2),
                    person_id: r.get(3),
                    action: r.get(4),
                    detail: r.get(5),
                })
            },
        ),
        (
            "SELECT feed, source_ref, seq FROM feed_records ORDER BY seq, feed, source_ref",
            |r| {
                Line::FeedRecord(FeedLine {
                    feed: r.get(0),
                    source_ref: r.get(1),
                    seq: r.get(2),
                })
            },
        ),
    ];
    for (sql, line) in queries {
        let portal = tx.bind(sql, &[])?;
        loop {
            let rows = tx.query_portal(&portal, portable::PAGE as i32)?;
            if rows.is_empty() {
                break;
            }
            send_page(&pages, ExportMsg::Lines(rows.iter().map(line).collect()))?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Stores the checked lines the caller sends, in one transaction that commits only
/// when the caller says the whole file was sound.
fn import_rows(
    client: &mut Client,
    projector: &Projector,
    records: Receiver<ImportMsg>,
) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    // Serialise with appends from any instance, then insist on an empty database.
    tx.query_one("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE", &[])?;
    let counts = tx.query_one(portable::CONTENTS_SQL, &[])?;
    portable::refuse_unless_empty([counts.get(0), counts.get(1), counts.get(2), counts.get(3)])?;
    let insert = tx.prepare(&insert_event_sql())?;
    let insert_account = tx.prepare(
        "INSERT INTO staff_accounts (username, display_name, role, password_hash, establishments, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )?;
    let insert_access = tx.prepare(
        "INSERT INTO access_audit (id, at, username, person_id, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )?;
    let insert_feed =
        tx.prepare("INSERT INTO feed_records (feed, source_ref, seq) VALUES ($1, $2, $3)")?;
    let (mut seq, mut hash) = (0i64, GENESIS_HASH.to_string());
    let mut touched = BTreeSet::new();
    let mut prepared = Prepared::default();
    loop {
        let record = match records.recv() {
            Ok(ImportMsg::Record(r)) => r,
            Ok(ImportMsg::End) => break,
            Err(_) => return Err(StoreError::Io("the import was abandoned".into())),
        };
        match *record {
            Record::Event(row, event) => {
                insert_event_with(&mut tx, &insert, &row)?;
                project_event(
                    &mut tx,
                    &mut prepared,
                    row.person.as_deref(),
                    &event.kind,
                    &mut touched,
                )?;
                seq = row.seq;
                hash = row.hash;
            }
            Record::Account(a) => {
                tx.execute(
                    &insert_account,
                    &[
                        &a.username,
                        &a.display_name,
                        &a.role,
                        &a.password_hash,
                        &a.establishments_column(),
                        &a.active,
                        &a.created_at,
                    ],
                )?;
            }
            Record::Access(a) => {
                tx.execute(
                    &insert_access,
                    &[
                        &a.id,
                        &a.at,
                        &a.username,
                        &a.person_id,
                        &a.action,
                        &a.detail,
                    ],
                )?;
            }
            Record::Feed(f) => {
                tx.execute(&insert_feed, &[&f.feed, &f.source_ref, &f.seq])?;
            }
        }
    }
    for canonical in &touched {
        reproject(&mut tx, projector, canonical)?;
    }
    tx.execute(
        "UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1",
        &[&seq, &hash],
    )?;
    // Entries recorded after the restore number on from the restored ones.
    tx.execute(
        "SELECT setval(pg_get_serial_sequence('access_audit', 'id'), \
         COALESCE((SELECT MAX(id) FROM access_audit), 0) + 1, false)",
        &[],
    )?;
    tx.commit()?;
    Ok(())
}

fn account_of(r: &Row) -> Option<StaffAccount> {
    let u: String = r.get(0);
    let role: String = r.get(2);
    let ests: String = r.get(4);
    let created: String = r.get(6);
    Some(StaffAccount {
        username: StaffUsername::parse(&u).ok()?,
        display_name: r.get(1),
        role: Role::from_code(&role)?,
        password_hash: r.get(3),
        establishments: ests
            .split(',')
            .filter(|s| !s.is_empty())
            .filter_map(|s| EstablishmentCode::parse(s).ok())
            .collect(),
        active: r.get(5),
        created_at: parse_instant(&created)?,
    })
}

const ACCOUNT_COLUMNS: &str =
    "username, display_name, role, password_hash, establishments, active, created_at";

impl Store for PostgresStore {
    fn append(
        &self,
        batch: &[NewEvent],
        expect: Option<Expectation>,
        feed: Option<&FeedRecord>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (batch, feed) = (batch.to_vec(), feed.cloned());
        let projector = self.projector.clone();
        self.with(move |c| append(c, &projector, &batch, expect, feed.as_ref()))
    }

    fn queue(&self, query: &QueueQuery) -> Result<QueuePage, StoreError> {
        let query = query.clone();
        self.with(move |c| {
            let today = local_date(query.now);
            let (e, day, horizon, now) = (
                query.establishment.to_string(),
                today.to_string(),
                canonical_instant(horizon_end(today)),
                canonical_instant(query.now),
            );
            let queue = query.queue.map(|q| q.code()).unwrap_or("").to_string();
            let keyworker = query.keyworker.clone().unwrap_or_default();
            let place = |n: usize| format!("${n}");
            let none = String::new();
            let raw = c
                .query(
                    &queue_counts_sql(place),
                    &[&e, &day, &horizon, &none, &keyworker, &now],
                )?
                .iter()
                .map(|r| {
                    (
                        r.get::<_, String>(0),
                        r.get::<_, i64>(1),
                        r.get::<_, i64>(2),
                    )
                })
                .collect::<Vec<_>>();
            let (counts, total, overdue) = tally_counts(raw, query.queue);
            let mut rows = Vec::new();
            for (late, limit, offset) in queue_parts(overdue, query.offset, query.limit) {
                let (limit, offset) = (limit as i64, offset as i64);
                rows.extend(
                    c.query(
                        &queue_part_sql(place, late),
                        &[
                            &e, &day, &horizon, &queue, &keyworker, &now, &limit, &offset,
                        ],
                    )?
                    .iter()
                    .filter_map(|r| {
                        let item = projection::item_at(
                            &r.get::<_, String>(12),
                            &r.get::<_, String>(13),
                            r.get(14),
                            r.get(15),
                            query.now,
                        )?;
                        Some(QueueRow {
                            case: case_row(r),
                            keyworker: r.get(16),
                            item,
                        })
                    }),
                );
            }
            Ok(QueuePage {
                rows,
                total,
                counts,
            })
        })
    }

    fn rebuild_projections(&self) -> Result<u64, StoreError> {
        let projector = self.projector.clone();
        self.with(move |c| {
            let mut tx = c.transaction()?;
            // Serialise with appends from any instance.
            tx.query_one("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE", &[])?;
            tx.execute("DELETE FROM case_index", &[])?;
            tx.execute("DELETE FROM queue_items", &[])?;
            let people: Vec<String> = tx
                .query(
                    "SELECT DISTINCT canonical FROM person_alias ORDER BY canonical",
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            for canonical in &people {
                reproject(&mut tx, &projector, canonical)?;
            }
            tx.commit()?;
            Ok(people.len() as u64)
        })
    }

    fn canonical_person(&self, person: PersonId) -> Result<Option<PersonId>, StoreError> {
        self.with(move |c| {
            Ok(canonical_of(c, &person.to_string())?.and_then(|p| PersonId::parse(&p)))
        })
    }

    fn person_events(&self, person: PersonId) -> Result<Vec<RecordedEvent>, StoreError> {
        self.with(move |c| match canonical_of(c, &person.to_string())? {
            Some(canonical) => events_of(c, &canonical),
            None => Ok(Vec::new()),
        })
    }

    fn find_prison_number(&self, number: &PrisonNumber) -> Result<Option<PersonId>, StoreError> {
        let number = number.to_string();
        self.with(move |c| {
            Ok(c.query_opt(
                "SELECT person_id FROM prison_numbers WHERE prison_number = $1",
                &[&number],
            )?
            .and_then(|r| PersonId::parse(&r.get::<_, String>(0))))
        })
    }

    fn caseload(&self, establishment: &EstablishmentCode) -> Result<Vec<CaseRow>, StoreError> {
        let e = establishment.to_string();
        self.with(move |c| {
            Ok(c.query(
                &format!("SELECT {CASE_COLUMNS} FROM case_index WHERE establishment = $1 ORDER BY family_name, given_name, prison_number"),
                &[&e],
            )?
            .iter()
            .map(case_row)
            .collect())
        })
    }

    fn assessments_due(
        &self,
        establishment: &EstablishmentCode,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let e = establishment.to_string();
        self.with(move |c| {
            Ok(c.query(
                &format!(
                    "SELECT {CASE_COLUMNS} FROM case_index WHERE establishment = $1 AND assessment_due IS NOT NULL \
                     ORDER BY assessment_due, offending_linked DESC, family_name"
                ),
                &[&e],
            )?
            .iter()
            .map(case_row)
            .collect())
        })
    }

    fn case_row(&self, person: PersonId) -> Result<Option<CaseRow>, StoreError> {
        self.with(move |c| {
            let key = person.to_string();
            let canonical = canonical_of(c, &key)?.unwrap_or(key);
            Ok(c.query_opt(
                &format!("SELECT {CASE_COLUMNS} FROM case_index WHERE person_id = $1"),
                &[&canonical],
            )?
            .map(|r| case_row(&r)))
        })
    }

    fn service_events(&self) -> Result<Vec<RecordedEvent>, StoreError> {
        self.with(|c| {
            to_events(c.query(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE person_id IS NULL ORDER BY seq"),
                &[],
            )?)
        })
    }

    fn events_after(&self, after_seq: i64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |c| {
            to_events(c.query(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&after_seq, &limit],
            )?)
        })
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.with(|c| {
            let mut v = ChainVerifier::default();
            let mut after = 0i64;
            loop {
                // Walk in pages so a national log never has to fit in memory.
                let rows = c.query(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT 10000"
                    ),
                    &[&after],
                )?;
                if rows.is_empty() {
                    break;
                }
                for r in &rows {
                    let row = event_row(r);
                    after = row.seq;
                    if let Err(b) = v.check(&row.chain_fields(), &row.prev_hash, &row.hash) {
                        return Ok(VerifyReport {
                            verified: v.verified(),
                            head_hash: v.head().to_string(),
                            broken: Some(b),
                        });
                    }
                }
            }
            Ok(VerifyReport {
                verified: v.verified(),
                head_hash: v.head().to_string(),
                broken: None,
            })
        })
    }

    fn put_account(&self, a: &StaffAccount) -> Result<(), StoreError> {
        let a = a.clone();
        self.with(move |c| {
            let ests: Vec<&str> = a.establishments.iter().map(|e| e.as_str()).collect();
            c.execute(
                &format!(
                    "INSERT INTO staff_accounts ({ACCOUNT_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7) \
                     ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name, role = EXCLUDED.role, \
                     password_hash = EXCLUDED.password_hash, establishments = EXCLUDED.establishments, active = EXCLUDED.active"
                ),
                &[
                    &a.username.as_str(),
                    &a.display_name,
                    &a.role.code(),
                    &a.password_hash,
                    &ests.join(","),
                    &a.active,
                    &canonical_instant(a.created_at),
                ],
            )?;
            Ok(())
        })
    }

    fn account(&self, username: &StaffUsername) -> Result<Option<StaffAccount>, StoreError> {
        let u = username.to_string();
        self.with(move |c| {
            Ok(c.query_opt(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM staff_accounts WHERE username = $1"),
                &[&u],
            )?
            .and_then(|r| account_of(&r)))
        })
    }

    fn accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        self.with(|c| {
            Ok(c.query(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM staff_accounts ORDER BY username"),
                &[],
            )?
            .iter()
            .filter_map(account_of)
            .collect())
        })
    }

    fn put_session(&self, s: &Session) -> Result<(), StoreError> {
        let s = s.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, username, csrf_token, establishment, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)",
                &[
                    &s.token_hash,
                    &s.username.as_str(),
                    &s.csrf_token,
                    &s.establishment.as_str(),
                    &canonical_instant(s.created_at),
                    &canonical_instant(s.expires_at),
                ],
            )?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        let t = token_hash.to_string();
        self.with(move |c| {
            let Some(r) = c.query_opt(
                "SELECT token_hash, username, csrf_token, establishment, created_at, expires_at FROM sessions WHERE token_hash = $1",
                &[&t],
            )?
            else {
                return Ok(None);
            };
            let session = (|| {
                Some(Session {
                    token_hash: r.get(0),
                    username: StaffUsername::parse(&r.get::<_, String>(1)).ok()?,
                    csrf_token: r.get(2),
                    establishment: EstablishmentCode::parse(&r.get::<_, String>(3)).ok()?,
                    created_at: parse_instant(&r.get::<_, String>(4))?,
                    expires_at: parse_instant(&r.get::<_, String>(5))?,
                })
            })();
            Ok(session.filter(|s| s.expires_at > now))
        })
    }

    fn set_session_establishment(
        &self,
        token_hash: &str,
        establishment: &EstablishmentCode,
    ) -> Result<(), StoreError> {
        let (t, e) = (token_hash.to_string(), establishment.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE sessions SET establishment = $1 WHERE token_hash = $2",
                &[&e, &t],
            )?;
            Ok(())
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let t = token_hash.to_string();
        self.with(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = $1", &[&t])?;
            Ok(())
        })
    }

    fn record_access(&self, e: &AccessEntry) -> Result<(), StoreError> {
        let e = e.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO access_audit (at, username, person_id, action, detail) VALUES ($1, $2, $3, $4, $5)",
                &[&canonical_instant(e.at), &e.username, &e.person.map(|p| p.to_string()), &e.action, &e.detail],
            )?;
            Ok(())
        })
    }

    fn access_log(&self, person: PersonId) -> Result<Vec<AccessEntry>, StoreError> {
        self.with(move |c| {
            Ok(c.query(
                "SELECT at, username, person_id, action, detail FROM access_audit WHERE person_id = $1 ORDER BY id DESC",
                &[&person.to_string()],
            )?
            .iter()
            .map(|r| AccessEntry {
                at: parse_instant(&r.get::<_, String>(0)).unwrap_or_default(),
                username: r.get(1),
                person: r.get::<_, Option<String>>(2).and_then(|p| PersonId::parse(&p)),
                action: r.get(3),
                detail: r.get(4),
            })
            .collect())
        })
    }

    fn idempotency_claim(
        &self,
        scope: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let (scope, hash, at) = (
            scope.to_string(),
            request_hash.to_string(),
            canonical_instant(now),
        );
        self.with(move |c| {
            let mut tx = c.transaction()?;
            // Insert-or-nothing first, so two claimants race on the primary key, not on a read.
            let inserted = tx.execute(
                "INSERT INTO idempotency_keys (scope, request_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&scope, &hash, &at],
            )?;
            let claim = if inserted == 1 {
                IdempotencyClaim::Claimed
            } else {
                let r = tx.query_one(
                    "SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1",
                    &[&scope],
                )?;
                let (stored, status, response): (String, Option<i32>, Option<String>) = (r.get(0), r.get(1), r.get(2));
                match (stored == hash, status, response) {
                    (false, _, _) => IdempotencyClaim::Mismatch,
                    (true, Some(status), Some(response)) => IdempotencyClaim::Completed {
                        status: u16::try_from(status).unwrap_or(500),
                        response,
                    },
                    _ => IdempotencyClaim::InFlight,
                }
            };
            tx.commit()?;
            Ok(claim)
        })
    }

    fn idempotency_complete(
        &self,
        scope: &str,
        status: u16,
        response: &str,
    ) -> Result<(), StoreError> {
        let (scope, response) = (scope.to_string(), response.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE idempotency_keys SET status = $1, response = $2 WHERE scope = $3",
                &[&i32::from(status), &response, &scope],
            )?;
            Ok(())
        })
    }

    fn idempotency_release(&self, scope: &str) -> Result<(), StoreError> {
        let scope = scope.to_string();
        self.with(move |c| {
            c.execute(
                "DELETE FROM idempotency_keys WHERE scope = $1 AND status IS NULL",
                &[&scope],
            )?;
            Ok(())
        })
    }

    fn log_length(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            Ok(c.query_one("SELECT seq FROM chain_head WHERE id = 1", &[])?
                .get(0))
        })
    }

    fn export_log(&self, out: &mut dyn Write) -> Result<ExportSummary, StoreError> {
        let (pages_tx, pages) = sync_channel(4);
        let done = self.spawn(move |c| export_pages(c, pages_tx))?;
        let written = write_pages(&pages, out);
        // Hang up first, so a connection blocked on a full channel gives up.
        drop(pages);
        let read = done
            .recv()
            .map_err(|_| StoreError::Database("the database connection failed".into()))?;
        let writer = written?;
        read?;
        writer
            .ok_or_else(|| StoreError::Io("the export never started".into()))?
            .finish()
    }

    fn import_log(&self, input: &mut dyn BufRead) -> Result<ImportSummary, StoreError> {
        let mut reader = portable::Reader::start(input)?;
        let (records, records_rx) = sync_channel(256);
        let projector = self.projector.clone();
        let done = self.spawn(move |c| import_rows(c, &projector, records_rx))?;
        let read = (|| {
            while let Some(record) = reader.next_record()? {
                if records.send(ImportMsg::Record(Box::new(record))).is_err() {
                    // The connection stopped (its error is the answer).
                    return Ok(());
                }
            }
            let _ = records.send(ImportMsg::End);
            Ok::<_, StoreError>(())
        })();
        // Hang up: without `End`, the connection rolls everything back.
        drop(records);
        let stored = done
            .recv()
            .map_err(|_| StoreError::Database("the database connection failed".into()))?;
        read?;
        stored?;
        Ok(reader.summary())
    }
}
