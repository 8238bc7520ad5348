//! Arbitrary bytes through the encrypted connection's framer, at the limit the
//! channel uses and at a small one. The same body runs as a property test in
//! `tests/secure_props.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let max = data.first().map_or(1, |b| usize::from(*b) + 1);
    brigade::secure::invariants::check_frames(data, max);
    brigade::secure::invariants::check_frames(data, brigade::secure::MAX_FRAME);
});
