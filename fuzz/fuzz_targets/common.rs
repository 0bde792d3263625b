// Shared by the importer targets: a fresh in-memory store with one synthetic person
// (prison number A1234BC) received at MDI.
use throughcare_domain::calendar::Calendar;
use throughcare_domain::decide::Command;
use throughcare_domain::events::EventKind;
use throughcare_domain::identifiers::{EstablishmentCode, PrisonNumber, StaffUsername};
use throughcare_domain::people::{EqualityMonitoring, PersonDetails, RecordedPriorityFlags};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::{PersonId, SequentialIds};
use throughcare_store::SqliteStore;

pub fn store_with_person() -> (SqliteStore, Profile, Calendar) {
    let profile = Profile::builtin("kent-medway").unwrap();
    let calendar = profile.calendar();
    let store = SqliteStore::open(":memory:", &profile).unwrap();
    let recorder = throughcare::recording::Recorder { store: &store, profile: &profile, calendar: &calendar };
    let by = StaffUsername::parse("fuzz.setup").unwrap();
    let mdi = EstablishmentCode::parse("MDI").unwrap();
    let person = PersonId(uuid::Uuid::from_u64_pair(1, 1));
    let details = PersonDetails {
        prison_number: PrisonNumber::parse("A1234BC").unwrap(),
        given_name: "Fuzz".into(),
        family_name: "Example".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        home_postcode: None,
        equality: EqualityMonitoring::default(),
        priority: RecordedPriorityFlags::default(),
    };
    let mut ids = SequentialIds::new(1);
    recorder
        .record(&by, &mdi, person, Command::Record { occurred_at: None, recorded_at: None, kind: EventKind::PersonRegistered(details) }, chrono::Utc::now(), &mut ids, None)
        .unwrap();
    (store, profile, calendar)
}

