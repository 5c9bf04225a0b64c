//! RFC 6962 known-answer tests.
//!
//! Leaves are the ones used by the certificate-transparency test suites; every
//! expected value was produced by `tests/vectors/rfc6962_reference.py`, an
//! independent Python/hashlib implementation of RFC 6962 §2.1 (and the roots,
//! inclusion path 0/8 and consistency proofs 6→8 and 2→5 agree with the values
//! published in those suites).

use sentinel_audit::merkle::{
    check_record, check_tree, empty_tree_hash, prove_record, prove_tree, record_hash, tree_hash,
    Hash, MemoryHashStore,
};

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

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn hs(v: &[&str]) -> Vec<Hash> {
    v.iter().map(|s| h(s)).collect()
}

fn tree() -> MemoryHashStore {
    let mut s = MemoryHashStore::new();
    for l in LEAVES {
        s.append(&hex::decode(l).unwrap()).unwrap();
    }
    s
}

#[test]
fn empty_tree() {
    assert_eq!(
        empty_tree_hash(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(
        tree_hash(0, &MemoryHashStore::new()).unwrap(),
        empty_tree_hash()
    );
}

#[test]
fn roots_for_every_size() {
    let s = tree();
    for (i, want) in ROOTS.iter().enumerate() {
        assert_eq!(
            tree_hash(i as u64 + 1, &s).unwrap(),
            h(want),
            "size {}",
            i + 1
        );
    }
}

#[test]
fn inclusion_paths() {
    let s = tree();
    let cases: [(u64, u64, Vec<Hash>); 5] = [
        (0, 1, vec![]),
        (
            0,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            5,
            8,
            hs(&[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
        (
            2,
            3,
            hs(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        ),
        (
            1,
            5,
            hs(&[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
    ];
    for (m, n, want) in cases {
        let got = prove_record(n, m, &s).unwrap();
        assert_eq!(got, want, "path {m} in {n}");
        let leaf = record_hash(&hex::decode(LEAVES[m as usize]).unwrap());
        check_record(&want, n, &h(ROOTS[n as usize - 1]), m, &leaf).unwrap();
    }
}

#[test]
fn consistency_proofs() {
    let s = tree();
    let cases: [(u64, u64, Vec<Hash>); 5] = [
        (1, 1, vec![]),
        (
            1,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            6,
            8,
            hs(&[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
        (
            2,
            5,
            hs(&[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
        (
            3,
            7,
            hs(&[
                "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
            ]),
        ),
    ];
    for (m, n, want) in cases {
        let got = prove_tree(n, m, &s).unwrap();
        assert_eq!(got, want, "consistency {m} -> {n}");
        check_tree(
            &want,
            n,
            &h(ROOTS[n as usize - 1]),
            m,
            &h(ROOTS[m as usize - 1]),
        )
        .unwrap();
    }
}
