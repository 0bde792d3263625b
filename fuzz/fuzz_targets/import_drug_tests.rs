//! Fuzzes the drug-tests CSV importer: any bytes must give a report or a clear
//! error, never a panic. Each input goes into a fresh in-memory SQLite store holding
//! one registered synthetic person, so rows can get past the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use throughcare::imports::{Feed, import};

mod common {
    include!("common.rs");
}

fuzz_target!(|data: &[u8]| {
    let (store, profile, calendar) = common::store_with_person();
    let recorder = throughcare::recording::Recorder { store: &store, profile: &profile, calendar: &calendar };
    let by = throughcare_domain::identifiers::StaffUsername::parse("feed.fuzz").unwrap();
    let _ = import(&recorder, Feed::DrugTests, data, &by, chrono::Utc::now(), data.first().is_some_and(|b| b % 2 == 0));
});
