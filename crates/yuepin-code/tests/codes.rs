//! End-to-end behaviour of the credit code: issue, verify (every verdict), rotation, key sets,
//! status lists, QR size budget, key files, label PDF.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use yuepin_code::qr::{qr_png, qr_svg, qr_version, MAX_VERSION};
use yuepin_code::*;
use yuepin_domain::Gtin;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(74)
}
fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct Fixture {
    key: PrivateKey,
    keys: KeySet,
    spec: BatchSpec,
    allocator: IndexAllocator,
    rng: ChaCha20Rng,
    list: StatusList,
}

fn fixture() -> Fixture {
    let mut rng = rng();
    let key = PrivateKey::generate(Kid::parse("k1").unwrap(), &mut rng);
    let keys = KeySet::new(
        "yuepin",
        1,
        vec![key.public(KeyStatus::Active, date(2026, 1, 1))],
    )
    .unwrap();
    let spec = BatchSpec {
        resolver: Resolver::parse("q.yuepin.example.cn").unwrap(),
        subject: Subject::Gtin(Gtin::parse("6901234567892").unwrap()),
        lot: Some(Lot::parse("2026A11").unwrap()),
        issued_on: date(2026, 11, 26),
    };
    Fixture {
        key,
        keys,
        spec,
        allocator: IndexAllocator::new(3).unwrap(),
        rng,
        list: StatusList::new(3, now() - TimeDelta::minutes(5), 3600).unwrap(),
    }
}

#[test]
fn issued_code_is_canonical_and_verifies_valid() {
    let mut f = fixture();
    let code = issue_one(&f.spec, &f.key, &mut f.allocator, &mut f.rng).unwrap();
    assert!(code
        .uri
        .starts_with("https://q.yuepin.example.cn/01/06901234567892/10/2026A11/21/"));
    assert_eq!(code.serial.as_str().len(), 11);
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&f.list), now()),
        Verdict::Valid
    );
    let detailed = verify_detailed(&code.uri, &f.keys, Some(&f.list), now());
    let details = detailed.details.unwrap();
    assert_eq!(details.claims.issued_on, date(2026, 11, 26));
    assert_eq!(details.claims.status, code.status);
    assert_eq!(details.kid, "k1");
}

#[test]
fn each_failure_has_its_own_verdict() {
    let mut f = fixture();
    let code = issue_one(&f.spec, &f.key, &mut f.allocator, &mut f.rng).unwrap();

    // Tampered URI: change the lot.
    let tampered_uri = code.uri.replace("/10/2026A11/", "/10/2026A12/");
    assert_eq!(
        verify(&tampered_uri, &f.keys, Some(&f.list), now()),
        Verdict::SignatureInvalid
    );

    // Tampered signature: flip one bit of the Ed25519 signature (last bytes of the COSE).
    let (head, sig) = code.uri.split_once("?s=").unwrap();
    let mut raw = base64_decode(sig);
    let last = raw.len() - 1;
    raw[last] ^= 1;
    let tampered_sig = format!("{head}?s={}", base64_encode(&raw));
    assert_eq!(
        verify(&tampered_sig, &f.keys, Some(&f.list), now()),
        Verdict::SignatureInvalid
    );

    // Unknown key.
    let other = PrivateKey::generate(Kid::parse("k9").unwrap(), &mut f.rng);
    let other_set = KeySet::new(
        "yuepin",
        2,
        vec![other.public(KeyStatus::Active, date(2026, 1, 1))],
    )
    .unwrap();
    assert_eq!(
        verify(&code.uri, &other_set, Some(&f.list), now()),
        Verdict::UnknownKey
    );

    // Withdrawn key.
    let withdrawn = KeySet::new(
        "yuepin",
        3,
        vec![f.key.public(KeyStatus::Withdrawn, date(2026, 1, 1))],
    )
    .unwrap();
    assert_eq!(
        verify(&code.uri, &withdrawn, Some(&f.list), now()),
        Verdict::KeyWithdrawn
    );

    // Malformed.
    assert!(matches!(
        verify("https://x/", &f.keys, None, now()),
        Verdict::Malformed(_)
    ));
    assert!(matches!(
        verify(&format!("{head}?s=AAAA"), &f.keys, None, now()),
        Verdict::Malformed(_)
    ));

    // No list → StatusUnknown; list of another id → StatusUnknown.
    assert_eq!(
        verify(&code.uri, &f.keys, None, now()),
        Verdict::StatusUnknown
    );
    let other_list = StatusList::new(4, now(), 3600).unwrap();
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&other_list), now()),
        Verdict::StatusUnknown
    );

    // Stale list.
    let stale = StatusList::new(3, now() - TimeDelta::hours(3), 3600).unwrap();
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&stale), now()),
        Verdict::StatusStale {
            age: TimeDelta::hours(3)
        }
    );

    // Statuses.
    f.list.set(code.status, CodeStatus::Suspended).unwrap();
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&f.list), now()),
        Verdict::Suspended
    );
    f.list.set(code.status, CodeStatus::Recalled).unwrap();
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&f.list), now()),
        Verdict::Recalled
    );
    f.list
        .revoke(
            code.status,
            RevocationDetail {
                reason: Some("counterfeit".into()),
                since: Some(date(2026, 11, 25)),
            },
        )
        .unwrap();
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&f.list), now()),
        Verdict::Revoked {
            reason: Some("counterfeit".into()),
            since: Some(date(2026, 11, 25))
        }
    );
    // Revocation is final: a stale list still reports it.
    let mut stale_revoked = StatusList::new(3, now() - TimeDelta::hours(3), 3600).unwrap();
    stale_revoked.set(code.status, CodeStatus::Revoked).unwrap();
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&stale_revoked), now()),
        Verdict::Revoked {
            reason: None,
            since: None
        }
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn rotation_keeps_retired_keys_verifying_until_withdrawn() {
    let mut f = fixture();
    let old_code = issue_one(&f.spec, &f.key, &mut f.allocator, &mut f.rng).unwrap();
    let new_key = PrivateKey::generate(Kid::parse("k2").unwrap(), &mut f.rng);
    let new_code = issue_one(&f.spec, &new_key, &mut f.allocator, &mut f.rng).unwrap();
    let rotated = KeySet::new(
        "yuepin",
        2,
        vec![
            f.key.public(KeyStatus::Retired, date(2026, 1, 1)),
            new_key.public(KeyStatus::Active, date(2026, 11, 1)),
        ],
    )
    .unwrap();
    assert_eq!(
        verify(&old_code.uri, &rotated, Some(&f.list), now()),
        Verdict::Valid
    );
    assert_eq!(
        verify(&new_code.uri, &rotated, Some(&f.list), now()),
        Verdict::Valid
    );
    // A code claiming an issue date before the key's not_before is rejected.
    let mut early = f.spec.clone();
    early.issued_on = date(2026, 10, 1);
    let early_code = issue_one(&early, &new_key, &mut f.allocator, &mut f.rng).unwrap();
    assert_eq!(
        verify(&early_code.uri, &rotated, Some(&f.list), now()),
        Verdict::SignatureInvalid
    );
}

#[test]
fn key_set_document_round_trips_and_root_signature_is_checked() {
    let mut f = fixture();
    let root = PrivateKey::generate(Kid::parse("r1").unwrap(), &mut f.rng);
    let signed = f.keys.sign(&root);
    let json = signed.to_json();
    assert!(json.contains("\"kty\": \"OKP\"") && json.contains("\"status\": \"active\""));
    assert!(!json.contains("seed"));
    let trusted = SignedKeySet::from_json_verified(json.as_bytes(), &root.verifying_key()).unwrap();
    assert_eq!(trusted, f.keys);
    let forged = json.replace("\"active\"", "\"retired\"");
    assert!(SignedKeySet::from_json_verified(forged.as_bytes(), &root.verifying_key()).is_err());
    let other_root = PrivateKey::generate(Kid::parse("r2").unwrap(), &mut f.rng);
    assert!(
        SignedKeySet::from_json_verified(json.as_bytes(), &other_root.verifying_key()).is_err()
    );
    // Private key material never appears in Debug output.
    let debug = format!("{root:?}");
    assert!(debug.contains("redacted") && debug.contains("r1"));
}

#[test]
fn status_list_token_round_trips_and_follows_the_ietf_encoding() {
    let mut f = fixture();
    let a = StatusRef::new(3, 0).unwrap();
    let b = StatusRef::new(3, 5).unwrap();
    let c = StatusRef::new(3, LIST_CAPACITY - 1).unwrap();
    f.list.set(a, CodeStatus::Suspended).unwrap();
    f.list.set(b, CodeStatus::Revoked).unwrap();
    f.list.set(c, CodeStatus::Recalled).unwrap();
    let object = f.list.encode();
    assert_eq!(object.bits, 2);
    // Decode lst independently: entry 0 is the low bits of byte 0; entry 5 bits 2..4 of byte 1.
    let mut inflated = Vec::new();
    use std::io::Read as _;
    flate2::read::ZlibDecoder::new(base64_decode(&object.lst).as_slice())
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated.len(), 32_768);
    assert_eq!(inflated[0], 0b01);
    assert_eq!(inflated[1], 0b10 << 2);
    assert_eq!(inflated[32_767], 0b11 << 6);
    assert!(
        object.lst.len() < 200,
        "a mostly-valid list compresses well"
    );

    let token = f
        .list
        .to_signed_token("https://q.yuepin.example.cn/status/3", &f.key);
    let cached = StatusList::from_signed_token(&token, &f.keys).unwrap();
    assert_eq!(cached.get(b).unwrap(), CodeStatus::Revoked);
    assert_eq!(cached.get(c).unwrap(), CodeStatus::Recalled);
    assert_eq!(
        cached.get(StatusRef::new(3, 7).unwrap()).unwrap(),
        CodeStatus::Valid
    );
    assert_eq!(cached.ttl_seconds(), 3600);

    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = base64_encode(&serde_json_swap(&base64_decode(&parts[1])));
    assert!(StatusList::from_signed_token(&parts.join("."), &f.keys).is_err());
    let withdrawn = KeySet::new(
        "yuepin",
        3,
        vec![f.key.public(KeyStatus::Withdrawn, date(2026, 1, 1))],
    )
    .unwrap();
    assert!(StatusList::from_signed_token(&token, &withdrawn).is_err());
    assert!(f
        .list
        .set(StatusRef::new(4, 0).unwrap(), CodeStatus::Revoked)
        .is_err());
}

fn serde_json_swap(claims: &[u8]) -> Vec<u8> {
    String::from_utf8(claims.to_vec())
        .unwrap()
        .replace("\"ttl\":3600", "\"ttl\":9999999")
        .into_bytes()
}

#[test]
fn allocator_hands_out_every_position_once_in_random_order() {
    let mut rng = rng();
    let mut allocator = IndexAllocator::resume(0, [0, 1, 2]).unwrap();
    assert_eq!(allocator.remaining(), LIST_CAPACITY as usize - 3);
    let first: Vec<u32> = (0..1000)
        .map(|_| allocator.allocate(&mut rng).unwrap().position())
        .collect();
    let mut sorted = first.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 1000);
    assert!(!sorted.contains(&0) && !sorted.contains(&2));
    let ascending = first.windows(2).filter(|w| w[1] == w[0] + 1).count();
    assert!(ascending < 10, "positions must not be sequential");
    while allocator.remaining() > 0 {
        allocator.allocate(&mut rng).unwrap();
    }
    assert!(matches!(
        allocator.allocate(&mut rng),
        Err(CodeError::ListFull { .. })
    ));
}

fn longest_codes() -> Vec<String> {
    let mut rng = rng();
    let key = PrivateKey::generate(Kid::parse("k1").unwrap(), &mut rng);
    let resolver = Resolver::parse("resolver.quality-code.gdsamr.example.cn").unwrap();
    assert_eq!(resolver.as_str().len(), 39);
    let resolver = Resolver::parse("qr-resolver.quality-code.gdamr.gov.cn.cn").unwrap();
    assert_eq!(resolver.as_str().len(), 40);
    // A 20-character mixed-case lot costs byte mode throughout; it fits v10-M with hosts up to 32 characters.
    let shorter = Resolver::parse("qr.quality-code.gdamr.gov.cn.cn").unwrap();
    let mut codes = Vec::new();
    // Realistic 20-character lots: digits/upper-case (GB practice) at the 40-character host, and mixed case.
    for (resolver, lot) in [
        (&resolver, "20261126GZ0012345678"),
        (&resolver, "20261126-GZ-00123-AB"),
        (&shorter, "Lot-2026-11-26-gz-01"),
        (&shorter, "lotabcdefghijklmnopq"),
    ] {
        let spec = BatchSpec {
            resolver: resolver.clone(),
            subject: Subject::Gtin(Gtin::parse("06901234567892").unwrap()),
            lot: Some(Lot::parse(lot).unwrap()),
            issued_on: date(2026, 11, 26),
        };
        // Worst case status index: the last position of the last list (5-byte CBOR integer).
        let mut allocator = IndexAllocator::resume(32_767, 0..LIST_CAPACITY - 1).unwrap();
        codes.push(
            issue_one(&spec, &key, &mut allocator, &mut rng)
                .unwrap()
                .uri,
        );
    }
    codes
}

#[test]
fn longest_realistic_code_fits_qr_version_10_at_level_m() {
    for uri in longest_codes() {
        let version = qr_version(&uri).unwrap();
        println!("{} chars → QR version {version}: {uri}", uri.len());
        assert!(version <= MAX_VERSION, "{uri} needs version {version}");
    }
}

#[test]
fn non_gs1_products_get_a_p_path_on_the_same_resolver() {
    let mut f = fixture();
    f.spec.subject = Subject::Product(ProductId::parse("GD-440100-000123").unwrap());
    f.spec.lot = None;
    let code = issue_one(&f.spec, &f.key, &mut f.allocator, &mut f.rng).unwrap();
    assert!(code
        .uri
        .starts_with("https://q.yuepin.example.cn/p/GD-440100-000123/21/"));
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&f.list), now()),
        Verdict::Valid
    );
}

#[test]
fn lots_with_reserved_characters_are_percent_encoded_and_round_trip() {
    let mut f = fixture();
    f.spec.lot = Some(Lot::parse("A/B+C%D(1)").unwrap());
    let code = issue_one(&f.spec, &f.key, &mut f.allocator, &mut f.rng).unwrap();
    assert!(
        code.uri.contains("/10/A%2FB%2BC%25D%281%29/21/"),
        "{}",
        code.uri
    );
    assert_eq!(
        verify(&code.uri, &f.keys, Some(&f.list), now()),
        Verdict::Valid
    );
    let parsed = SignedUri::parse(&code.uri).unwrap();
    assert_eq!(parsed.code.lot.unwrap().as_str(), "A/B+C%D(1)");
    // Non-canonical escapes (lower-case hex) are rejected rather than normalised.
    let lower = code.uri.replace("%2F", "%2f");
    assert!(matches!(
        verify(&lower, &f.keys, None, now()),
        Verdict::Malformed(_)
    ));
}

#[test]
fn batch_writes_csv_rows_that_all_verify() {
    let mut f = fixture();
    let mut out = Vec::new();
    let refs = issue_batch(
        &f.spec,
        &f.key,
        5000,
        &mut f.allocator,
        &mut f.rng,
        &mut out,
    )
    .unwrap();
    assert_eq!(refs.len(), 5000);
    let mut reader = csv::Reader::from_reader(out.as_slice());
    assert_eq!(reader.headers().unwrap(), CSV_HEADER.as_slice());
    let mut serials = std::collections::HashSet::new();
    let mut count = 0;
    for row in reader.records() {
        let row = row.unwrap();
        assert_eq!(
            verify(&row[0], &f.keys, Some(&f.list), now()),
            Verdict::Valid
        );
        assert!(row[0].contains(&format!("/21/{}?s=", &row[1])));
        assert_eq!(&row[3], "2026-11-26");
        assert_eq!(&row[4], "k1");
        assert!(serials.insert(row[1].to_string()));
        count += 1;
    }
    assert_eq!(count, 5000);
    let mut small = IndexAllocator::resume(1, 0..LIST_CAPACITY - 10).unwrap();
    assert!(issue_batch(&f.spec, &f.key, 11, &mut small, &mut f.rng, Vec::new()).is_err());
}

#[test]
fn key_files_are_0600_and_loose_modes_are_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut rng = rng();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k1.key");
    let key = PrivateKey::generate(Kid::parse("k1").unwrap(), &mut rng);
    yuepin_code::keys_fs::write_private_key(&path, &key).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let loaded = yuepin_code::keys_fs::read_private_key(&path).unwrap();
    assert_eq!(loaded.verifying_key(), key.verifying_key());
    assert_eq!(loaded.kid().as_str(), "k1");
    assert!(
        yuepin_code::keys_fs::write_private_key(&path, &key).is_err(),
        "never overwrites"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = yuepin_code::keys_fs::read_private_key(&path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("644"), "{error}");
}

#[test]
fn qr_images_and_modules_are_well_formed() {
    let uri = &longest_codes()[0];
    let svg = qr_svg(uri, 4).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
    let png = qr_png(uri, 4).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (width, dark) = yuepin_code::qr::qr_modules(uri).unwrap();
    assert_eq!(dark.len(), width * width);
    // the three finder patterns: dark top-left corners
    assert!(dark[0] && dark[width - 1] && dark[(width - 1) * width]);
}
