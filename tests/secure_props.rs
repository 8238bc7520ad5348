//! Property tests of the encrypted path's input (issue 16): arbitrary, truncated and
//! oversized frames and handshakes are refused with an error, never a panic, and the
//! framer never holds more than one frame. The same bodies are the cargo-fuzz targets
//! `frames` and `handshake` (`fuzz/`, see docs/TESTING.md).

use brigade::secure::frame::{MAX_FRAME, encode};
use brigade::secure::invariants::{check_frames, check_handshake};
use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_bytes_through_the_framer(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        max in prop_oneof![1usize..64, Just(1000), Just(MAX_FRAME), Just(usize::MAX)],
    ) {
        check_frames(&data, max);
    }

    /// Well-formed frames, some cut short, some longer than allowed, and a zero length.
    #[test]
    fn truncated_and_oversized_frames(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..6),
        cut in any::<prop::sample::Index>(),
        max in 1usize..300,
        zero in any::<bool>(),
    ) {
        let mut wire: Vec<u8> = bodies.iter().flat_map(|b| encode(b)).collect();
        if zero {
            wire.extend([0, 0, 1]);
        }
        check_frames(&wire, max);
        check_frames(&wire[..cut.index(wire.len())], max);
    }

    #[test]
    fn arbitrary_handshakes_are_refused(
        data in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        check_handshake(&data);
    }

    /// Handshake-shaped input: valid frame lengths around random Noise messages.
    #[test]
    fn framed_garbage_handshakes_are_refused(
        messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 0..4),
    ) {
        let wire: Vec<u8> = messages.iter().flat_map(|m| encode(m)).collect();
        check_handshake(&wire);
    }
}
