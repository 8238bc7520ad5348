//! Frames: a 2-byte big-endian length, then that many bytes (a Noise message). Pure:
//! bytes in, frames or an error out, so it can be fuzzed.

/// The largest frame body (Noise's own cap on a message).
pub const MAX_FRAME: usize = 65_535;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A zero length: no Noise message is empty.
    Empty,
    /// Longer than the receiver allows.
    TooLong { len: usize, max: usize },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Empty => f.write_str("empty frame"),
            FrameError::TooLong { len, max } => write!(f, "frame of {len} bytes (most {max})"),
        }
    }
}

/// Cuts a byte stream into frames of at most `max` bytes. Never holds more than one
/// frame and its length prefix.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max: usize,
}

impl Framer {
    pub fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max: max.min(MAX_FRAME),
        }
    }

    /// How many more bytes the next frame needs (so a reader never reads past it).
    pub fn wanted(&self) -> usize {
        match self.buf.len() {
            n if n < 2 => 2 - n,
            n => 2 + self.len_prefix() - n,
        }
    }

    fn len_prefix(&self) -> usize {
        usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]))
    }

    /// Takes bytes (at most [`Framer::wanted`] of them); returns a whole frame when one
    /// is complete, or an error as soon as the length prefix is known to be bad.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, FrameError> {
        debug_assert!(bytes.len() <= self.wanted());
        self.buf.extend_from_slice(bytes);
        if self.buf.len() < 2 {
            return Ok(None);
        }
        let len = self.len_prefix();
        if len == 0 {
            return Err(FrameError::Empty);
        }
        if len > self.max {
            return Err(FrameError::TooLong { len, max: self.max });
        }
        if self.buf.len() < 2 + len {
            return Ok(None);
        }
        let frame = self.buf.split_off(2);
        self.buf.clear();
        Ok(Some(frame))
    }

    /// Bytes held (a length prefix and part of a frame): never more than `2 + max`.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes of an unfinished frame are waiting (EOF now means a truncated frame).
    pub fn partial(&self) -> bool {
        !self.buf.is_empty()
    }
}

/// A frame on the wire: the length prefix and the body.
pub fn encode(body: &[u8]) -> Vec<u8> {
    assert!(
        !body.is_empty() && body.len() <= MAX_FRAME,
        "frame body out of bounds"
    );
    let mut out = Vec::with_capacity(2 + body.len());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Cuts a whole buffer into frames, feeding the framer as a reader would (for tests
/// and the fuzzing property).
pub fn decode_all(bytes: &[u8], max: usize) -> (Vec<Vec<u8>>, Result<(), FrameError>) {
    let mut framer = Framer::new(max);
    let mut frames = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = framer.wanted().min(rest.len());
        match framer.push(&rest[..n]) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => {}
            Err(e) => return (frames, Err(e)),
        }
        rest = &rest[n..];
    }
    (frames, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_round_trip_and_bad_lengths_are_refused() {
        let wire = [encode(b"abc"), encode(&[7; 300])].concat();
        let (frames, end) = decode_all(&wire, 1000);
        assert_eq!(frames, vec![b"abc".to_vec(), vec![7; 300]]);
        assert_eq!(end, Ok(()));
        assert_eq!(decode_all(&[0, 0, 1], 1000).1, Err(FrameError::Empty));
        let long = decode_all(&encode(&[1; 1001]), 1000).1;
        assert_eq!(
            long,
            Err(FrameError::TooLong {
                len: 1001,
                max: 1000
            })
        );
    }

    #[test]
    fn a_truncated_frame_is_partial() {
        let wire = encode(b"hello");
        let mut framer = Framer::new(100);
        assert_eq!(framer.push(&wire[..2]), Ok(None));
        assert_eq!(framer.wanted(), 5);
        assert_eq!(framer.push(&wire[2..4]), Ok(None));
        assert!(framer.partial());
        assert_eq!(framer.wanted(), 3);
    }

    proptest! {
        // The fuzzing property of the parser: arbitrary bytes never panic, never yield
        // a frame out of bounds, and every byte is accounted for.
        #[test]
        fn arbitrary_bytes_never_panic_or_overflow(bytes in proptest::collection::vec(any::<u8>(), 0..600), max in 1usize..300) {
            let (frames, end) = decode_all(&bytes, max);
            let used: usize = frames.iter().map(|f| f.len() + 2).sum();
            prop_assert!(used <= bytes.len());
            prop_assert!(frames.iter().all(|f| !f.is_empty() && f.len() <= max));
            if end.is_ok() {
                // Only a partial frame may remain.
                prop_assert!(bytes.len() - used < 2 + max);
            }
        }

        #[test]
        fn encoded_frames_decode_to_themselves(bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 0..8)) {
            let wire: Vec<u8> = bodies.iter().flat_map(|b| encode(b)).collect();
            let (frames, end) = decode_all(&wire, 200);
            prop_assert_eq!(end, Ok(()));
            prop_assert_eq!(frames, bodies);
        }
    }
}
