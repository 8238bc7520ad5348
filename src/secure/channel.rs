//! The Noise channel over one TCP connection (docs/PROTOCOL.md, "Encrypted
//! connections"): the preamble, the handshake (XX when the initiator does not know the
//! responder's key, IK when it does), then encrypted frames.

use std::io::{Error, ErrorKind};
use std::time::Duration;

use snow::{HandshakeState, TransportState};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::frame::{Framer, MAX_FRAME, encode};
use super::identity::Keypair;
use crate::event::PublicKey;

/// What an encrypted connection begins with. A classic text never begins with a NUL
/// byte (its header begins with a digit, `<`, `@`, `[` or `LISTENING_PORT:`, and a
/// headerless text is printable), so the first byte alone routes a connection.
pub const MAGIC: &[u8; 8] = b"\0brigade";
/// The protocol version, the byte after [`MAGIC`].
pub const VERSION: u8 = 1;
/// The handshake pattern byte: `X` for XX, `K` for IK.
pub const PATTERN_XX: u8 = b'X';
pub const PATTERN_IK: u8 = b'K';
/// Magic, version, pattern.
pub const PREAMBLE_LEN: usize = MAGIC.len() + 2;
/// A handshake not finished within this is cut with a reset.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);

/// First byte of a transport plaintext: a message (a classic text follows), or the
/// receipt for the oldest unacknowledged message ("stored").
pub const KIND_MESSAGE: u8 = b'M';
pub const KIND_RECEIPT: u8 = b'A';

pub(super) fn params(ik: bool) -> snow::params::NoiseParams {
    let name = if ik {
        "Noise_IK_25519_ChaChaPoly_BLAKE2s"
    } else {
        "Noise_XX_25519_ChaChaPoly_BLAKE2s"
    };
    name.parse().expect("a valid Noise protocol name")
}

/// The prologue both sides mix in: it binds the version and the pattern, so a
/// downgrade or a tampered preamble fails the handshake.
fn prologue(pattern: u8) -> Vec<u8> {
    let mut p = b"brigade noise v1 ".to_vec();
    p.push(pattern);
    p
}

fn bad(why: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidData, why.into())
}

fn noise(e: snow::Error) -> Error {
    bad(format!("noise: {e}"))
}

/// An established channel: encrypted frames both ways, and who the other side is.
pub struct Channel<S> {
    stream: S,
    noise: TransportState,
    framer: Framer,
    remote: PublicKey,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Channel<S> {
    /// The other side's long-term key, proven by the handshake.
    pub fn remote(&self) -> PublicKey {
        self.remote
    }

    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Transport messages sent so far on this channel.
    pub fn sent(&self) -> u64 {
        self.noise.sending_nonce()
    }

    /// Encrypts and writes one plaintext (at most `MAX_FRAME - 16` bytes).
    pub async fn send(&mut self, plaintext: &[u8]) -> std::io::Result<()> {
        let mut buf = vec![0u8; plaintext.len() + 16];
        let n = self
            .noise
            .write_message(plaintext, &mut buf)
            .map_err(noise)?;
        self.stream.write_all(&encode(&buf[..n])).await?;
        self.stream.flush().await
    }

    /// Reads and decrypts one frame; `None` at a clean end between frames.
    pub async fn recv(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let Some(frame) = read_frame(&mut self.stream, &mut self.framer).await? else {
            return Ok(None);
        };
        let mut out = vec![0u8; frame.len()];
        let n = self.noise.read_message(&frame, &mut out).map_err(noise)?;
        out.truncate(n);
        Ok(Some(out))
    }

    /// Half-closes the write side (no more messages).
    pub async fn finish(&mut self) -> std::io::Result<()> {
        self.stream.shutdown().await
    }
}

async fn read_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    framer: &mut Framer,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut chunk = vec![0u8; 4096];
    loop {
        let want = framer.wanted().min(chunk.len());
        let n = stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return if framer.partial() {
                Err(Error::new(ErrorKind::UnexpectedEof, "truncated frame"))
            } else {
                Ok(None)
            };
        }
        if let Some(frame) = framer.push(&chunk[..n]).map_err(|e| bad(e.to_string()))? {
            return Ok(Some(frame));
        }
    }
}

async fn write_hs<S: AsyncWrite + Unpin>(
    stream: &mut S,
    hs: &mut HandshakeState,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; MAX_FRAME];
    let n = hs.write_message(&[], &mut buf).map_err(noise)?;
    stream.write_all(&encode(&buf[..n])).await?;
    stream.flush().await
}

async fn read_hs<S: AsyncRead + Unpin>(
    stream: &mut S,
    framer: &mut Framer,
    hs: &mut HandshakeState,
) -> std::io::Result<()> {
    let frame = read_frame(stream, framer)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UnexpectedEof, "handshake cut short"))?;
    let mut payload = vec![0u8; frame.len()];
    let n = hs.read_message(&frame, &mut payload).map_err(noise)?;
    if n != 0 {
        return Err(bad("handshake payload must be empty"));
    }
    Ok(())
}

fn finish<S>(stream: S, hs: HandshakeState, framer: Framer) -> std::io::Result<Channel<S>> {
    let remote = hs
        .get_remote_static()
        .and_then(PublicKey::from_slice)
        .ok_or_else(|| bad("no remote static key"))?;
    let noise = hs.into_transport_mode().map_err(noise)?;
    Ok(Channel {
        stream,
        noise,
        framer,
        remote,
    })
}

/// Opens a channel as the initiator: IK when `remote` is the responder's known key
/// (the handshake fails unless the responder holds it), else XX.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    keys: &Keypair,
    remote: Option<PublicKey>,
) -> std::io::Result<Channel<S>> {
    let pattern = if remote.is_some() {
        PATTERN_IK
    } else {
        PATTERN_XX
    };
    let prologue = prologue(pattern);
    let mut builder = snow::Builder::new(params(remote.is_some()))
        .local_private_key(&keys.private)
        .prologue(&prologue);
    let remote_bytes = remote.map(|k| k.0);
    if let Some(k) = &remote_bytes {
        builder = builder.remote_public_key(k);
    }
    let mut hs = builder.build_initiator().map_err(noise)?;
    let mut preamble = MAGIC.to_vec();
    preamble.extend([VERSION, pattern]);
    stream.write_all(&preamble).await?;
    let mut framer = Framer::new(MAX_FRAME);
    write_hs(&mut stream, &mut hs).await?;
    read_hs(&mut stream, &mut framer, &mut hs).await?;
    if pattern == PATTERN_XX {
        write_hs(&mut stream, &mut hs).await?;
    }
    finish(stream, hs, framer)
}

/// Accepts a channel as the responder: reads the preamble (the listener saw only its
/// first byte) and answers the handshake it names.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    keys: &Keypair,
) -> std::io::Result<Channel<S>> {
    let mut preamble = [0u8; PREAMBLE_LEN];
    stream.read_exact(&mut preamble).await?;
    if &preamble[..MAGIC.len()] != MAGIC {
        return Err(bad("not a brigade preamble"));
    }
    if preamble[MAGIC.len()] != VERSION {
        return Err(bad(format!("version {}", preamble[MAGIC.len()])));
    }
    let pattern = preamble[MAGIC.len() + 1];
    let ik = match pattern {
        PATTERN_IK => true,
        PATTERN_XX => false,
        other => return Err(bad(format!("unknown handshake {other:#x}"))),
    };
    let prologue = prologue(pattern);
    let mut hs = snow::Builder::new(params(ik))
        .local_private_key(&keys.private)
        .prologue(&prologue)
        .build_responder()
        .map_err(noise)?;
    let mut framer = Framer::new(MAX_FRAME);
    read_hs(&mut stream, &mut framer, &mut hs).await?;
    write_hs(&mut stream, &mut hs).await?;
    if !ik {
        read_hs(&mut stream, &mut framer, &mut hs).await?;
    }
    finish(stream, hs, framer)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair(
        known: bool,
    ) -> (
        Channel<tokio::io::DuplexStream>,
        Channel<tokio::io::DuplexStream>,
    ) {
        let (a, b) = tokio::io::duplex(1 << 16);
        let (ka, kb) = (Keypair::generate(), Keypair::generate());
        let remote = known.then_some(kb.public);
        let (ca, cb) = tokio::join!(connect(a, &ka, remote), accept(b, &kb));
        let (ca, cb) = (ca.unwrap(), cb.unwrap());
        assert_eq!(ca.remote(), kb.public);
        assert_eq!(cb.remote(), ka.public);
        (ca, cb)
    }

    #[tokio::test]
    async fn xx_and_ik_carry_messages_both_ways() {
        for known in [false, true] {
            let (mut a, mut b) = pair(known).await;
            a.send(b"Mhello").await.unwrap();
            assert_eq!(b.recv().await.unwrap().unwrap(), b"Mhello");
            b.send(b"A").await.unwrap();
            assert_eq!(a.recv().await.unwrap().unwrap(), b"A");
            a.finish().await.unwrap();
            assert_eq!(b.recv().await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn ik_to_the_wrong_key_fails() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let (ka, kb) = (Keypair::generate(), Keypair::generate());
        let wrong = Keypair::generate().public;
        let (ca, cb) = tokio::join!(connect(a, &ka, Some(wrong)), accept(b, &kb));
        assert!(cb.is_err());
        assert!(ca.is_err());
    }

    #[tokio::test]
    async fn a_bad_preamble_is_refused() {
        for preamble in [
            b"\0brigadX1X".to_vec(),
            b"\0brigade\x02X".to_vec(),
            b"\0brigade\x01Z".to_vec(),
        ] {
            let (mut a, b) = tokio::io::duplex(1024);
            a.write_all(&preamble).await.unwrap();
            assert!(accept(b, &Keypair::generate()).await.is_err());
        }
    }
}
