//! The code URI: canonical, uncompressed GS1 Digital Link (`/01/{GTIN-14}[/10/{lot}]/21/{serial}`)
//! or the documented non-GS1 path (`/p/{product-id}[/10/{lot}]/21/{serial}`), plus the `?s=` signature.

use crate::error::ParseError;
use rand::RngCore;
use std::fmt::{self, Write as _};
use yuepin_domain::Gtin;

/// Characters of the GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
fn is_gs1_cset82(byte: u8) -> bool {
    matches!(byte,
        b'!' | b'"' | b'%' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'-' | b'.' | b'/'
        | b'0'..=b'9' | b':' | b';' | b'<' | b'=' | b'>' | b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// Characters GS1 Digital Link leaves unescaped in a path segment (RFC 3986 unreserved ∩ cset 82).
fn is_path_safe(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_')
}

/// Percent-encodes every cset-82 character that is not path-safe, as GS1 DL 1.x requires.
fn percent_encode_into(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if is_path_safe(byte) {
            out.push(byte as char);
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

fn percent_decode(field: &'static str, segment: &str) -> Result<String, ParseError> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = bytes.get(i + 1).copied().and_then(hex_value);
            let low = bytes.get(i + 2).copied().and_then(hex_value);
            match (high, low) {
                (Some(h), Some(l)) => decoded.push(h * 16 + l),
                _ => return Err(ParseError::new(field, "broken percent-escape")),
            }
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| ParseError::new(field, "percent-escapes are not UTF-8"))
}

/// Parses a GS1 cset-82 value of 1..=`max` characters.
fn parse_cset82(field: &'static str, value: &str, max: usize) -> Result<String, ParseError> {
    if value.is_empty() || value.len() > max {
        return Err(ParseError::new(
            field,
            format!("must be 1 to {max} characters, got {}", value.len()),
        ));
    }
    if let Some(bad) = value.bytes().find(|b| !is_gs1_cset82(*b)) {
        return Err(ParseError::new(
            field,
            format!(
                "character {:?} is not in the GS1 character set 82",
                bad as char
            ),
        ));
    }
    Ok(value.to_string())
}

/// Host (and optional port) of the resolver, lower-case, e.g. `q.yuepin.gd.gov.cn`.
///
/// Codes always use `https://`, except on a loopback resolver (`127.0.0.1`, `localhost`) built
/// with [`Resolver::from_base_url`] from an `http://` base URL: that is for local demos and
/// tests only, and the scheme is part of the signed payload either way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resolver {
    host: String,
    plain_http: bool,
}

/// Whether a host (without port) is a loopback name on which plain http is tolerated.
fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host == "127.0.0.1"
}

impl Resolver {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let (host, port) = match input.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (input, None),
        };
        if host.is_empty() || host.len() > 253 {
            return Err(ParseError::new(
                "resolver",
                "host must be 1 to 253 characters",
            ));
        }
        for label in host.split('.') {
            let valid = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(ParseError::new(
                    "resolver",
                    format!(
                        "host label {label:?} must be lower-case letters, digits and inner '-'"
                    ),
                ));
            }
        }
        if let Some(port) = port {
            if port.is_empty() || port.len() > 5 || port.parse::<u16>().is_err() {
                return Err(ParseError::new(
                    "resolver",
                    format!("port {port:?} is not 1..=65535"),
                ));
            }
        }
        Ok(Self {
            host: input.to_string(),
            plain_http: false,
        })
    }

    /// From a base URL such as `https://q.yuepin.gd.gov.cn` or (loopback only)
    /// `http://127.0.0.1:8080`; a trailing `/` is ignored, any other path is rejected.
    pub fn from_base_url(url: &str) -> Result<Self, ParseError> {
        let url = url.trim_end_matches('/');
        if let Some(host) = url.strip_prefix("https://") {
            return Self::parse(host);
        }
        if let Some(host) = url.strip_prefix("http://") {
            let mut resolver = Self::parse(host)?;
            let bare = host.split(':').next().unwrap_or_default();
            if !is_loopback_host(bare) {
                return Err(ParseError::new(
                    "resolver",
                    "plain http is only allowed on a loopback host (127.0.0.1 or localhost)",
                ));
            }
            resolver.plain_http = true;
            return Ok(resolver);
        }
        Err(ParseError::new(
            "resolver",
            "base URL must start with https:// (or http:// on loopback)",
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.host
    }

    /// `https://` or, for a loopback demo resolver, `http://`.
    pub fn scheme_prefix(&self) -> &'static str {
        if self.plain_http {
            "http://"
        } else {
            "https://"
        }
    }

    /// The resolver's base URL, e.g. `https://q.yuepin.gd.gov.cn`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.scheme_prefix(), self.host)
    }
}

/// A batch/lot number (GS1 AI 10): 1..=20 characters of the GS1 set 82.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lot(String);

impl Lot {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_cset82("lot", input, 20).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Alphabet of issued serials: exactly the path-safe part of GS1 set 82 minus `.` (64 characters),
/// so a serial never needs percent-encoding and each character carries 6 bits.
const SERIAL_ALPHABET: &[u8; 64] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/// Length of issued serials: 11 × 6 = 66 random bits.
pub const SERIAL_LEN: usize = 11;

/// A serial number (GS1 AI 21). Issued serials are random; parsed ones may be any GS1 set-82 value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Serial(String);

impl Serial {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_cset82("serial", input, 20).map(Self)
    }

    /// A fresh random serial with 66 bits of entropy (non-sequential, not enumerable).
    pub fn random(rng: &mut dyn RngCore) -> Self {
        let mut raw = [0u8; SERIAL_LEN];
        rng.fill_bytes(&mut raw);
        // 64 symbols: the low 6 bits of each byte are uniform.
        let text = raw
            .iter()
            .map(|b| SERIAL_ALPHABET[usize::from(b & 63)] as char)
            .collect();
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product identifier for goods without a GTIN: 1..=32 of `A-Z a-z 0-9 - . _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductId(String);

impl ProductId {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        if input.is_empty() || input.len() > 32 {
            return Err(ParseError::new("product_id", "must be 1 to 32 characters"));
        }
        if !input.bytes().all(is_path_safe) {
            return Err(ParseError::new(
                "product_id",
                "only letters, digits, '-', '.' and '_' are allowed",
            ));
        }
        Ok(Self(input.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a code identifies: a GS1 trade item or a product registered without a GTIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// GS1 trade item; the URI carries its 14-digit form under AI `01`.
    Gtin(Gtin),
    /// Non-GS1 product, path `/p/{id}` on the same resolver.
    Product(ProductId),
}

impl Subject {
    pub fn is_gs1(&self) -> bool {
        matches!(self, Self::Gtin(_))
    }
}

/// A code URI without its signature: everything the signature covers besides the claims.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeUri {
    pub resolver: Resolver,
    pub subject: Subject,
    pub lot: Option<Lot>,
    pub serial: Serial,
}

impl CodeUri {
    /// The canonical URI without `?s=`; these exact bytes are the detached COSE payload.
    pub fn unsigned(&self) -> String {
        let mut out = String::with_capacity(128);
        self.write_unsigned(&mut out);
        out
    }

    pub(crate) fn write_unsigned(&self, out: &mut String) {
        out.push_str(self.resolver.scheme_prefix());
        out.push_str(self.resolver.as_str());
        match &self.subject {
            Subject::Gtin(gtin) => {
                out.push_str("/01/");
                out.push_str(&gtin.to_gtin14());
            }
            Subject::Product(id) => {
                out.push_str("/p/");
                out.push_str(id.as_str());
            }
        }
        if let Some(lot) = &self.lot {
            out.push_str("/10/");
            percent_encode_into(lot.as_str(), out);
        }
        out.push_str("/21/");
        percent_encode_into(self.serial.as_str(), out);
    }

    /// The complete code URI with its base64url signature.
    pub fn with_signature(&self, signature_b64: &str) -> String {
        let mut out = String::with_capacity(240);
        self.write_unsigned(&mut out);
        out.push_str("?s=");
        out.push_str(signature_b64);
        out
    }
}

impl fmt::Display for CodeUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unsigned())
    }
}

/// A parsed complete code URI: its parts and the still-encoded signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUri {
    pub code: CodeUri,
    /// The `s` query value: base64url (no padding) of the detached COSE_Sign1.
    pub signature_b64: String,
}

impl SignedUri {
    /// Parses a complete code URI in the canonical form this crate issues; anything else is rejected.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        if input.len() > 2048 {
            return Err(ParseError::new("uri", "longer than 2048 characters"));
        }
        let (plain_http, rest) = match input.strip_prefix("https://") {
            Some(rest) => (false, rest),
            None => (
                true,
                input
                    .strip_prefix("http://")
                    .ok_or_else(|| ParseError::new("uri.scheme", "must start with https://"))?,
            ),
        };
        let (before_query, query) = rest
            .split_once('?')
            .ok_or_else(|| ParseError::new("uri.query", "missing ?s= signature"))?;
        let signature_b64 = query
            .strip_prefix("s=")
            .ok_or_else(|| ParseError::new("uri.query", "query must be exactly s=<signature>"))?;
        if signature_b64.is_empty()
            || !signature_b64
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ParseError::new(
                "uri.query",
                "signature must be non-empty base64url",
            ));
        }
        let (host, path) = before_query
            .split_once('/')
            .ok_or_else(|| ParseError::new("uri.path", "missing path"))?;
        let mut resolver = Resolver::parse(host)?;
        if plain_http {
            if !is_loopback_host(host.split(':').next().unwrap_or_default()) {
                return Err(ParseError::new("uri.scheme", "must start with https://"));
            }
            resolver.plain_http = true;
        }
        let segments: Vec<&str> = path.split('/').collect();
        let (subject, remaining) = match segments.as_slice() {
            ["01", gtin14, remaining @ ..] => {
                if gtin14.len() != 14 || !gtin14.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ParseError::new(
                        "gtin",
                        "must be 14 digits in a Digital Link",
                    ));
                }
                let gtin =
                    Gtin::parse(gtin14).map_err(|e| ParseError::new("gtin", e.to_string()))?;
                (Subject::Gtin(gtin), remaining)
            }
            ["p", id, remaining @ ..] => (Subject::Product(ProductId::parse(id)?), remaining),
            _ => {
                return Err(ParseError::new(
                    "uri.path",
                    "must start with /01/{gtin} or /p/{product-id}",
                ))
            }
        };
        let (lot, serial) = match remaining {
            ["10", lot, "21", serial] => (
                Some(Lot::parse(&percent_decode("lot", lot)?)?),
                Serial::parse(&percent_decode("serial", serial)?)?,
            ),
            ["21", serial] => (None, Serial::parse(&percent_decode("serial", serial)?)?),
            _ => {
                return Err(ParseError::new(
                    "uri.path",
                    "after the item key expected [/10/{lot}]/21/{serial}",
                ))
            }
        };
        let code = CodeUri {
            resolver,
            subject,
            lot,
            serial,
        };
        let parsed = Self {
            code,
            signature_b64: signature_b64.to_string(),
        };
        // Canonical form only: re-encoding must give the input back (no alternate escapes).
        if parsed.code.with_signature(&parsed.signature_b64) != input {
            return Err(ParseError::new("uri", "not in canonical form"));
        }
        Ok(parsed)
    }
}
