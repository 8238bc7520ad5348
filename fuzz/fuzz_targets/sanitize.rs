//! Arbitrary text through the sanitizer: nothing forbidden left, idempotent.
//! The same body runs as a property test in `tests/protocol_props.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        brigade::protocol::invariants::check_sanitize(text);
    }
});
