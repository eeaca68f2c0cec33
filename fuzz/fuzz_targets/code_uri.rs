//! The 粤品通 code URI and its COSE_Sign1 signature, as a phone camera hands them to the scan
//! endpoint: any text must parse or be refused, never panic; a parsed URI prints back to the
//! canonical form it was parsed from.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(uri) = yuepin_code::SignedUri::parse(text) {
            let again = format!("{}?s={}", uri.code.unsigned(), uri.signature_b64);
            let reparsed = yuepin_code::SignedUri::parse(&again).expect("canonical form parses");
            assert_eq!(reparsed, uri);
            let _ = yuepin_code::decode_signature(&uri.signature_b64);
        }
        let _ = yuepin_code::decode_signature(text);
    }
});
