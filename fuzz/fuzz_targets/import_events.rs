//! Fuzzes `throughcare import events` (JSON Lines of events): any bytes give a
//! report or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common {
    include!("common.rs");
}

fuzz_target!(|data: &[u8]| {
    let (store, profile, calendar) = common::store_with_person();
    let recorder = throughcare::recording::Recorder { store: &store, profile: &profile, calendar: &calendar };
    let mut ids = throughcare_domain::record_ids::SequentialIds::new(9);
    let _ = throughcare::events_import::import_events(&recorder, data, chrono::Utc::now(), &mut ids, true);
});
