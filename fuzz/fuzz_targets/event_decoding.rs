//! Fuzzes event decoding: a stored type name and payload text (as read back from a
//! database or a backup) must decode or give an error, never panic; and what
//! decodes must re-encode to a payload that decodes to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use throughcare_domain::events::EventKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first character picks the event type; the rest is the payload text.
    let mut chars = text.chars();
    let selector = chars.next().map_or(0, |c| c as usize);
    let payload = chars.as_str();
    let type_name = EventKind::TYPE_NAMES[selector % EventKind::TYPE_NAMES.len()];
    if let Ok(kind) = EventKind::from_parts(type_name, payload) {
        let again = EventKind::from_parts(kind.type_name(), &kind.payload_json()).expect("a decoded event re-decodes");
        assert_eq!(again, kind);
    }
});
