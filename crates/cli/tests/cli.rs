//! The binary end to end on both databases: migrate is idempotent, the demo seeds and prints
//! its logins, `audit verify` passes on an intact chain and names the event that was tampered with.

use sea_orm::ConnectionTrait;
use std::process::Command;
use truongso_store::testing::{Backend, fresh};

fn run(url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_truongso"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("TRUONGSO_DATABASE_URL")
        .output()
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn scenario(backend: Backend) {
    let db = fresh(backend).await;
    let url = db.url.clone();
    let (ok, out) = run(&url, &["migrate"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("Đã áp dụng 0 migration"),
        "already migrated by the harness: {out}"
    );
    let (ok, out) = run(&url, &["demo", "--no-serve", "--seed", "3"]);
    assert!(ok, "{out}");
    assert!(out.contains("Đã tạo tỉnh mẫu"));
    assert!(out.contains("admin.so") && out.contains("phuhuynh.thcs") && out.contains("Demo@2025"));
    let (ok, out) = run(&url, &["demo", "--no-serve", "--seed", "3"]);
    assert!(ok && out.contains("Dùng lại tỉnh mẫu"), "{out}");
    // Another data key cannot open this database's encrypted fields: refused at start.
    let other = truongso_store::crypto::FieldCipher::generate_key();
    let out = Command::new(env!("CARGO_BIN_EXE_truongso"))
        .args(["--database-url", url.as_str(), "demo", "--no-serve"])
        .env_remove("TRUONGSO_DATABASE_URL")
        .env("TRUONGSO_DATA_KEY", &other)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("data key"),
        "{out:?}"
    );
    let (ok, out) = run(&url, &["audit", "verify"]);
    assert!(ok, "{out}");
    assert!(out.contains("Chuỗi nhật ký toàn vẹn"));
    db.store
        .db
        .execute_unprepared("UPDATE audit_events SET after_json = '{\"name\":\"giả mạo\"}' WHERE seq = 10")
        .await
        .unwrap();
    let (ok, out) = run(&url, &["audit", "verify"]);
    assert!(!ok, "a tampered chain fails the command");
    assert!(out.contains("sự kiện số 10"), "{out}");
    assert!(out.contains("edited"), "{out}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_on_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_on_postgres() {
    scenario(Backend::Postgres).await;
}
