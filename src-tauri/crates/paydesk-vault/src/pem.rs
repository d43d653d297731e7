//! Key text → DER: the one reader for the shapes merchants paste and providers hand out (PEM
//! with any label, the same without headers, Alipay's one-line base64). Used by the vault's
//! imports and by `paydesk-providers`' key loading.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use zeroize::Zeroizing;

/// Why key text could not be turned into DER. Never contains the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemError {
    /// The text is empty or blank.
    Empty,
    /// The body is not base64.
    NotBase64,
}

/// Strips PEM armour if present (any label; RFC 1421 headers such as `Proc-Type:` are
/// skipped) and decodes the base64 body; bare base64 may be wrapped over several lines.
/// Armour with nothing inside decodes to no bytes. The body and the result are zeroized on
/// drop.
pub fn pem_or_base64_to_der(text: &str) -> Result<Zeroizing<Vec<u8>>, PemError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(PemError::Empty);
    }
    let body: Zeroizing<String> = Zeroizing::new(if trimmed.contains("-----BEGIN") {
        let mut inside = false;
        let mut acc = String::new();
        for line in trimmed.lines() {
            let l = line.trim();
            if l.starts_with("-----BEGIN") {
                inside = true;
                continue;
            }
            if l.starts_with("-----END") {
                break;
            }
            if inside && !l.contains(':') {
                acc.push_str(l);
            }
        }
        acc
    } else {
        trimmed.chars().filter(|c| !c.is_whitespace()).collect()
    });
    B64.decode(body.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| PemError::NotBase64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_base64_and_headers() {
        let pem = "-----BEGIN TEST-----\nProc-Type: 4,X\n\nAAEC\nAw==\n-----END TEST-----\n";
        assert_eq!(
            pem_or_base64_to_der(pem).map(|d| d.to_vec()),
            Ok(vec![0, 1, 2, 3])
        );
        assert_eq!(
            pem_or_base64_to_der(" AAEC\r\nAw== ").map(|d| d.to_vec()),
            Ok(vec![0, 1, 2, 3])
        );
        assert_eq!(pem_or_base64_to_der(" \n "), Err(PemError::Empty));
        assert_eq!(
            pem_or_base64_to_der("-----BEGIN X-----\n-----END X-----").map(|d| d.len()),
            Ok(0)
        );
        assert_eq!(
            pem_or_base64_to_der("not base64!"),
            Err(PemError::NotBase64)
        );
    }
}
