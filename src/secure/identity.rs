//! The long-term X25519 key pair: created at first start in the data dir, mode 0600,
//! never logged (its `Debug` shows only the public half).

use std::io::Write;
use std::path::Path;

use crate::event::PublicKey;

/// The file in the data dir: the 32-byte private key, then the 32-byte public key.
pub const KEY_FILE: &str = "identity.key";

#[derive(Clone)]
pub struct Keypair {
    pub private: [u8; 32],
    pub public: PublicKey,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Keypair {{ public: {:?}, private: (hidden) }}",
            self.public
        )
    }
}

impl Keypair {
    /// A fresh key pair from the system's random source.
    pub fn generate() -> Keypair {
        let params = "Noise_XX_25519_ChaChaPoly_BLAKE2s"
            .parse()
            .expect("a valid name");
        let builder = snow::Builder::new(params);
        let kp = builder
            .generate_keypair()
            .expect("the system random source is available");
        Keypair {
            private: kp
                .private
                .try_into()
                .expect("X25519 private keys are 32 bytes"),
            public: PublicKey::from_slice(&kp.public).expect("X25519 public keys are 32 bytes"),
        }
    }
}

/// Reads the key pair in `dir`, or creates it (and `dir`) on first start. A file of the
/// wrong size is an error, never silently replaced: replacing it would change who we are.
pub fn load_or_create(dir: &Path) -> std::io::Result<Keypair> {
    load_or_create_in(dir, true).map(|k| k.expect("created when missing"))
}

/// Reads the key pair in `dir`; when there is none, creates it if `create`, else `None`.
pub fn load_or_create_in(dir: &Path, create: bool) -> std::io::Result<Option<Keypair>> {
    let path = dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() == 64 => Ok(Some(Keypair {
            private: bytes[..32].try_into().expect("32 bytes"),
            public: PublicKey::from_slice(&bytes[32..]).expect("32 bytes"),
        })),
        Ok(bytes) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is {} bytes, not a brigade key (64 bytes); move it away to make a new identity",
                path.display(),
                bytes.len()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            let keys = Keypair::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path)?;
            file.write_all(&keys.private)?;
            file.write_all(&keys.public.0)?;
            file.sync_all()?;
            Ok(Some(keys))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(first.public, again.public);
        assert_eq!(first.private, again.private);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let shown = format!("{first:?}");
        assert!(shown.contains("(hidden)"));
        assert!(!shown.contains(&PublicKey(first.private).hex()));
        std::fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        assert!(load_or_create(dir.path()).is_err());
    }
}
