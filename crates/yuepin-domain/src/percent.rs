//! Percent-encoding for the query strings and redirect targets the platform builds itself
//! (RFC 3986 unreserved characters and `/` pass through; everything else, UTF-8 included, is
//! encoded byte by byte).

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn chinese_and_reserved() {
        assert_eq!(super::urlencode("/a b?粤"), "/a%20b%3F%E7%B2%A4");
    }
}
