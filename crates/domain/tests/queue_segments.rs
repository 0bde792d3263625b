//! Issue 15: the work queues stored as spans of days (`queue_segments`) answer
//! exactly what the fold answers (`work_items`) at every instant, for any history
//! the fold can meet. Histories are random sequences of every person event type,
//! each made from its example in docs/events.md with its dates moved to a random
//! day, so a new event type is covered as soon as it is documented.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use proptest::prelude::*;
use serde_json::Value;
use throughcare_domain::case::Case;
use throughcare_domain::events::{EventKind, RecordedEvent};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{EventId, PersonId};
use throughcare_domain::time::local_instant;
use throughcare_domain::work_queues::{QueueKind, items_on, queue_segments, work_items};

const START: &str = "2026-01-01";

/// Each person event type's example payload, from docs/events.md.
fn examples() -> Vec<(String, Value)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("{\"type\": ")) {
        // Lines that are not examples (a shape with placeholders) are not JSON.
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["person"].is_null() {
            continue;
        }
        let t = v["type"].as_str().unwrap().to_string();
        out.insert(t, v["payload"].clone());
    }
    assert!(out.len() > 40, "person examples found: {}", out.len());
    out.into_iter().collect()
}

/// How one example is varied: its dates moved to `day` (plus `shift` days for dates
/// after the first, so windows have a length), its instants to `at`, every id it
/// refers to pointed at an earlier event of the history (`pick`), and its status or
/// decision chosen by `pick` too, so courses complete and consents are refused.
struct Variation {
    day: NaiveDate,
    shift: i64,
    at: DateTime<Utc>,
    pick: usize,
    earlier: usize,
    dates_seen: u32,
}

const STATUSES: [&str; 5] = ["offered", "started", "completed", "dropped_out", "declined"];
const DECISIONS: [&str; 2] = ["given", "refused"];

fn moved(v: &Value, key: &str, x: &mut Variation) -> Value {
    match v {
        Value::String(s) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
            x.dates_seen += 1;
            let d = if x.dates_seen == 1 {
                x.day
            } else {
                x.day + Duration::days(x.shift)
            };
            Value::String(d.to_string())
        }
        Value::String(s) if DateTime::parse_from_rfc3339(s).is_ok() => {
            Value::String(x.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        // An optional reference left out, one time in four: a course starts.
        Value::String(s) if EventId::parse(s).is_some() && x.pick.is_multiple_of(4) => Value::Null,
        Value::String(s) if EventId::parse(s).is_some() && x.earlier > 0 => {
            // One of the last few events: a course completed refers to its start.
            Value::String(event_id(x.earlier - x.pick % x.earlier.min(3)))
        }
        Value::String(_) if key == "status" => {
            Value::String(STATUSES[x.pick % STATUSES.len()].into())
        }
        Value::String(_) if key == "decision" => {
            Value::String(DECISIONS[x.pick % DECISIONS.len()].into())
        }
        Value::Array(a) => Value::Array(a.iter().map(|e| moved(e, key, x)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, e)| (k.clone(), moved(e, k, x))).collect())
        }
        other => other.clone(),
    }
}

fn event_id(n: usize) -> String {
    format!("b0000000-0000-4000-8000-{n:012}")
}

/// One event of a random history: which example, its day, hour and date shift,
/// whether at EYI (else MDI), and the pick of ids, status and decision.
type Op = (usize, u16, u8, i8, bool, u8);

fn history(ops: &[Op], kinds: &[(String, Value)]) -> (PersonId, Vec<RecordedEvent>) {
    let person = PersonId::parse("a1000000-0000-4000-8000-000000000001").unwrap();
    let start: NaiveDate = START.parse().unwrap();
    let mut events = Vec::new();
    for (k, day, hour, shift, eyi, pick) in ops {
        let (type_name, example) = &kinds[k % kinds.len()];
        let day = start + Duration::days(i64::from(*day));
        let at = local_instant(
            day,
            NaiveTime::from_hms_opt(u32::from(*hour % 24), 10, 0).unwrap(),
        );
        let mut x = Variation {
            day,
            shift: i64::from(*shift),
            at,
            pick: usize::from(*pick),
            earlier: events.len(),
            dates_seen: 0,
        };
        let payload = moved(example, "", &mut x);
        let Ok(kind) = EventKind::from_parts(type_name, &payload.to_string()) else {
            continue;
        };
        let seq = events.len() + 1;
        events.push(RecordedEvent {
            seq: seq as i64,
            id: EventId::parse(&event_id(seq)).unwrap(),
            person: Some(person),
            establishment: EstablishmentCode::parse(if *eyi { "EYI" } else { "MDI" }).unwrap(),
            occurred_at: at,
            recorded_at: at,
            appended_at: at,
            recorded_by: StaffUsername::parse("worker.one").unwrap(),
            supersedes: None,
            reason: None,
            kind,
            prev_hash: String::new(),
            hash: String::new(),
        });
    }
    (person, events)
}

/// The event types the queues read, for a second, denser walk.
const QUEUE_TYPES: [&str; 19] = [
    "received",
    "referral_made",
    "screening_completed",
    "assessment_completed",
    "care_plan_agreed",
    "top_completed",
    "intervention_updated",
    "consent_recorded",
    "consent_withdrawn",
    "service_exclusion_recorded",
    "released",
    "community_engagement_recorded",
    "contact_recorded",
    "clinical_event_recorded",
    "death_recorded",
    "treatment_exited",
    "induction_recorded",
    "follow_up_closed",
    "information_shared",
];

fn check(kinds: &[(String, Value)], ops: &[Op]) -> Result<(), TestCaseError> {
    let profile = Profile::builtin("kent-medway").unwrap();
    let calendar = profile.calendar();
    let (person, events) = history(ops, kinds);
    let case = Case::fold(person, events);
    let segments = queue_segments(&case, &profile, &calendar);
    let start: NaiveDate = START.parse().unwrap();
    for offset in -10..560 {
        let day = start + Duration::days(offset);
        for (h, m) in [(0, 0), (8, 30), (21, 59), (23, 59)] {
            let now = local_instant(day, NaiveTime::from_hms_opt(h, m, 0).unwrap());
            prop_assert_eq!(
                items_on(&segments, now),
                work_items(&case, &profile, &calendar, now),
                "at {}",
                now
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    #[test]
    fn the_stored_spans_answer_what_the_fold_answers_at_every_instant(
        ops in prop::collection::vec(
            (0usize..200, 0u16..420, 0u8..24, -20i8..120, any::<bool>(), any::<u8>()),
            1..40,
        )
    ) {
        check(&examples(), &ops)?;
    }

    #[test]
    fn the_same_holds_for_dense_histories_of_what_the_queues_read(
        ops in prop::collection::vec(
            (0usize..200, 0u16..300, 0u8..24, -20i8..120, any::<bool>(), any::<u8>()),
            4..30,
        )
    ) {
        let kinds: Vec<(String, Value)> = examples()
            .into_iter()
            .filter(|(t, _)| QUEUE_TYPES.contains(&t.as_str()))
            .collect();
        prop_assert_eq!(kinds.len(), QUEUE_TYPES.len());
        check(&kinds, &ops)?;
    }
}

/// A case that must show a change without a new event: an exclusion that ends.
#[test]
fn an_exclusion_ending_is_a_change_the_spans_hold() {
    let kinds = examples();
    let find = |t: &str| kinds.iter().position(|(k, _)| k == t).unwrap();
    // Referred, received, screened with a need; excluded for 30 days from day 10.
    let ops = vec![
        (find("received"), 0, 9, 0, false, 0),
        (find("screening_completed"), 1, 10, 0, false, 0),
        (find("service_exclusion_recorded"), 10, 11, 30, false, 0),
    ];
    let profile = Profile::builtin("kent-medway").unwrap();
    let calendar = profile.calendar();
    let (person, events) = history(&ops, &kinds);
    let case = Case::fold(person, events);
    let segments = queue_segments(&case, &profile, &calendar);
    assert!(segments.len() >= 2, "{segments:?}");
    let start: NaiveDate = START.parse().unwrap();
    let noon = |d: i64| {
        local_instant(
            start + Duration::days(d),
            NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        )
    };
    let during = work_items(&case, &profile, &calendar, noon(20));
    let after = work_items(&case, &profile, &calendar, noon(45));
    assert!(during.len() < after.len(), "{during:?} {after:?}");
    assert_eq!(items_on(&segments, noon(20)), during);
    assert_eq!(items_on(&segments, noon(45)), after);
}

/// A case that must show a change without a new event: consent to offender-manager
/// summaries given on a later day than the course it would report ended (S4 §3).
#[test]
fn consent_taking_effect_is_a_change_the_spans_hold() {
    let kinds = examples();
    let find = |t: &str| kinds.iter().position(|(k, _)| k == t).unwrap();
    // Received; a course started (pick 16: "started", no course named, so a new
    // one) and completed (pick 2: "completed", naming the start); consent given
    // (pick 0) on day 40.
    let ops = vec![
        (find("received"), 0, 9, 0, false, 0),
        (find("intervention_updated"), 5, 10, 0, false, 16),
        (find("intervention_updated"), 20, 10, 0, false, 2),
        (find("consent_recorded"), 40, 11, 0, false, 0),
    ];
    let profile = Profile::builtin("kent-medway").unwrap();
    let calendar = profile.calendar();
    let (person, events) = history(&ops, &kinds);
    let case = Case::fold(person, events);
    let start: NaiveDate = START.parse().unwrap();
    let noon = |d: i64| {
        local_instant(
            start + Duration::days(d),
            NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        )
    };
    let summary = |now| {
        work_items(&case, &profile, &calendar, now)
            .into_iter()
            .filter(|i| i.queue == QueueKind::OffenderManagerSummary)
            .count()
    };
    assert_eq!(summary(noon(30)), 0, "no consent yet on day 30");
    assert_eq!(summary(noon(41)), 1, "due once consent is given");
    check(&kinds, &ops).unwrap();
}
