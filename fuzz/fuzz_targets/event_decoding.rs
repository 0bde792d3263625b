//! Fuzzes event decoding: a stored type name and payload text (as read back from a
//! database or a backup) must decode or give an error, never panic; and what
//! decodes must re-encode to a payload that decodes to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use throughcare_domain::events::EventKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (selector, payload) = text.split_at(text.len().min(1));
    let type_name = EventKind::TYPE_NAMES[selector.bytes().next().map_or(0, usize::from) % EventKind::TYPE_NAMES.len()];
    if let Ok(kind) = EventKind::from_parts(type_name, payload) {
        let again = EventKind::from_parts(kind.type_name(), &kind.payload_json()).expect("a decoded event re-decodes");
        assert_eq!(again, kind);
    }
});
