//! Arbitrary bytes as a peer's whole side of an encrypted connection (raw, and behind
//! a valid preamble): the responder refuses them without panicking. The same body runs
//! as a property test in `tests/secure_props.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    brigade::secure::invariants::check_handshake(data);
});
