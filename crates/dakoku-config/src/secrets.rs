//! The master key and authenticated encryption (AES-256-GCM) of secrets at rest.
//!
//! A ciphertext is bound to the row and field it belongs to through the associated data, so a
//! ciphertext copied into another row does not decrypt. The database keeps a fingerprint of the
//! key it was written with; starting with another key is refused instead of producing garbage.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::{Path, PathBuf};

const CIPHERTEXT_PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "{source_name} must be the base64 encoding of exactly 32 bytes (generate one with `openssl rand -base64 32`)"
    )]
    Malformed { source_name: String },
    #[error("cannot read or create the master key file {path}: {error}")]
    File { path: PathBuf, error: std::io::Error },
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("stored secret cannot be decrypted with this master key (wrong key or tampered data)")]
    Undecryptable,
}

/// 32 secret bytes. Deliberately not `Debug`-printable beyond its fingerprint.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(fingerprint {})", self.fingerprint())
    }
}

impl MasterKey {
    pub fn from_base64(text: &str, source_name: &str) -> Result<Self, MasterKeyError> {
        let bytes =
            B64.decode(text.trim()).map_err(|_| MasterKeyError::Malformed { source_name: source_name.to_owned() })?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| MasterKeyError::Malformed { source_name: source_name.to_owned() })?;
        Ok(Self(key))
    }

    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(key)
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Reads the key file, or creates it (mode 0600, never overwritten) on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, MasterKeyError> {
        let file_error = |error| MasterKeyError::File { path: path.to_owned(), error };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
                    use std::os::unix::fs::DirBuilderExt;
                    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(file_error)?;
                }
                let key = Self::generate();
                write_private_file(path, &key.to_base64()).map_err(file_error)?;
                tracing::info!(path = %path.display(), "generated a new master key; back it up with the database");
                Ok(key)
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// A non-secret name for the key, stored in the database to detect a key swap.
    pub fn fingerprint(&self) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(b"dakoku master key fingerprint v1");
        let digest = mac.finalize().into_bytes();
        digest[..12].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Encrypts and decrypts secrets under the master key.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl Cipher {
    pub fn new(key: &MasterKey) -> Self {
        Self { aead: Aes256Gcm::new_from_slice(&key.0).expect("32-byte key") }
    }

    /// `context` names where the secret lives (e.g. `integration:<id>`); decryption must give it back.
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{CIPHERTEXT_PREFIX}{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<Vec<u8>, SecretError> {
        let body = stored.strip_prefix(CIPHERTEXT_PREFIX).ok_or(SecretError::Undecryptable)?;
        let bytes = B64.decode(body).map_err(|_| SecretError::Undecryptable)?;
        if bytes.len() < 12 + 16 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, sealed) = bytes.split_at(12);
        self.aead
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() })
            .map_err(|_| SecretError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = MasterKey::generate();
        let cipher = Cipher::new(&key);
        let sealed = cipher.encrypt(b"bot-secret", "integration:a");
        assert!(!sealed.contains("bot-secret"));
        assert_eq!(cipher.decrypt(&sealed, "integration:a").expect("decrypts"), b"bot-secret");
        assert!(cipher.decrypt(&sealed, "integration:b").is_err(), "bound to its row");
        let other = Cipher::new(&MasterKey::generate());
        assert!(other.decrypt(&sealed, "integration:a").is_err(), "wrong key is an error, not garbage");
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(MasterKey::from_base64("c2hvcnQ=", "DAKOKU_MASTER_KEY").is_err());
        assert!(MasterKey::from_base64("not base64!", "DAKOKU_MASTER_KEY").is_err());
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&key.to_base64(), "x").expect("valid");
        assert_eq!(key.fingerprint(), again.fingerprint());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("dakoku-key-{}", rand::random::<u64>()));
        let path = dir.join("master.key");
        let first = MasterKey::load_or_create(&path).expect("created");
        let second = MasterKey::load_or_create(&path).expect("read back");
        assert_eq!(first.fingerprint(), second.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("exists").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
