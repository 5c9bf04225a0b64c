//! Property tests: every inclusion and consistency proof verifies for all
//! (n, t) up to a few hundred, and no proof survives a flipped bit anywhere —
//! in a proof hash, the leaf, either root, or the sizes.

use std::sync::OnceLock;

use proptest::prelude::*;
use sentinel_audit::merkle::{
    check_record, check_tree, prove_record, prove_tree, record_hash, stored_hash_count, tree_hash,
    Hash, MemoryHashStore,
};

const MAX: u64 = 300;

struct Fixture {
    store: MemoryHashStore,
    leaves: Vec<Hash>,
    roots: Vec<Hash>, // roots[t] = root of size t
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut store = MemoryHashStore::new();
        let mut leaves = Vec::new();
        for i in 0..MAX {
            let data = format!("{{\"seq\":{i}}}");
            leaves.push(record_hash(data.as_bytes()));
            store.append(data.as_bytes()).unwrap();
        }
        let roots = (0..=MAX).map(|t| tree_hash(t, &store).unwrap()).collect();
        Fixture {
            store,
            leaves,
            roots,
        }
    })
}

#[test]
fn every_proof_verifies_up_to_max() {
    let f = fixture();
    for t in 1..=MAX {
        let th = f.roots[t as usize];
        for n in 0..t {
            let p = prove_record(t, n, &f.store).unwrap();
            check_record(&p, t, &th, n, &f.leaves[n as usize])
                .unwrap_or_else(|e| panic!("inclusion {n} in {t}: {e}"));
        }
        for n in 1..=t {
            let p = prove_tree(t, n, &f.store).unwrap();
            check_tree(&p, t, &th, n, &f.roots[n as usize])
                .unwrap_or_else(|e| panic!("consistency {n} -> {t}: {e}"));
        }
    }
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[bit / 8 % 32] ^= 1 << (bit % 8);
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn inclusion_fails_when_anything_is_flipped(
        t in 1..=MAX, n_seed in any::<u64>(), which in any::<usize>(), bit in 0usize..256,
    ) {
        let f = fixture();
        let n = n_seed % t;
        let proof = prove_record(t, n, &f.store).unwrap();
        let th = f.roots[t as usize];
        let leaf = f.leaves[n as usize];
        prop_assert!(check_record(&proof, t, &th, n, &leaf).is_ok());
        // Pick one of: a proof element, the leaf, the root.
        let slots = proof.len() + 2;
        match which % slots {
            i if i < proof.len() => {
                let mut p = proof.clone();
                p[i] = flip(&p[i], bit);
                prop_assert!(check_record(&p, t, &th, n, &leaf).is_err());
            }
            i if i == proof.len() => {
                prop_assert!(check_record(&proof, t, &th, n, &flip(&leaf, bit)).is_err());
            }
            _ => prop_assert!(check_record(&proof, t, &flip(&th, bit), n, &leaf).is_err()),
        }
        // A different index with the same proof fails (unless the proof is empty).
        if t > 1 {
            let other = (n + 1 + (which as u64 % (t - 1))) % t;
            prop_assert!(check_record(&proof, t, &th, other, &leaf).is_err());
        }
        // Dropping or adding an element fails.
        if !proof.is_empty() {
            prop_assert!(check_record(&proof[1..], t, &th, n, &leaf).is_err());
        }
        let mut longer = proof.clone();
        longer.push(th);
        prop_assert!(check_record(&longer, t, &th, n, &leaf).is_err());
    }

    #[test]
    fn consistency_fails_when_anything_is_flipped(
        t in 1..=MAX, n_seed in any::<u64>(), which in any::<usize>(), bit in 0usize..256,
    ) {
        let f = fixture();
        let n = 1 + n_seed % t;
        let proof = prove_tree(t, n, &f.store).unwrap();
        let th = f.roots[t as usize];
        let h = f.roots[n as usize];
        prop_assert!(check_tree(&proof, t, &th, n, &h).is_ok());
        let slots = proof.len() + 2;
        match which % slots {
            i if i < proof.len() => {
                let mut p = proof.clone();
                p[i] = flip(&p[i], bit);
                prop_assert!(check_tree(&p, t, &th, n, &h).is_err());
            }
            i if i == proof.len() => {
                prop_assert!(check_tree(&proof, t, &th, n, &flip(&h, bit)).is_err());
            }
            _ => prop_assert!(check_tree(&proof, t, &flip(&th, bit), n, &h).is_err()),
        }
        // Claiming a different old size with the same proof and roots fails.
        if n < t {
            prop_assert!(check_tree(&proof, t, &th, n + 1, &h).is_err());
        }
        let mut longer = proof.clone();
        longer.push(h);
        prop_assert!(check_tree(&longer, t, &th, n, &h).is_err());
    }
}

proptest! {
    // Each case re-proves once per stored hash, so fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_corrupt_store_yields_proofs_that_fail(t in 2..=MAX, n_seed in any::<u64>(), bit in 0usize..256) {
        // Flip one stored hash that the proof reads; the resulting proof must not
        // verify against the honest root.
        let f = fixture();
        let n = n_seed % t;
        let honest = prove_record(t, n, &f.store).unwrap();
        let mut store = f.store.clone();
        let before = store.stored().to_vec();
        // Corrupt each stored hash in turn; whenever that changes the proof, the
        // proof must fail. At least one must change it (the proof is non-empty).
        let mut changed = 0;
        for (i, original) in before.iter().enumerate().take(stored_hash_count(t) as usize) {
            store.stored_mut()[i] = flip(original, bit);
            let p = prove_record(t, n, &store).unwrap();
            if p != honest {
                changed += 1;
                prop_assert!(check_record(&p, t, &f.roots[t as usize], n, &f.leaves[n as usize]).is_err());
            }
            store.stored_mut()[i] = *original;
        }
        prop_assert!(changed > 0);
    }
}
