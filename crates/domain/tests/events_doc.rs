//! Keeps `docs/events.md` honest: every event type has a section and exactly one
//! example, and every example is a JSON Lines import record whose payload the
//! domain parses and writes back unchanged.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use throughcare_domain::decide::payload_date;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::time::local_date;

/// The keys of an import record, as `throughcare import events` reads them.
const RECORD_KEYS: [&str; 7] = [
    "type",
    "person",
    "establishment",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "payload",
];

/// One fenced ```json block: the `## ` heading it sits under, the line it starts
/// on (1-based, for messages) and its text.
struct Example {
    heading: Option<String>,
    line: usize,
    text: String,
}

/// The document, its level-2 headings and its ```json blocks.
struct Doc {
    headings: Vec<String>,
    examples: Vec<Example>,
}

fn read_doc() -> Doc {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_doc(&text)
}

/// A small Markdown reader: enough for headings and fenced blocks. Headings inside
/// fences are not headings.
fn parse_doc(text: &str) -> Doc {
    let mut headings = Vec::new();
    let mut examples = Vec::new();
    let mut current: Option<String> = None;
    // Inside a fence: its marker, and the example being collected if it is json.
    let mut fence: Option<(String, Option<Example>)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut fence {
            Some((marker, collecting)) => {
                if trimmed.starts_with(marker.as_str())
                    && trimmed.trim_start_matches('`').trim().is_empty()
                {
                    if let Some(done) = collecting.take() {
                        examples.push(done);
                    }
                    fence = None;
                } else if let Some(ex) = collecting {
                    ex.text.push_str(line);
                    ex.text.push('\n');
                }
            }
            None => {
                if trimmed.starts_with("```") {
                    let ticks = trimmed.chars().take_while(|c| *c == '`').count();
                    let marker = "`".repeat(ticks);
                    let info = trimmed[ticks..].trim();
                    let collecting = (info == "json").then(|| Example {
                        heading: current.clone(),
                        line: index + 1,
                        text: String::new(),
                    });
                    fence = Some((marker, collecting));
                } else if let Some(h) = line.strip_prefix("## ") {
                    let h = h.trim().to_string();
                    headings.push(h.clone());
                    current = Some(h);
                }
            }
        }
    }
    assert!(fence.is_none(), "docs/events.md ends inside a fenced block");
    Doc { headings, examples }
}

/// An example parsed as a JSON object, with a message prefix naming where it is.
fn record(ex: &Example) -> (String, serde_json::Map<String, Value>) {
    let at = format!(
        "docs/events.md line {} (under \"## {}\")",
        ex.line,
        ex.heading.as_deref().unwrap_or("no heading")
    );
    let lines: Vec<&str> = ex.text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{at}: an example is one JSON Lines record, on one line"
    );
    let value: Value =
        serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{at}: not JSON: {e}"));
    let Value::Object(map) = value else {
        panic!("{at}: an example must be a JSON object");
    };
    (at, map)
}

fn string_field<'a>(at: &str, map: &'a serde_json::Map<String, Value>, key: &str) -> &'a str {
    map.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{at}: \"{key}\" must be a string"))
}

fn instant_field(at: &str, map: &serde_json::Map<String, Value>, key: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(string_field(at, map, key))
        .unwrap_or_else(|e| panic!("{at}: \"{key}\" must be an RFC 3339 instant: {e}"))
        .with_timezone(&Utc)
}

/// Every example, parsed and checked, with its type name and event.
fn examples() -> Vec<(String, String, Value, EventKind)> {
    let doc = read_doc();
    assert!(
        !doc.examples.is_empty(),
        "docs/events.md has no ```json examples"
    );
    doc.examples
        .iter()
        .map(|ex| {
            let (at, map) = record(ex);
            for key in RECORD_KEYS {
                assert!(map.contains_key(key), "{at}: missing key \"{key}\"");
            }
            for key in map.keys() {
                assert!(
                    RECORD_KEYS.contains(&key.as_str()),
                    "{at}: unknown key \"{key}\" (an import record has {RECORD_KEYS:?})"
                );
            }
            let type_name = string_field(&at, &map, "type").to_string();
            assert!(
                EventKind::TYPE_NAMES.contains(&type_name.as_str()),
                "{at}: unknown event type \"{type_name}\""
            );
            assert_eq!(
                ex.heading.as_deref(),
                Some(type_name.as_str()),
                "{at}: an example belongs in its own type's section"
            );
            // Facts about the service (incidents, clinical cover, …) have no person.
            let service = matches!(
                type_name.as_str(),
                "incident_recorded"
                    | "learning_action_recorded"
                    | "death_review_recorded"
                    | "clinical_cover_recorded"
                    | "survey_code_issued"
                    | "survey_response_recorded"
                    | "staff_recorded"
                    | "trainee_signed_off"
                    | "competence_recorded"
                    | "training_recorded"
                    | "training_needs_analysis_recorded"
                    | "vacancy_recorded"
                    | "meeting_attended"
                    | "feedback_recorded"
                    | "involvement_recorded"
                    | "activity_recorded"
                    | "commissioner_issue_recorded"
                    | "subcontractor_recorded"
                    | "obligation_completed"
                    | "return_submitted"
                    | "information_request_made"
                    | "information_request_decided"
                    | "report_narrative_recorded"
            );
            if service {
                assert!(
                    map.get("person") == Some(&Value::Null),
                    "{at}: a fact about the service has \"person\": null"
                );
            } else {
                let person = string_field(&at, &map, "person");
                assert!(
                    PersonId::parse(person).is_some(),
                    "{at}: \"person\" must be a UUID"
                );
            }
            EstablishmentCode::parse(string_field(&at, &map, "establishment"))
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            StaffUsername::parse(string_field(&at, &map, "recorded_by"))
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            let occurred_at = instant_field(&at, &map, "occurred_at");
            let recorded_at = instant_field(&at, &map, "recorded_at");
            assert!(
                recorded_at >= occurred_at,
                "{at}: recorded_at should not be before occurred_at"
            );
            let payload = map
                .get("payload")
                .cloned()
                .unwrap_or_else(|| panic!("{at}: missing payload"));
            assert!(payload.is_object(), "{at}: \"payload\" must be an object");
            let kind = EventKind::from_parts(&type_name, &payload.to_string())
                .unwrap_or_else(|e| panic!("{at}: the domain cannot parse the payload: {e}"));
            assert_eq!(kind.type_name(), type_name, "{at}: parsed as another type");
            // A fact with a date in its payload happens on that date: an occurred_at
            // on another day would be replaced by midday of the payload's date.
            if let Some(d) = payload_date(&kind) {
                assert_eq!(
                    local_date(occurred_at),
                    d,
                    "{at}: occurred_at falls on another day than the payload's date"
                );
            }
            (at, type_name, payload, kind)
        })
        .collect()
}

#[test]
fn every_type_has_a_section() {
    let doc = read_doc();
    for name in EventKind::TYPE_NAMES {
        let count = doc.headings.iter().filter(|h| *h == name).count();
        assert_eq!(
            count, 1,
            "docs/events.md needs exactly one \"## {name}\" heading (found {count})"
        );
    }
}

#[test]
fn every_example_is_a_valid_import_record() {
    // `examples` asserts everything as it parses.
    let all = examples();
    assert!(!all.is_empty());
}

#[test]
fn every_type_has_exactly_one_example() {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, type_name, _, _) in examples() {
        *counts.entry(type_name).or_default() += 1;
    }
    for name in EventKind::TYPE_NAMES {
        let n = counts.get(name).copied().unwrap_or(0);
        assert_eq!(n, 1, "\"{name}\" needs exactly one example (found {n})");
    }
}

#[test]
fn every_example_payload_round_trips() {
    for (at, _, payload, kind) in examples() {
        let written: Value = serde_json::from_str(&kind.payload_json())
            .unwrap_or_else(|e| panic!("{at}: payload_json is not JSON: {e}"));
        assert_eq!(
            written, payload,
            "{at}: the domain writes this payload back differently (an identifier not in \
             its normalised form, or an optional field left out that is written as null?)"
        );
    }
}

#[test]
fn the_reader_finds_headings_and_json_blocks_only() {
    let doc = parse_doc(
        "# Title\n## a\n```json\n{\"x\":1}\n```\n```text\n## not a heading\n```\n## b\n````json\n{}\n````\n",
    );
    assert_eq!(doc.headings, ["a", "b"]);
    assert_eq!(doc.examples.len(), 2);
    assert_eq!(doc.examples[0].heading.as_deref(), Some("a"));
    assert_eq!(doc.examples[0].text, "{\"x\":1}\n");
    assert_eq!(doc.examples[1].heading.as_deref(), Some("b"));
}
