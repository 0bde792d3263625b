//! `throughcare import outcomes FILE.csv`: outcomes after release from other
//! agencies' records — further offences (KPIs 3.4–3.5) and deaths (KPI 3.7) — as a
//! CSV feed. The format is documented in `docs/imports.md`.
//!
//! The feed runs through the same three passes as the movements and drug-test
//! feeds (`imports`): every row is parsed, then decided by the domain against the
//! person's case plus the file's earlier rows, and only then recorded — all of
//! them, or, when a row is bad, none unless bad rows are skipped (each skipped row
//! reported with its line, column and problem). This module reads a row; the passes
//! are `imports::import`'s.
//!
//! Each row records a `reoffence_recorded` or a `death_recorded` whose `source` is
//! `import: <source_ref>`, at the person's own establishment now (where they are
//! held, or were last held), by the feed's user. A row already applied is
//! recognised by that source and left alone, so importing a file again records
//! nothing new. Whether the outcome may be recorded (after release; never a
//! reoffence after release from the immigration removal centre, KM 2.1 note 1; one
//! death) is the domain's `decide`.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, Utc};
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::StaffUsername;
use throughcare_domain::release::{Death, DeathCause, Reoffence};
use throughcare_domain::time::local_midday;

use crate::imports::{Cells, Feed, ImportError, ImportReport, Row, cut, date, one_of};
use crate::recording::Recorder;

/// The columns of an outcomes file, in the documented order.
pub const COLUMNS: [&str; 5] = ["source_ref", "prison_number", "kind", "date", "cause"];

/// The user outcomes are recorded as unless the command line names another, after
/// the feed (as the demo's feeds are `feed.movements` and `feed.drug-tests`).
pub const FEED_USER: &str = "feed.outcomes";

/// How an imported outcome's `source` begins; the row's `source_ref` follows.
const SOURCE_PREFIX: &str = "import: ";

/// Imports an outcomes file: every row, or — when a row is bad — nothing, unless
/// `skip_bad_rows`, in which case the good rows are applied and every bad row is
/// reported in [`ImportReport::skipped`]. Events are recorded as `by` at `now`.
pub fn import(
    recorder: &Recorder<'_>,
    reader: impl Read,
    by: &StaffUsername,
    now: DateTime<Utc>,
    skip_bad_rows: bool,
) -> Result<ImportReport, ImportError> {
    crate::imports::import(recorder, Feed::Outcomes, reader, by, now, skip_bad_rows)
}

/// The `source_ref` of an outcome this feed recorded, read from the event's
/// `source`; `None` for an outcome recorded otherwise.
pub(crate) fn source_ref(source: &Option<String>) -> Option<&str> {
    source.as_deref()?.strip_prefix(SOURCE_PREFIX)
}

#[derive(Clone, Copy)]
enum OutcomeKind {
    Reoffence,
    Death,
}

/// Reads one row of an outcomes file, noting every problem with its columns.
pub(crate) fn outcome(c: &mut Cells<'_>, seen: &mut HashMap<String, u64>) -> Option<Row> {
    let id = c.source_id(Feed::Outcomes, seen);
    let prison_number = c.prison_number();
    let kind = c.required(
        "kind",
        "Enter the kind of outcome: reoffence or death",
        |s| {
            one_of(
                s,
                "the kind",
                &[
                    ("reoffence", OutcomeKind::Reoffence),
                    ("death", OutcomeKind::Death),
                ],
            )
        },
    );
    let on = c.required(
        "date",
        "Enter the date of the offence or death, like 2026-03-14",
        date,
    );
    let codes: Vec<&str> = DeathCause::ALL.iter().map(|x| x.code()).collect();
    let cause = match kind {
        Some(OutcomeKind::Death) => c
            .required(
                "cause",
                &format!("Enter the cause of death: {}", codes.join(", ")),
                |s| {
                    DeathCause::from_code(&s.to_ascii_lowercase()).ok_or_else(|| {
                        format!(
                            "the cause must be one of {} (got {:?})",
                            codes.join(", "),
                            cut(s)
                        )
                    })
                },
            )
            .map(Some),
        Some(OutcomeKind::Reoffence) => match c.text("cause")? {
            None => Some(None),
            Some(_) => {
                c.problem(
                    "cause",
                    "only a death has a cause: leave cause empty for a reoffence",
                );
                None
            }
        },
        None => None,
    };
    let (id, prison_number, kind, on, cause) = (id?, prison_number?, kind?, on?, cause?);
    let source = Some(format!("{SOURCE_PREFIX}{id}"));
    let kind = match (kind, cause) {
        (OutcomeKind::Death, Some(cause)) => EventKind::DeathRecorded(Death {
            died_on: on,
            cause,
            source,
        }),
        (OutcomeKind::Death, None) => return None,
        (OutcomeKind::Reoffence, _) => EventKind::ReoffenceRecorded(Reoffence {
            offended_on: on,
            source,
        }),
    };
    Some(Row {
        line: c.line,
        source_ref: id,
        prison_number,
        // Recorded at the person's own establishment, found when the row is checked.
        establishment: None,
        // The domain dates the outcome at midday on its date.
        occurred_at: None,
        order: local_midday(on),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::RowProblem;
    use crate::recording::load_case;
    use chrono::NaiveDate;
    use throughcare_domain::calendar::Calendar;
    use throughcare_domain::case::Case;
    use throughcare_domain::custody::{Reception, ReceptionType, Release, ReleaseKind};
    use throughcare_domain::decide::Command;
    use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber};
    use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
    use throughcare_domain::profile::Profile;
    use throughcare_domain::record_ids::{PersonId, RandomIds};
    use throughcare_domain::time::parse_instant;
    use throughcare_store::{SqliteStore, Store};

    const HEADER: &str = "source_ref,prison_number,kind,date,cause";

    struct Fixture {
        _dir: tempfile::TempDir,
        store: SqliteStore,
        profile: Profile,
        calendar: Calendar,
        feed: StaffUsername,
        now: DateTime<Utc>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let profile = Profile::builtin("kent-medway").unwrap();
        let calendar = profile.calendar();
        let path = dir.path().join("throughcare.db");
        let store = SqliteStore::open(path.to_str().unwrap(), &profile).unwrap();
        Fixture {
            _dir: dir,
            store,
            profile,
            calendar,
            feed: StaffUsername::parse(FEED_USER).unwrap(),
            now: parse_instant("2026-11-20T10:00:00Z").unwrap(),
        }
    }

    fn code(s: &str) -> EstablishmentCode {
        EstablishmentCode::parse(s).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    impl Fixture {
        fn recorder(&self) -> Recorder<'_> {
            Recorder {
                store: &self.store,
                profile: &self.profile,
                calendar: &self.calendar,
            }
        }

        fn record(&self, person: PersonId, at: &str, establishment: &str, kind: EventKind) {
            self.recorder()
                .record(
                    &throughcare_domain::access::Author::system(
                        StaffUsername::parse("worker.one").unwrap(),
                    ),
                    &code(establishment),
                    person,
                    Command::Record {
                        occurred_at: Some(parse_instant(at).unwrap()),
                        recorded_at: None,
                        kind,
                    },
                    self.now,
                    &mut RandomIds,
                    None,
                )
                .unwrap();
        }

        /// A synthetic person registered and received at `establishment`.
        fn received(&self, prison_number: &str, establishment: &str) -> PersonId {
            let person = PersonId(uuid::Uuid::new_v4());
            self.record(
                person,
                "2026-01-05T09:00:00Z",
                establishment,
                EventKind::PersonRegistered(PersonDetails {
                    prison_number: PrisonNumber::parse(prison_number).unwrap(),
                    given_name: "Testy".into(),
                    family_name: "Example".into(),
                    date_of_birth: day("1990-04-01"),
                    home_postcode: None,
                    equality: EqualityMonitoring::default(),
                    priority: RecordedPriorityFlags::default(),
                }),
            );
            self.record(
                person,
                "2026-01-05T10:00:00Z",
                establishment,
                EventKind::Received(Reception {
                    reception_type: ReceptionType::Sentenced,
                    source_ref: None,
                }),
            );
            person
        }

        /// A synthetic person received at `establishment` and released from it on
        /// 2 March 2026.
        fn released(&self, prison_number: &str, establishment: &str) -> PersonId {
            let person = self.received(prison_number, establishment);
            self.record(
                person,
                "2026-03-02T10:00:00Z",
                establishment,
                EventKind::Released(Release {
                    kind: ReleaseKind::Released,
                    source_ref: None,
                }),
            );
            person
        }

        fn import(&self, rows: &[&str], skip_bad_rows: bool) -> Result<ImportReport, ImportError> {
            let mut text = String::from(HEADER);
            for r in rows {
                text.push('\n');
                text.push_str(r);
            }
            text.push('\n');
            import(
                &self.recorder(),
                text.as_bytes(),
                &self.feed,
                self.now,
                skip_bad_rows,
            )
        }

        fn event_count(&self) -> usize {
            self.store.events_after(0, usize::MAX).unwrap().len()
        }

        fn case(&self, person: PersonId) -> Case {
            load_case(&self.store, person).unwrap().0
        }
    }

    fn rejected(r: Result<ImportReport, ImportError>) -> Vec<RowProblem> {
        match r {
            Err(ImportError::Rejected(p)) => p,
            other => panic!("expected the file to be rejected, got {other:?}"),
        }
    }

    fn problem(line: u64, field: &str, text: &str) -> RowProblem {
        RowProblem {
            line,
            field: field.into(),
            problem: text.into(),
        }
    }

    const GOOD: [&str; 2] = [
        "PNC-1,A1234BC,reoffence,2026-04-01,",
        "CO-2,C3456DE,Death,2026-05-10,drug_related",
    ];

    #[test]
    fn a_good_file_records_each_outcome_at_the_persons_establishment_by_the_feed() {
        let f = fixture();
        let a = f.released("A1234BC", "MDI");
        let c = f.released("C3456DE", "EYI");
        let report = f.import(&GOOD, false).unwrap();
        assert_eq!(
            report,
            ImportReport {
                rows: 2,
                applied: 2,
                already_applied: 0,
                skipped: vec![]
            }
        );
        let case = f.case(a);
        assert_eq!(
            case.reoffences
                .iter()
                .map(|(_, r)| r.clone())
                .collect::<Vec<_>>(),
            [Reoffence {
                offended_on: day("2026-04-01"),
                source: Some("import: PNC-1".into()),
            }]
        );
        let event = case
            .history
            .iter()
            .find(|e| matches!(e.kind, EventKind::ReoffenceRecorded(_)))
            .unwrap();
        assert_eq!(event.establishment, code("MDI"));
        assert_eq!(event.recorded_by.as_str(), "feed.outcomes");
        // Midday in British Summer Time.
        assert_eq!(
            event.occurred_at,
            parse_instant("2026-04-01T11:00:00Z").unwrap()
        );
        let case = f.case(c);
        assert_eq!(
            case.deaths
                .iter()
                .map(|(_, d)| d.clone())
                .collect::<Vec<_>>(),
            [Death {
                died_on: day("2026-05-10"),
                cause: DeathCause::DrugRelated,
                source: Some("import: CO-2".into()),
            }]
        );
        assert_eq!(case.history.last().unwrap().establishment, code("EYI"));
    }

    #[test]
    fn importing_the_same_file_twice_records_nothing_new() {
        let f = fixture();
        f.released("A1234BC", "MDI");
        f.released("C3456DE", "EYI");
        f.import(&GOOD, false).unwrap();
        let count = f.event_count();
        let again = f.import(&GOOD, false).unwrap();
        assert_eq!((again.applied, again.already_applied), (0, 2));
        assert_eq!(f.event_count(), count);
        // A later file repeating one row records only the new one.
        let later = f
            .import(&[GOOD[0], "PNC-3,A1234BC,reoffence,2026-06-01,"], false)
            .unwrap();
        assert_eq!((later.applied, later.already_applied), (1, 1));
    }

    #[test]
    fn one_bad_row_applies_nothing_and_every_problem_names_its_line_and_column() {
        let f = fixture();
        f.released("A1234BC", "MDI");
        f.released("C3456DE", "EYI");
        let count = f.event_count();
        let problems = rejected(f.import(
            &[
                GOOD[0],
                "X-2,C3456DE,arrest,2026-05-10,",
                "X-3,C3456DE,death,2026-05-10,overdose",
                "X-4,A1234BC,reoffence,2026-05-10,drug_related",
                "X-5,Z9999ZZ,reoffence,2026-05-10,",
                "X-6,C3456DE,death,2026-05-10,",
                "X-7,C3456DE,reoffence,2026-02-01,",
            ],
            false,
        ));
        assert_eq!(f.event_count(), count, "nothing is applied");
        assert_eq!(
            problems,
            [
                problem(
                    3,
                    "kind",
                    "the kind must be one of reoffence, death (got \"arrest\")"
                ),
                problem(
                    4,
                    "cause",
                    "the cause must be one of drug_related, alcohol_related, drug_and_alcohol_related, not_related, not_known (got \"overdose\")"
                ),
                problem(
                    5,
                    "cause",
                    "only a death has a cause: leave cause empty for a reoffence"
                ),
                problem(
                    6,
                    "prison_number",
                    "prison number Z9999ZZ is not registered: register the person first"
                ),
                problem(
                    7,
                    "cause",
                    "Enter the cause of death: drug_related, alcohol_related, drug_and_alcohol_related, not_related, not_known"
                ),
                problem(
                    8,
                    "date",
                    "The offence must be on or after the release (2 March 2026)"
                ),
            ]
        );
    }

    #[test]
    fn skipping_bad_rows_applies_the_rest_and_reports_each_skipped_row() {
        let f = fixture();
        let a = f.released("A1234BC", "MDI");
        f.released("C3456DE", "EYI");
        let report = f
            .import(&[GOOD[0], "X-2,C3456DE,death,2099-01-01,not_known"], true)
            .unwrap();
        assert_eq!((report.rows, report.applied), (2, 1));
        assert_eq!(
            report.skipped,
            [problem(3, "date", "The date must be today or in the past")]
        );
        assert_eq!(report.skipped_rows(), 1);
        assert_eq!(f.case(a).reoffences.len(), 1);
    }

    #[test]
    fn a_reoffence_after_release_from_the_irc_is_refused_with_the_domains_message() {
        let f = fixture();
        f.released("B2345CD", "DVI");
        let problems = rejected(f.import(&["R-1,B2345CD,reoffence,2026-04-01,"], false));
        assert_eq!(
            problems,
            [problem(
                2,
                "row",
                "Reoffending is not an outcome for people released from IRC Dover (KM 2.1 note 1)"
            )]
        );
        // A death there is an outcome like any other.
        let report = f
            .import(&["D-1,B2345CD,death,2026-04-01,not_known"], false)
            .unwrap();
        assert_eq!(report.applied, 1);
    }

    #[test]
    fn a_second_death_is_refused_by_the_domain_and_a_reoffence_before_any_release_too() {
        let f = fixture();
        f.released("A1234BC", "MDI");
        f.received("C3456DE", "CBI");
        let problems = rejected(f.import(
            &[
                "D-1,A1234BC,death,2026-04-01,not_known",
                "D-2,A1234BC,death,2026-04-02,not_known",
                "R-3,C3456DE,reoffence,2026-04-02,",
            ],
            false,
        ));
        assert_eq!(
            problems,
            [
                problem(3, "date", "A death is already recorded: correct it instead"),
                problem(
                    4,
                    "date",
                    "The person has not been released: reoffending is recorded after release"
                ),
            ]
        );
    }

    /// Mangled input never panics, and a rejected file never writes anything.
    #[test]
    fn mangled_input_never_panics() {
        let f = fixture();
        f.released("A1234BC", "MDI");
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = format!(
            "{HEADER}\n{}\nCO-2,A1234BC,death,2026-05-10,not_known\n",
            GOOD[0]
        );
        let alphabet = b",\"\n\r;:- \xff\xc3AZaz09";
        for _ in 0..200 {
            let mut text = base.clone().into_bytes();
            for _ in 0..(next() % 6 + 1) {
                let at = (next() as usize) % text.len().max(1);
                let byte = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 if at < text.len() => text[at] = byte,
                    _ => text.insert(at.min(text.len()), byte),
                }
            }
            let before = f.event_count();
            if import(&f.recorder(), text.as_slice(), &f.feed, f.now, false).is_err() {
                assert_eq!(f.event_count(), before, "a rejected file wrote events");
            }
        }
    }

    #[test]
    fn the_documented_example_file_imports_cleanly() {
        let f = fixture();
        for prison_number in ["A1234BC", "B2345CD", "C3456DE"] {
            let person = PersonId(uuid::Uuid::new_v4());
            f.record(
                person,
                "2026-01-05T09:00:00Z",
                "MDI",
                EventKind::PersonRegistered(PersonDetails {
                    prison_number: PrisonNumber::parse(prison_number).unwrap(),
                    given_name: "Testy".into(),
                    family_name: "Example".into(),
                    date_of_birth: day("1990-04-01"),
                    home_postcode: None,
                    equality: EqualityMonitoring::default(),
                    priority: RecordedPriorityFlags::default(),
                }),
            );
        }
        let by = StaffUsername::parse("feed.movements").unwrap();
        let movements = crate::imports::import(
            &f.recorder(),
            Feed::Movements,
            &include_bytes!("../../../docs/examples/movements.csv")[..],
            &by,
            f.now,
            false,
        )
        .unwrap();
        assert!(movements.skipped.is_empty(), "{movements:?}");
        let report = import(
            &f.recorder(),
            &include_bytes!("../../../docs/examples/outcomes.csv")[..],
            &f.feed,
            f.now,
            false,
        )
        .unwrap();
        assert!(
            report.applied > 0 && report.skipped.is_empty(),
            "{report:?}"
        );
    }
}
