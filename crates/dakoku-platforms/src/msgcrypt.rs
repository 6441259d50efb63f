//! The callback crypto WeCom (WXBizMsgCrypt) and DingTalk (DingCallbackCrypto) share: the AES
//! key is the Base64 of the 43-character key + "=" (trailing bits allowed, as both platforms'
//! keys have them), the cipher AES-256-CBC with the key's first 16 bytes as IV and PKCS#7
//! padding to 32-byte blocks; the plaintext is random(16) ‖ u32 big-endian length in bytes ‖
//! message ‖ receive id (WeCom: the CorpID; DingTalk: the app's AppKey); the signature is the
//! SHA-1 hex of the sorted token, timestamp, nonce and ciphertext.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet::STANDARD as ALPHABET;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD as B64};
use base64::Engine;
use rand::RngCore;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

type Decryptor = cbc::Decryptor<aes::Aes256>;
type Encryptor = cbc::Encryptor<aes::Aes256>;
const BLOCK: usize = 32;

/// Keys whose last character carries bits beyond the 256 are accepted, as the platforms do.
const LENIENT: GeneralPurpose =
    GeneralPurpose::new(&ALPHABET, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));

#[derive(Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// EncodingAESKey is not 43 Base64 characters of a 32-byte key.
    BadKey,
    BadSignature,
    /// Not Base64, not whole blocks, bad padding or a length that does not fit.
    Malformed,
    /// The message was sealed for another CorpID (or suite).
    WrongReceiver,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CryptoError::BadKey => "the EncodingAESKey is not 43 characters of Base64 for a 32-byte key",
            CryptoError::BadSignature => "msg_signature does not verify",
            CryptoError::Malformed => "the encrypted message is malformed",
            CryptoError::WrongReceiver => "the message is for another CorpID or app",
        })
    }
}

/// The callback crypto of one app.
#[derive(Clone)]
pub struct MsgCrypt {
    token: String,
    key: [u8; 32],
    receive_id: String,
}

fn random_alphanumeric(length: usize) -> String {
    use rand::Rng;
    rand::rngs::OsRng.sample_iter(rand::distributions::Alphanumeric).take(length).map(char::from).collect()
}

impl MsgCrypt {
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != 43 {
            return Err(CryptoError::BadKey);
        }
        let bytes = LENIENT.decode(format!("{encoding_aes_key}=")).map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self { token: token.to_owned(), key, receive_id: receive_id.to_owned() })
    }

    /// A new EncodingAESKey for an admin to enter on both sides: 43 letters and digits, the
    /// only characters the WeCom and DingTalk consoles accept (so never base64's `+` or `/`).
    pub fn generate_key() -> String {
        random_alphanumeric(43)
    }

    /// A callback setting dakoku makes on request: the 43-character key, or a token of 32
    /// letters and digits (both consoles accept at most 32).
    pub fn generate_setting(name: &str, key_setting: &str) -> Option<String> {
        match name {
            "token" => Some(random_alphanumeric(32)),
            _ if name == key_setting => Some(Self::generate_key()),
            _ => None,
        }
    }

    pub fn signature(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypted];
        parts.sort_unstable();
        hex::encode(Sha1::digest(parts.concat().as_bytes()))
    }

    pub fn verify(&self, signature: &str, timestamp: &str, nonce: &str, encrypted: &str) -> Result<(), CryptoError> {
        let expected = self.signature(timestamp, nonce, encrypted);
        if bool::from(expected.as_bytes().ct_eq(signature.trim().to_ascii_lowercase().as_bytes())) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Verifies and opens a message; it must have been sealed for this app's receive id.
    pub fn open(&self, signature: &str, timestamp: &str, nonce: &str, encrypted: &str) -> Result<Vec<u8>, CryptoError> {
        self.verify(signature, timestamp, nonce, encrypted)?;
        self.decrypt(encrypted)
    }

    pub fn decrypt(&self, encrypted: &str) -> Result<Vec<u8>, CryptoError> {
        let mut data = B64.decode(encrypted.trim()).map_err(|_| CryptoError::Malformed)?;
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(CryptoError::Malformed);
        }
        let plain = Decryptor::new(&self.key.into(), self.key[..16].into())
            .decrypt_padded_mut::<NoPadding>(&mut data)
            .map_err(|_| CryptoError::Malformed)?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::Malformed)?);
        if !(1..=BLOCK).contains(&pad)
            || pad > plain.len()
            || plain[plain.len() - pad..].iter().any(|&b| usize::from(b) != pad)
        {
            return Err(CryptoError::Malformed);
        }
        let content = &plain[..plain.len() - pad];
        if content.len() < 20 {
            return Err(CryptoError::Malformed);
        }
        let length = u32::from_be_bytes([content[16], content[17], content[18], content[19]]) as usize;
        let rest = &content[20..];
        if length > rest.len() {
            return Err(CryptoError::Malformed);
        }
        let (message, receiver) = rest.split_at(length);
        if receiver != self.receive_id.as_bytes() {
            return Err(CryptoError::WrongReceiver);
        }
        Ok(message.to_vec())
    }

    /// Seals a message with the given random prefix (fresh randomness in [`Self::seal`]).
    pub fn encrypt_with(&self, message: &[u8], random: [u8; 16]) -> String {
        let mut plain = Vec::with_capacity(message.len() + self.receive_id.len() + 20 + BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message);
        plain.extend_from_slice(self.receive_id.as_bytes());
        let pad = BLOCK - plain.len() % BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let length = plain.len();
        let sealed = Encryptor::new(&self.key.into(), self.key[..16].into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, length)
            .expect("whole blocks after padding");
        B64.encode(sealed)
    }

    pub fn seal(&self, message: &[u8]) -> String {
        let mut random = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut random);
        self.encrypt_with(message, random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../testdata/wecom_crypto_vectors.json")).expect("vectors")
    }

    fn text<'a>(v: &'a Value, key: &str) -> &'a str {
        v[key].as_str().unwrap_or_else(|| panic!("vector field {key}"))
    }

    #[test]
    fn official_vectors_verify_decrypt_and_round_trip() {
        let all = vectors();
        let sets = all["sets"].as_object().expect("sets");
        assert!(sets.len() >= 2);
        for (name, set) in sets {
            let crypt = MsgCrypt::new(text(set, "token"), text(set, "encoding_aes_key"), text(set, "receiveid_corpid"))
                .expect("key");
            assert_eq!(hex::encode(crypt.key), text(set, "aes_key_hex"), "set {name}");
            for case in ["verify_url", "post_message"] {
                let v = &set[case];
                let encrypted =
                    v.get("echostr").or_else(|| v.get("encrypt")).and_then(Value::as_str).expect("ciphertext");
                let (sig, ts, nonce) = (text(v, "msg_signature"), text(v, "timestamp"), text(v, "nonce"));
                assert_eq!(crypt.signature(ts, nonce, encrypted), sig, "{name}/{case} signature");
                let plain = crypt.open(sig, ts, nonce, encrypted).expect("opens");
                assert_eq!(String::from_utf8(plain).expect("utf-8"), text(v, "expected_plaintext"), "{name}/{case}");
                // Sealing the plaintext again with the sender's random prefix gives the same bytes.
                let random: [u8; 16] = hex::decode(text(v, "decrypted_random16"))
                    .ok()
                    .and_then(|r| r.try_into().ok())
                    .unwrap_or_else(|| text(v, "decrypted_random16").as_bytes()[..16].try_into().expect("16"));
                assert_eq!(
                    crypt.encrypt_with(text(v, "expected_plaintext").as_bytes(), random),
                    encrypted,
                    "{name}/{case}"
                );
                // Negative cases: another signature, a changed ciphertext, another CorpID.
                assert_eq!(crypt.open("0000", ts, nonce, encrypted), Err(CryptoError::BadSignature));
                let mut tampered = B64.decode(encrypted).expect("b64");
                tampered[40] ^= 1;
                // CBC has no integrity of its own: the signature over the ciphertext is what
                // catches a change.
                assert_eq!(crypt.open(sig, ts, nonce, &B64.encode(&tampered)), Err(CryptoError::BadSignature));
                let other = MsgCrypt::new(text(set, "token"), text(set, "encoding_aes_key"), "wwother").expect("key");
                assert_eq!(other.decrypt(encrypted), Err(CryptoError::WrongReceiver));
            }
        }
    }

    #[test]
    fn fresh_keys_and_seals_round_trip() {
        let key = MsgCrypt::generate_key();
        assert_eq!(key.len(), 43);
        let crypt = MsgCrypt::new("tok", &key, "ww123").expect("generated key works");
        for message in ["", "x", &"長い".repeat(100)] {
            assert_eq!(crypt.decrypt(&crypt.seal(message.as_bytes())).expect("opens"), message.as_bytes());
        }
        assert_eq!(MsgCrypt::new("t", "short", "c").err(), Some(CryptoError::BadKey));
        assert_eq!(crypt.decrypt("not base64!"), Err(CryptoError::Malformed));
        assert_eq!(crypt.decrypt(&B64.encode([0u8; 15])), Err(CryptoError::Malformed));
    }

    /// Finding 9 of the hardening review: generated keys had base64's `+` and `/`, which the
    /// platforms' consoles refuse.
    #[test]
    fn generated_callback_settings_use_only_letters_and_digits() {
        for _ in 0..500 {
            let key = MsgCrypt::generate_setting("encoding_aes_key", "encoding_aes_key").expect("key");
            assert_eq!(key.len(), 43);
            assert!(key.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
            MsgCrypt::new("t", &key, "ww1").expect("every generated key opens");
            let token = MsgCrypt::generate_setting("token", "aes_key").expect("token");
            assert_eq!(token.len(), 32);
            assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
        }
    }

    fn dingtalk_vectors() -> Value {
        serde_json::from_str(include_str!("../testdata/dingtalk_crypto_vectors.json")).expect("vectors")
    }

    #[test]
    fn dingtalk_official_and_generated_vectors_verify_decrypt_and_round_trip() {
        let all = dingtalk_vectors();
        let mut checked = 0;
        for group in ["official_sets", "generated_sets"] {
            for (name, set) in all[group].as_object().expect("sets") {
                if set.get("msg_signature").is_none() {
                    continue;
                }
                let crypt = MsgCrypt::new(text(set, "token"), text(set, "encoding_aes_key"), text(set, "receiveid"))
                    .unwrap_or_else(|e| panic!("{name}: {e} (keys with trailing bits must be accepted)"));
                assert_eq!(hex::encode(crypt.key), text(set, "aes_key_hex"), "{name}");
                let (sig, ts, nonce, encrypted) =
                    (text(set, "msg_signature"), text(set, "timestamp"), text(set, "nonce"), text(set, "encrypt"));
                assert_eq!(crypt.signature(ts, nonce, encrypted), sig, "{name} signature");
                let plain = crypt.open(sig, ts, nonce, encrypted).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(String::from_utf8(plain).expect("utf-8"), text(set, "plaintext"), "{name}");
                let random: [u8; 16] = text(set, "random16").as_bytes().try_into().expect("16 bytes");
                assert_eq!(crypt.encrypt_with(text(set, "plaintext").as_bytes(), random), encrypted, "{name} re-seal");
                checked += 1;
            }
        }
        assert!(checked >= 8, "every signed set was checked ({checked})");
    }

    #[test]
    fn dingtalk_negative_cases_are_refused() {
        let all = dingtalk_vectors();
        let base = &all["official_sets"]["B_corp_check_url"];
        let (ts, nonce, encrypted) = (text(base, "timestamp"), text(base, "nonce"), text(base, "encrypt"));
        let crypt =
            MsgCrypt::new(text(base, "token"), text(base, "encoding_aes_key"), text(base, "receiveid")).expect("key");
        let cases = &all["negative_cases"];
        assert_eq!(
            crypt.open(text(&cases["wrong_signature"], "msg_signature"), ts, nonce, encrypted),
            Err(CryptoError::BadSignature)
        );
        let other = MsgCrypt::new(
            text(base, "token"),
            text(base, "encoding_aes_key"),
            text(&cases["wrong_receiveid"], "receiveid"),
        )
        .expect("key");
        assert_eq!(other.decrypt(encrypted), Err(CryptoError::WrongReceiver));
        // A flipped character with the signature recomputed: refused as malformed, never a panic.
        for at in 0..encrypted.len() {
            let mut chars: Vec<char> = encrypted.chars().collect();
            chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
            let tampered: String = chars.into_iter().collect();
            let sig = crypt.signature(ts, nonce, &tampered);
            if let Ok(plain) = crypt.open(&sig, ts, nonce, &tampered) {
                assert_ne!(plain, text(base, "plaintext").as_bytes(), "a changed ciphertext cannot give the message");
            }
        }
    }
}
