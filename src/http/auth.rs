//! Who may see what: the admin key, and customer tokens
//! `<customer_id>.<expiry unix secs>.<hex HMAC-SHA256(secret, "<customer_id>.<expiry>")>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("customer tokens are not accepted: no session secret is configured")]
    NoSecret,
    #[error("the customer token is malformed")]
    Malformed,
    #[error("the customer token has expired")]
    Expired,
    #[error("the customer token's signature is wrong")]
    BadSignature,
}

fn mac(secret: &str, payload: &str) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(payload.as_bytes());
    mac
}

fn valid_customer_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub fn mint(secret: &str, customer_id: &str, expires_unix: i64) -> Result<String, TokenError> {
    if !valid_customer_id(customer_id) {
        return Err(TokenError::Malformed);
    }
    let payload = format!("{customer_id}.{expires_unix}");
    let signature = hex::encode(mac(secret, &payload).finalize().into_bytes());
    Ok(format!("{payload}.{signature}"))
}

/// The customer id a token proves, checked in constant time.
pub fn verify(secret: Option<&str>, token: &str, now_unix: i64) -> Result<String, TokenError> {
    let secret = secret.ok_or(TokenError::NoSecret)?;
    let mut parts = token.trim().rsplitn(3, '.');
    let (Some(signature), Some(expiry), Some(customer_id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let expiry: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
    if !valid_customer_id(customer_id) {
        return Err(TokenError::Malformed);
    }
    let signature = hex::decode(signature).map_err(|_| TokenError::Malformed)?;
    mac(secret, &format!("{customer_id}.{expiry}")).verify_slice(&signature).map_err(|_| TokenError::BadSignature)?;
    if expiry <= now_unix {
        return Err(TokenError::Expired);
    }
    Ok(customer_id.to_string())
}

/// Compares the presented admin key with the configured one in constant time.
pub fn admin_ok(configured: Option<&str>, authorization: Option<&str>) -> bool {
    let (Some(key), Some(header)) = (configured, authorization) else { return false };
    let Some(presented) = header.strip_prefix("Bearer ") else { return false };
    // Comparing MACs of both keys keeps the time independent of where they differ.
    let a = mac("clerk-admin", key).finalize().into_bytes();
    let b = mac("clerk-admin", presented.trim()).finalize().into_bytes();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let token = mint("s3cret", "C1001", 2_000).unwrap();
        assert_eq!(verify(Some("s3cret"), &token, 1_000), Ok("C1001".to_string()));
        assert_eq!(verify(Some("s3cret"), &token, 2_000), Err(TokenError::Expired));
        assert_eq!(verify(None, &token, 1_000), Err(TokenError::NoSecret));
        assert_eq!(verify(Some("other"), &token, 1_000), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_for_one_customer_cannot_be_edited_into_another() {
        let token = mint("s3cret", "C1001", 2_000).unwrap();
        let forged = token.replacen("C1001", "C1002", 1);
        assert_eq!(verify(Some("s3cret"), &forged, 1_000), Err(TokenError::BadSignature));
        let later = token.replacen("2000", "9999", 1);
        assert_eq!(verify(Some("s3cret"), &later, 1_000), Err(TokenError::BadSignature));
        assert_eq!(verify(Some("s3cret"), "C1001.2000", 1_000), Err(TokenError::Malformed));
        assert_eq!(verify(Some("s3cret"), "C1001.x.abcd", 1_000), Err(TokenError::Malformed));
    }

    #[test]
    fn the_admin_key_must_match_exactly() {
        assert!(admin_ok(Some("k1"), Some("Bearer k1")));
        assert!(!admin_ok(Some("k1"), Some("Bearer k2")));
        assert!(!admin_ok(Some("k1"), Some("k1")));
        assert!(!admin_ok(None, Some("Bearer k1")));
        assert!(!admin_ok(Some("k1"), None));
    }
}
