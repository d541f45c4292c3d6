//! A guardian sees their child's results, through the API and on the result card, once the
//! subject teacher has entered marks; a classmate's results are refused. Both databases.

mod common;

use reqwest::Client;
use serde_json::{Value, json};
use truongso_store::accounts;

async fn call(
    app: &common::TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, String) {
    let mut rb = Client::new().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

app_test!(
    a_guardian_reads_the_childs_results,
    async |app: &common::TestApp| {
        let db = &app.store().db;
        let parent = accounts::by_username(db, "phuhuynh.thcs").await.unwrap().unwrap();
        let child = accounts::grants_of(db, parent.id).await.unwrap()[0]
            .learner_id
            .unwrap();
        let teacher = app.token("gvbm.thcs").await;
        let guardian = app.token("phuhuynh.thcs").await;
        let get = reqwest::Method::GET;

        // The mathematics teacher of the child's class enters the TT 22 worked example.
        let (status, body) = call(app, &teacher, get.clone(), "/api/v1/classes", None).await;
        assert_eq!(status, 200);
        let classes: Value = serde_json::from_str(&body).unwrap();
        let k = classes[0]["id"].as_str().unwrap().to_string();
        let (_, body) = call(
            app,
            &teacher,
            get.clone(),
            &format!("/api/v1/gradebook/marks?class_id={k}&subject=toan&term=1"),
            None,
        )
        .await;
        let sheet: Value = serde_json::from_str(&body).unwrap();
        let rows: Vec<String> = sheet["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["learner_id"].as_str().unwrap().to_string())
            .collect();
        assert!(rows.contains(&child.to_string()), "the child is on the sheet");
        let classmate = rows.iter().find(|r| **r != child.to_string()).unwrap().clone();
        let cells: Vec<Value> = ["tx1", "tx2", "tx3", "tx4", "gk", "ck"]
            .iter()
            .zip(["7", "8,5", "9", "6", "7,5", "8"])
            .map(|(slot, v)| json!({"learner_id": child, "slot": slot, "value": v, "version": 0}))
            .chain([
                json!({"learner_id": child, "slot": "note", "value": "Chăm chỉ, tiến bộ đều", "version": 0}),
            ])
            .collect();
        let (status, body) = call(
            app,
            &teacher,
            reqwest::Method::PUT,
            "/api/v1/gradebook/marks",
            Some(json!({"class_id": k, "subject": "toan", "term": 1, "cells": cells})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let saved: Value = serde_json::from_str(&body).unwrap();
        assert!(
            saved["cells"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["status"] == "saved"),
            "{body}"
        );
        assert_eq!(saved["rows"][0]["average"], "7.7");

        // The guardian: the child's results through the API...
        let (status, body) = call(
            app,
            &guardian,
            get.clone(),
            &format!("/api/v1/learners/{child}/results"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let results: Value = serde_json::from_str(&body).unwrap();
        let me = &results["learners"][0];
        assert_eq!(me["learner_id"], child.to_string());
        let toan = me["secondary"]["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subject"] == "toan")
            .unwrap()
            .clone();
        assert_eq!(toan["hk1"], "7.7");
        assert_eq!(
            toan["hk2"]["problem"], "missing",
            "semester II is not entered yet"
        );
        // ...and on the result card.
        let (status, page) = call(
            app,
            &guardian,
            get.clone(),
            &format!("/learners/{child}/results"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Kết quả học tập") && page.contains("Toán") && page.contains("7.7"),
            "{page}"
        );
        // A classmate's results are not theirs to read.
        for path in [
            format!("/api/v1/learners/{classmate}/results"),
            format!("/learners/{classmate}/results"),
        ] {
            let (status, _) = call(app, &guardian, get.clone(), &path, None).await;
            assert_eq!(status, 403, "{path}");
        }
    }
);
