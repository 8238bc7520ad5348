//! Arbitrary bytes through the inbound cutter and parser: no panic, clean output.
//! The same body runs as a property test in `tests/protocol_props.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    brigade::protocol::invariants::check_inbound(data);
});
