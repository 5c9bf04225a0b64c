//! The SQLite store's audit journal: appends are durable in it before the tables have them,
//! reads wait for the tables, batches the tables lost are replayed on the next open, and only
//! one store writes a database's log.

use std::sync::Arc;

use sentinel_core::*;
use sentinel_store::{AuditRecord, Store, StoreError};
use uuid::Uuid;

fn batch(first: u64, rows: u64) -> Vec<AuditRecord> {
    (first..first + rows)
        .map(|seq| AuditRecord {
            seq,
            tenant_id: None,
            kind: "decision".into(),
            agent: Some("bot".into()),
            tool: Some("query_metrics".into()),
            outcome: Some("allow".into()),
            created_at: ids::now(),
            entry: format!("{{\"seq\":{seq}}}"),
            leaf_hash: [seq as u8; 32],
        })
        .collect()
}

fn record(tenant: Uuid) -> DecisionRecord {
    DecisionRecord {
        decision_id: Uuid::now_v7(),
        tenant_id: tenant,
        agent: "bot".into(),
        tool: "query_metrics".into(),
        outcome: "allow".into(),
        revision: "sha256:abc".into(),
        input: serde_json::json!({"action": {"arguments": {"q": "up \u{2603} \"quoted\""}}}),
        result: serde_json::json!({"outcome": "allow"}),
        timestamp: ids::now(),
        duration_us: 17,
    }
}

async fn tenant(store: &Arc<dyn Store>) -> Uuid {
    let t = Tenant {
        id: Uuid::now_v7(),
        slug: "acme".into(),
        display_name: "Acme".into(),
        created_at: ids::now(),
    };
    store.insert_tenant(&t).await.unwrap();
    t.id
}

async fn raw(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn what_an_append_answered_is_read_back_at_once() {
    let (_dir, url) = sentinel_testkit::sqlite();
    let store = sentinel_store::open(&url).await.unwrap();
    let t = tenant(&store).await;
    for i in 0..50u64 {
        let decision = record(t);
        store
            .append_audit(
                &batch(i, 1),
                &[(i, [1; 32])],
                std::slice::from_ref(&decision),
            )
            .await
            .unwrap();
        // No sleep: the read waits for the tables to hold what the journal answered.
        assert!(store.audit_entry(i).await.unwrap().is_some(), "entry {i}");
        assert_eq!(
            store.decision(decision.decision_id).await.unwrap(),
            Some(decision)
        );
        assert_eq!(store.audit_hashes(&[i]).await.unwrap(), vec![[1; 32]]);
    }
    assert_eq!(store.audit_size().await.unwrap(), 50);
}

#[tokio::test]
async fn batches_the_tables_lost_are_replayed_on_the_next_open() {
    let (dir, url) = sentinel_testkit::sqlite();
    let store = sentinel_store::open(&url).await.unwrap();
    let t = tenant(&store).await;
    let decisions: Vec<DecisionRecord> = (0..3).map(|_| record(t)).collect();
    store.append_audit(&batch(0, 5), &[], &[]).await.unwrap();
    store
        .append_audit(&batch(5, 3), &[(9, [9; 32])], &decisions)
        .await
        .unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 8);
    drop(store);
    // What a crash before the tables were synced (or before the applier ran) looks like: the
    // tables lack the last batch, the journal has it.
    raw(&url, "DELETE FROM audit_entries WHERE seq >= 5").await;
    raw(&url, "DELETE FROM audit_hashes").await;
    raw(&url, "DELETE FROM decisions").await;

    let store = sentinel_store::open(&url).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 8);
    let entry = store.audit_entry(7).await.unwrap().expect("replayed");
    let sent = batch(7, 1).remove(0);
    assert_eq!(
        (&entry.entry, entry.leaf_hash),
        (&sent.entry, sent.leaf_hash)
    );
    assert_eq!(store.audit_hashes(&[9]).await.unwrap(), vec![[9; 32]]);
    for d in &decisions {
        let back = store
            .decision(d.decision_id)
            .await
            .unwrap()
            .expect("replayed");
        assert_eq!(back.input, d.input);
    }
    // And the log goes on after them.
    store.append_audit(&batch(8, 1), &[], &[]).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 9);
    drop(dir);
}

#[tokio::test]
async fn turning_the_journal_off_still_replays_what_it_holds() {
    let (_dir, url) = sentinel_testkit::sqlite();
    let store = sentinel_store::open(&url).await.unwrap();
    store.append_audit(&batch(0, 2), &[], &[]).await.unwrap();
    store.append_audit(&batch(2, 2), &[], &[]).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 4);
    drop(store);
    raw(&url, "DELETE FROM audit_entries WHERE seq >= 2").await;
    let mut off = sentinel_store::StoreOptions::default();
    off.audit_journal = false;
    let store = sentinel_store::open_with(&url, off.clone()).await.unwrap();
    assert_eq!(
        store.audit_size().await.unwrap(),
        4,
        "replayed with the journal off"
    );
    // Appends then go straight to the tables, and the journal's old batches stay behind them.
    store.append_audit(&batch(4, 1), &[], &[]).await.unwrap();
    drop(store);
    let store = sentinel_store::open(&url).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 5);
}

#[tokio::test]
async fn a_journal_that_does_not_continue_the_tables_stops_the_open() {
    let (_dir, url) = sentinel_testkit::sqlite();
    let store = sentinel_store::open(&url).await.unwrap();
    store.append_audit(&batch(0, 2), &[], &[]).await.unwrap();
    store.append_audit(&batch(2, 2), &[], &[]).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 4);
    drop(store);
    // Entries the journal no longer has are gone from the tables: the log cannot be mended by
    // replaying, and starting would reuse the lost entries' numbers.
    raw(&url, "DELETE FROM audit_entries").await;
    raw(&url, "INSERT INTO audit_entries (seq, kind, created_at, entry, leaf_hash) VALUES (0, 'decision', 0, '{}', '00')").await;
    let after_gap = sentinel_store::open(&url).await;
    // The journal's first batch (0..2) continues a log of size 0 but not of size 1.
    match after_gap {
        Err(StoreError::Corrupt(why)) => {
            assert!(why.contains("does not continue"), "{why}")
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_second_store_on_the_same_file_may_read_but_not_append() {
    let (_dir, url) = sentinel_testkit::sqlite();
    let first = sentinel_store::open(&url).await.unwrap();
    first.append_audit(&batch(0, 1), &[], &[]).await.unwrap();
    // Another store reads the tables as they are: they trail the journal by up to the
    // applier's linger, until a read through the first store has waited for them.
    assert_eq!(first.audit_size().await.unwrap(), 1);
    let second = sentinel_store::open(&url).await.unwrap();
    assert_eq!(second.audit_size().await.unwrap(), 1);
    let err = second
        .append_audit(&batch(1, 1), &[], &[])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("one Sentinel server per SQLite database"),
        "{err}"
    );
    // The first goes on writing.
    first.append_audit(&batch(1, 1), &[], &[]).await.unwrap();
    assert_eq!(first.audit_size().await.unwrap(), 2);
}

#[tokio::test]
async fn a_new_database_ignores_journal_files_left_beside_it() {
    let (dir, url) = sentinel_testkit::sqlite();
    let store = sentinel_store::open(&url).await.unwrap();
    store.append_audit(&batch(0, 3), &[], &[]).await.unwrap();
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("sentinel.db{suffix}")));
    }
    let store = sentinel_store::open(&url).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 0);
    store.append_audit(&batch(0, 1), &[], &[]).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 1);
}

#[tokio::test]
async fn a_table_that_refuses_writes_refuses_the_next_appends_with_its_reason() {
    let (_dir, url) = sentinel_testkit::sqlite();
    let store = sentinel_store::open(&url).await.unwrap();
    store.append_audit(&batch(0, 1), &[], &[]).await.unwrap();
    raw(
        &url,
        "CREATE TRIGGER full BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'the disk is full'); END",
    )
    .await;
    // The batch that meets the refusal was journaled (it is in the log); the ones after it are
    // refused, and reads say why rather than wait.
    let (mut refused, mut journaled) = (None, 1);
    for seq in 1..100 {
        match store.append_audit(&batch(seq, 1), &[], &[]).await {
            Ok(()) => {
                journaled += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await
            }
            Err(e) => {
                refused = Some(e.to_string());
                break;
            }
        }
    }
    let refused = refused.expect("appends are refused once the tables refuse writes");
    assert!(refused.contains("the disk is full"), "{refused}");
    let read = store.audit_entry(0).await.unwrap_err().to_string();
    assert!(read.contains("the disk is full"), "{read}");

    // Once the tables take writes again, the journaled batch arrives and appends go on.
    raw(&url, "DROP TRIGGER full").await;
    let mut size = 0;
    for _ in 0..200 {
        if let Ok(s) = store.audit_size().await {
            size = s;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        journaled >= 2,
        "the first append after the trigger is journaled"
    );
    assert_eq!(size, journaled, "no batch that met the refusal was lost");
    store
        .append_audit(&batch(journaled, 1), &[], &[])
        .await
        .unwrap();
}

/// A decision whose tenant is deleted while its record is on the way to the tables is refused by
/// them (the record's tenant is gone, as are its other decisions). It must not hold up, nor
/// take down on replay, the records of other tenants that shared its batch.
#[tokio::test]
async fn a_deleted_tenant_s_record_does_not_hold_up_the_others() {
    let (_dir, url) = sentinel_testkit::sqlite();
    let store = sentinel_store::open(&url).await.unwrap();
    let live = tenant(&store).await;
    let (kept, gone) = (record(live), record(Uuid::now_v7()));
    store
        .append_audit(&batch(0, 1), &[], &[gone.clone(), kept.clone()])
        .await
        .unwrap();
    assert!(store.audit_entry(0).await.unwrap().is_some());
    for _ in 0..200 {
        if store.decision(kept.decision_id).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        store.decision(kept.decision_id).await.unwrap().as_ref(),
        Some(&kept)
    );
    assert_eq!(store.decision(gone.decision_id).await.unwrap(), None);

    // Replayed after a crash that lost the tables' copy, the same.
    drop(store);
    raw(&url, "DELETE FROM audit_entries").await;
    raw(&url, "DELETE FROM decisions").await;
    let store = sentinel_store::open(&url).await.unwrap();
    assert_eq!(store.audit_size().await.unwrap(), 1);
    assert_eq!(store.decision(kept.decision_id).await.unwrap(), Some(kept));
    assert_eq!(store.decision(gone.decision_id).await.unwrap(), None);
}
