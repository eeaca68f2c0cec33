//! Property tests: the URI parser and the verifier never panic, on random strings and on
//! mutated valid code URIs, and mutated codes never verify as Valid.

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;
use yuepin_code::*;
use yuepin_domain::Gtin;

struct Setup {
    keys: KeySet,
    list: StatusList,
    uri: String,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let key = PrivateKey::generate(Kid::parse("k1").unwrap(), &mut rng);
        let keys = KeySet::new(
            "t",
            1,
            vec![key.public(
                KeyStatus::Active,
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            )],
        )
        .unwrap();
        let spec = BatchSpec {
            resolver: Resolver::parse("q.example.cn").unwrap(),
            subject: Subject::Gtin(Gtin::parse("6901234567892").unwrap()),
            lot: Some(Lot::parse("A(1)").unwrap()),
            issued_on: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        };
        let mut allocator = IndexAllocator::new(0).unwrap();
        let uri = issue_one(&spec, &key, &mut allocator, &mut rng)
            .unwrap()
            .uri;
        Setup {
            keys,
            list: StatusList::new(0, now(), 3600).unwrap(),
            uri,
        }
    })
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_strings_never_panic(input in ".{0,300}") {
        let s = setup();
        let _ = SignedUri::parse(&input);
        let _ = decode_signature(&input);
        let verdict = verify(&input, &s.keys, Some(&s.list), now());
        prop_assert!(matches!(verdict, Verdict::Malformed(_)));
    }

    #[test]
    fn uri_shaped_strings_never_panic(path in "[0-9A-Za-z/%._-]{0,80}", sig in "[A-Za-z0-9_-]{0,200}") {
        let s = setup();
        let input = format!("https://q.example.cn/{path}?s={sig}");
        let _ = verify(&input, &s.keys, Some(&s.list), now());
    }

    #[test]
    fn mutated_valid_codes_never_panic_nor_verify(position in 0usize..400, byte in any::<u8>(), delete in any::<bool>()) {
        let s = setup();
        let mut bytes = s.uri.clone().into_bytes();
        let position = position % bytes.len();
        if delete { bytes.remove(position); } else { bytes[position] = byte; }
        let Ok(mutated) = String::from_utf8(bytes) else { return Ok(()); };
        let verdict = verify(&mutated, &s.keys, Some(&s.list), now());
        if mutated != s.uri {
            prop_assert_ne!(verdict, Verdict::Valid, "{}", mutated);
        }
    }
}

#[test]
fn the_unmutated_code_is_valid() {
    let s = setup();
    assert_eq!(
        verify(&s.uri, &s.keys, Some(&s.list), now()),
        Verdict::Valid
    );
}

/// Found by `mutated_valid_codes_never_panic_nor_verify`: CBOR `undefined` (0xf7) in place of
/// the nil payload (0xf6), or any other re-encoding of the same COSE_Sign1, is refused, so a
/// signed code has exactly one printed form.
#[test]
fn a_re_encoded_signature_is_refused() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let s = setup();
    let (head, sig) = s.uri.split_once("?s=").unwrap();
    let mut bytes = b64.decode(sig).unwrap();
    let nil = bytes
        .iter()
        .position(|b| *b == 0xf6)
        .expect("the nil payload");
    bytes[nil] = 0xf7;
    let mutated = format!("{head}?s={}", b64.encode(&bytes));
    let verdict = verify(&mutated, &s.keys, Some(&s.list), now());
    assert!(
        matches!(&verdict, Verdict::Malformed(r) if r.contains("canonical")),
        "{verdict:?}"
    );
}
