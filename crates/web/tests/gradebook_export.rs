//! Gradebook exports on both databases: the subject teacher enters a term of Toán through the
//! API, then the principal downloads the subject page and the class's year results as XLSX and
//! the files read back with the marks as numbers.

mod common;

use calamine::{Data, Range, Reader, Xlsx};
use reqwest::Client;
use serde_json::{Value, json};
use std::io::Cursor;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn get_json(app: &common::TestApp, token: &str, path: &str) -> Value {
    let r = Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

/// Downloads a file as a signed-in browser; returns its name and bytes.
async fn download(app: &common::TestApp, c: &Client, path: &str) -> (String, Vec<u8>) {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let header = |name: &str| r.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), XLSX);
    let disposition = header("content-disposition");
    let name = disposition
        .split("filename=\"")
        .nth(1)
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{disposition}"))
        .to_string();
    (name, r.bytes().await.unwrap().to_vec())
}

fn sheet(bytes: &[u8], name: &str) -> Range<Data> {
    let mut wb = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    wb.worksheet_range(name)
        .unwrap_or_else(|e| panic!("{name}: {e} in {:?}", wb.sheet_names()))
}

/// (row, column) of the first cell holding `text`.
fn find(ws: &Range<Data>, text: &str) -> (u32, u32) {
    ws.cells()
        .find(|(_, _, v)| matches!(v, Data::String(s) if s == text))
        .map(|(r, c, _)| {
            let (r0, c0) = ws.start().unwrap();
            (r0 + r as u32, c0 + c as u32)
        })
        .unwrap_or_else(|| panic!("no cell {text:?}"))
}

fn at(ws: &Range<Data>, row: u32, col: u32) -> Data {
    ws.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

app_test!(
    principal_downloads_subject_page_and_year_results,
    async |app: &common::TestApp| {
        // The subject teacher of Toán in 6A1 enters both terms for the first learner:
        // 7; 8.5; 9; 6 · gk 7.5 · ck 8 → ĐTBmhk 7.7 (TT 22 worked example), so ĐTBmcn 7.7.
        let gvbm = app.token("gvbm.thcs").await;
        let mine = get_json(app, &gvbm, "/api/v1/classes").await;
        let k = mine[0]["id"].as_str().unwrap().to_string();
        assert_eq!(mine[0]["name"], "6A1");
        let s = get_json(
            app,
            &gvbm,
            &format!("/api/v1/gradebook/marks?class_id={k}&subject=toan&term=1"),
        )
        .await;
        let learner = s["rows"][0]["learner_id"].as_str().unwrap().to_string();
        let name = s["rows"][0]["full_name"].as_str().unwrap().to_string();
        let slots: Vec<&str> = s["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slot"].as_str().unwrap())
            .collect();
        assert_eq!(slots, ["tx1", "tx2", "tx3", "tx4", "gk", "ck", "note"]);
        let year = s["school_year"].as_str().unwrap().to_string();
        let marks = ["7", "8,5", "9", "6", "7.5", "8"];
        for term in [1, 2] {
            // Write over whatever the demo may hold: send the versions the sheet shows.
            let now = get_json(
                app,
                &gvbm,
                &format!("/api/v1/gradebook/marks?class_id={k}&subject=toan&term={term}"),
            )
            .await;
            let version = |slot: &str| {
                now["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["learner_id"] == learner.as_str() && c["slot"] == slot)
                    .map_or(0, |c| c["version"].as_i64().unwrap())
            };
            let cells: Vec<Value> = slots
                .iter()
                .zip(marks)
                .map(|(slot, v)| {
                    json!({"learner_id": learner, "slot": slot, "value": v, "version": version(slot)})
                })
                .collect();
            let r = Client::new()
                .put(app.url("/api/v1/gradebook/marks"))
                .bearer_auth(&gvbm)
                .json(&json!({"class_id": k, "subject": "toan", "term": term, "cells": cells}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let saved: Value = r.json().await.unwrap();
            assert!(
                saved["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["status"] == "saved"),
                "{saved}"
            );
            assert_eq!(saved["rows"][0]["average"], "7.7", "{saved}");
        }

        let (c, _) = app.login("hieutruong.thcs").await;
        // The pages link to their exports.
        let html = common::get_text(&c, app.url(&format!("/gradebook/{k}/toan?term=1"))).await;
        assert!(
            html.contains(&format!("/gradebook/{k}/toan/xlsx?term=1")),
            "{html}"
        );
        assert!(html.contains("Tải Excel"));
        let html = common::get_text(&c, app.url(&format!("/gradebook/{k}/results"))).await;
        assert!(html.contains(&format!("/gradebook/{k}/results.xlsx")), "{html}");

        // The subject page of HK I.
        let (file, bytes) = download(app, &c, &format!("/gradebook/{k}/toan/xlsx?term=1")).await;
        assert_eq!(file, "so-diem-toan-6A1-hk1.xlsx");
        let ws = sheet(&bytes, "Toán HKI");
        assert_eq!(
            at(&ws, 1, 0),
            Data::String("SỔ THEO DÕI VÀ ĐÁNH GIÁ HỌC SINH (THEO LỚP HỌC)".into())
        );
        let (h, tx) = find(&ws, "ĐĐGtx");
        assert_eq!(at(&ws, h, 0), Data::String("STT".into()));
        assert_eq!(at(&ws, h, 1), Data::String("Họ và tên".into()));
        assert_eq!(at(&ws, h + 1, tx), Data::String("1".into()));
        let (_, avg) = find(&ws, "ĐTBmhk");
        let (row, _) = find(&ws, &name);
        assert_eq!(at(&ws, row, tx + 1), Data::Float(8.5));
        assert_eq!(at(&ws, row, avg), Data::Float(7.7));

        // The year results, with the statistics sheet.
        let (file, bytes) = download(app, &c, &format!("/gradebook/{k}/results.xlsx")).await;
        assert_eq!(file, format!("ket-qua-6A1-{year}.xlsx"));
        let ws = sheet(&bytes, "Tổng hợp");
        assert_eq!(
            at(&ws, 1, 0),
            Data::String("BẢNG TỔNG HỢP KẾT QUẢ HỌC TẬP VÀ RÈN LUYỆN CẢ NĂM".into())
        );
        for head in ["Học tập", "Rèn luyện", "Số buổi nghỉ", "Lên lớp", "Khen thưởng"] {
            find(&ws, head);
        }
        let (_, toan) = find(&ws, "Toán");
        let (row, _) = find(&ws, &name);
        assert_eq!(at(&ws, row, toan), Data::Float(7.7));
        let stats = sheet(&bytes, "Thống kê");
        let (_, band) = find(&stats, "6,5–7,9");
        let (row, _) = find(&stats, "Toán");
        assert!(
            matches!(at(&stats, row, band), Data::Float(n) if n >= 1.0),
            "{:?}",
            at(&stats, row, band)
        );

        // Not for a parent.
        let (parent, _) = app.login("phuhuynh.thcs").await;
        let r = parent
            .get(app.url(&format!("/gradebook/{k}/results.xlsx")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
);
