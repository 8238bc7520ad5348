//! Invariants of the encrypted path's input, as functions that panic when one is
//! broken. The property tests (`tests/secure_props.rs`) and the cargo-fuzz targets
//! (`fuzz/fuzz_targets/frames.rs`, `handshake.rs`) run the same bodies, so a fuzz
//! finding is a plain test case too.

use tokio::io::AsyncWriteExt;

use super::channel::{MAGIC, accept};
use super::frame::{Framer, MAX_FRAME, encode};
use super::identity::Keypair;
use crate::event::PublicKey;

/// Arbitrary bytes fed to the framer as a reader feeds it (never more than it wants):
/// every frame is non-empty and at most `max`; the framer never holds more than one
/// frame and its length prefix; a zero or too long prefix is an error at once; what is
/// left at the end is a partial frame shorter than a whole one.
pub fn check_frames(data: &[u8], max: usize) {
    let mut framer = Framer::new(max);
    let max = max.min(MAX_FRAME);
    let mut rest = data;
    let mut used = 0;
    while !rest.is_empty() {
        let n = framer.wanted().min(rest.len());
        assert!(n > 0, "the framer wants nothing but has no frame");
        let pushed = framer.push(&rest[..n]);
        assert!(
            framer.buffered() <= 2 + max,
            "the framer holds {} bytes (most {})",
            framer.buffered(),
            2 + max
        );
        rest = &rest[n..];
        match pushed {
            Ok(Some(frame)) => {
                assert!(
                    !frame.is_empty() && frame.len() <= max,
                    "frame out of bounds"
                );
                assert_eq!(
                    encode(&frame)[..],
                    data[used..used + 2 + frame.len()],
                    "a frame is not the bytes it came from"
                );
                used += 2 + frame.len();
            }
            Ok(None) => {}
            Err(_) => {
                let prefix = usize::from(u16::from_be_bytes([data[used], data[used + 1]]));
                assert!(
                    prefix == 0 || prefix > max,
                    "refused a good length {prefix}"
                );
                return;
            }
        }
    }
    assert_eq!(
        framer.partial(),
        used < data.len(),
        "leftover bytes unaccounted"
    );
    assert!(
        data.len() - used < 2 + max,
        "a whole frame was left undecoded"
    );
}

/// Arbitrary bytes as everything a peer sends once the listener routed its connection
/// to the encrypted path (both raw and behind a valid preamble, so the handshake itself
/// is reached): the responder refuses with an error and gives no channel; it never
/// panics, never waits for more than the peer sent.
pub fn check_handshake(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // Only the private key matters to the responder.
    let keys = Keypair {
        private: [7; 32],
        public: PublicKey([0; 32]),
    };
    let pattern = if data.first().is_some_and(|b| b % 2 == 0) {
        b'X'
    } else {
        b'K'
    };
    let behind_preamble = [&MAGIC[..], &[1, pattern], data].concat();
    for input in [data, &behind_preamble[..]] {
        runtime.block_on(async {
            let (mut peer, ours) = tokio::io::duplex(input.len().max(1) + MAX_FRAME + 2);
            peer.write_all(input).await.expect("the pipe holds it all");
            peer.shutdown().await.expect("half-close");
            let got = accept(ours, &keys).await;
            assert!(
                got.is_err(),
                "a channel from {} arbitrary bytes",
                input.len()
            );
        });
    }
}
