//! The Merkle tree against published vectors and by property.
//!
//! Vectors: the RFC 6962 reference vectors of transparency-dev/merkle, `proof/verify_test.go`
//! (`leaves`, `roots`, `inclusionProofs`, `consistencyProofs`; the same set certificate-
//! transparency-go carried in `merkle/log_verifier_test.go`), including their corruption
//! probes (wrong index, wrong size, wrong root, extra or missing or flipped proof hashes).
//! The leaf indices there are 1-based; here they are 0-based.
//!
//! Properties: every inclusion proof of every leaf verifies; every consistency proof between
//! random sizes m ≤ n verifies; altering, removing or reordering a leaf breaks both.

use proptest::prelude::*;
use yuepin_credit::merkle::*;

fn h(s: &str) -> Hash {
    Hash::from_hex(s).unwrap()
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (0-based leaf, tree size, proof).
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            3,
            vec![h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// (size1, size2, proof).
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

fn vector_leaves() -> Vec<Hash> {
    LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap()))
        .collect()
}

#[test]
fn tree_heads_match_the_reference() {
    let leaves = vector_leaves();
    for n in 1..=8 {
        assert_eq!(root(&leaves[..n]), h(ROOTS[n - 1]), "size {n}");
    }
    assert_eq!(
        root(&[]).to_hex(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn inclusion_proofs_match_and_corruptions_fail() {
    let leaves = vector_leaves();
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size, proof) in inclusion_vectors() {
        let r = h(ROOTS[size as usize - 1]);
        let leaf = leaves[index as usize];
        assert_eq!(
            inclusion_proof(index, &leaves[..size as usize]).unwrap(),
            proof,
            "generated proof for {index} in {size}"
        );
        verify_inclusion(index, size, &leaf, &proof, &r).unwrap();
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (index.wrapping_sub(1), size, leaf, r, proof.clone()),
            (index + 1, size, leaf, r, proof.clone()),
            (index ^ 2, size, leaf, r, proof.clone()),
            (index, size * 2, leaf, r, proof.clone()),
            (index, size / 2, leaf, r, proof.clone()),
            (index, size, leaf_hash(b"WrongLeaf"), r, proof.clone()),
            (index, size, leaf, empty_root(), proof.clone()),
            (index, size, leaf, some, proof.clone()),
            (index, size, leaf, r, [proof.clone(), vec![r]].concat()),
            (index, size, leaf, r, [vec![r], proof.clone()].concat()),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i].0[0] ^= 8;
            probes.push((index, size, leaf, r, p));
        }
        if !proof.is_empty() {
            probes.push((index, size, leaf, r, proof[..proof.len() - 1].to_vec()));
        }
        if proof.len() > 1 {
            let p = [vec![proof[0], some], proof[1..].to_vec()].concat();
            probes.push((index, size, leaf, r, p));
        }
        for (n, (i, s, l, rt, p)) in probes.into_iter().enumerate() {
            assert!(
                verify_inclusion(i, s, &l, &p, &rt).is_err(),
                "probe {n} of leaf {index} in {size} verified"
            );
        }
    }
}

#[test]
fn consistency_proofs_match_and_corruptions_fail() {
    let leaves = vector_leaves();
    for (m, n, proof) in consistency_vectors() {
        let (r1, r2) = (h(ROOTS[m as usize - 1]), h(ROOTS[n as usize - 1]));
        assert_eq!(
            consistency_proof(m, &leaves[..n as usize]).unwrap(),
            proof,
            "generated proof {m} to {n}"
        );
        verify_consistency(m, n, &r1, &r2, &proof).unwrap();
        if proof.is_empty() {
            continue;
        }
        let wrong = leaf_hash(b"WrongRoot");
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (m - 1, n, r1, r2, proof.clone()),
            (m + 1, n, r1, r2, proof.clone()),
            (m ^ 2, n, r1, r2, proof.clone()),
            (m, n * 2, r1, r2, proof.clone()),
            (m, n / 2, r1, r2, proof.clone()),
            (m, n, wrong, r2, proof.clone()),
            (m, n, r1, wrong, proof.clone()),
            (m, n, r2, r1, proof.clone()),
            (m, n, r1, r2, vec![]),
            (m, n, r1, r2, [proof.clone(), vec![r1]].concat()),
            (m, n, r1, r2, [proof.clone(), vec![r2]].concat()),
            (m, n, r1, r2, [vec![r1], proof.clone()].concat()),
            (m, n, r1, r2, [vec![r2], proof.clone()].concat()),
            (m, n, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            (m, n, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i].0[0] ^= 16;
            probes.push((m, n, r1, r2, p));
        }
        for (k, (a, b, x, y, p)) in probes.into_iter().enumerate() {
            assert!(
                verify_consistency(a, b, &x, &y, &p).is_err(),
                "probe {k} of {m} to {n} verified"
            );
        }
    }
}

#[test]
fn trivial_consistency_cases() {
    let any = leaf_hash(b"x");
    let other = leaf_hash(b"y");
    assert!(verify_consistency(0, 0, &any, &any, &[]).is_ok());
    assert!(verify_consistency(0, 5, &any, &other, &[]).is_ok());
    assert!(verify_consistency(1, 1, &any, &other, &[]).is_err());
    assert!(verify_consistency(2, 1, &any, &other, &[]).is_err());
    assert!(verify_consistency(1, 2, &any, &other, &[]).is_err());
    assert!(verify_consistency(1, 1, &any, &any, &[any]).is_err());
    assert!(verify_inclusion(0, 0, &any, &[], &any).is_err());
}

fn data_leaves(data: &[Vec<u8>]) -> Vec<Hash> {
    data.iter().map(|d| leaf_hash(d)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_leaf_proves_inclusion(data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..8), 1..70)) {
        let leaves = data_leaves(&data);
        let r = root(&leaves);
        for i in 0..leaves.len() as u64 {
            let p = inclusion_proof(i, &leaves).unwrap();
            prop_assert!(verify_inclusion(i, leaves.len() as u64, &leaves[i as usize], &p, &r).is_ok());
        }
    }

    #[test]
    fn every_prefix_is_consistent(data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..8), 1..70), m_seed in any::<u64>()) {
        let leaves = data_leaves(&data);
        let n = leaves.len() as u64;
        let m = m_seed % (n + 1);
        let p = consistency_proof(m, &leaves).unwrap();
        prop_assert!(verify_consistency(m, n, &root(&leaves[..m as usize]), &root(&leaves), &p).is_ok());
    }

    /// A log whose entry was altered, removed or swapped with its neighbour no longer matches a
    /// checkpoint of the original: neither the inclusion proof of the original entry nor the
    /// consistency proof from an earlier checkpoint verifies against the tampered head.
    #[test]
    fn tampering_is_detected(
        data in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..8), 2..50),
        at_seed in any::<usize>(),
        how in 0u8..3,
    ) {
        let leaves = data_leaves(&data);
        let n = leaves.len();
        let at = at_seed % n;
        let mut tampered = data.clone();
        match how {
            0 => tampered[at].push(0xff),
            1 => { tampered.remove(at); }
            _ => {
                let j = if at + 1 < n { at + 1 } else { at - 1 };
                prop_assume!(tampered[at] != tampered[j]);
                tampered.swap(at, j);
            }
        }
        let bad = data_leaves(&tampered);
        let good_root = root(&leaves);
        // The tampered log's head differs from the signed one.
        prop_assert_ne!(root(&bad), good_root);
        // What the tampered log now holds at that index does not verify against the head.
        if at < bad.len() {
            let p = inclusion_proof(at as u64, &bad).unwrap();
            prop_assert!(verify_inclusion(at as u64, n as u64, &bad[at], &p, &good_root).is_err());
        }
        // A witness holding the checkpoint (n, head) is not shown consistency by the tampered
        // log, even after it grows by one entry.
        let mut grown = bad.clone();
        grown.push(leaf_hash(b"later entry"));
        let p = consistency_proof(n as u64, &grown).unwrap();
        prop_assert!(verify_consistency(n as u64, grown.len() as u64, &good_root, &root(&grown), &p).is_err());
    }
}
