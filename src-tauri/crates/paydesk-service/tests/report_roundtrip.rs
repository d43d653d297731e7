//! Export → a person edits the Detail sheet → re-import gives exactly the edits.

// Test helpers panic on purpose: a panic is how a test reports a broken fixture.
#![allow(clippy::unwrap_used)]

mod report_common;
use report_common::meta;

use calamine::{open_workbook, Data, Reader, Xlsx};
use paydesk_core::discrepancy::{OutcomeClass, ResolutionKind, ReviewState};
use paydesk_core::money::Currency;
use paydesk_core::review::{DiscrepancyRecord, ReviewChange};
use paydesk_service::review::report::{
    read_review_xlsx, write_xlsx, Lang, RejectedRow, ReportError, ReviewImportRow,
};
use std::collections::HashMap;
use std::path::Path;

/// The report tests' record, as a reviewed amount mismatch.
fn record(id: i64, class: OutcomeClass, currency: Currency) -> DiscrepancyRecord {
    DiscrepancyRecord {
        local_amount: Some(9_000),
        difference: 1_000,
        amount_at_stake: 1_000,
        evidence_line: Some(id as u64),
        explanation: "双方都有这笔支付，但金额不同。".into(),
        assignee: Some("zhang.san".into()),
        ..report_common::record(id, class, currency)
    }
}

/// Ids 101..=110; 107 has a note a spreadsheet would run, 108 is closed by Paydesk.
fn store() -> HashMap<i64, DiscrepancyRecord> {
    let mut m = HashMap::new();
    for id in 101..=110 {
        let mut r = record(id, OutcomeClass::AmountMismatch, Currency::CNY);
        if id == 107 {
            r.note = Some("=HYPERLINK(\"http://evil\",\"x\")".into());
            r.assignee = None;
        }
        if id == 108 {
            r.class = OutcomeClass::TimingDifference;
            r.state = ReviewState::Resolved;
            r.resolution = Some(ResolutionKind::AutoMatched);
            r.note = Some("matched on 2026-11-23".into());
        }
        m.insert(id, r);
    }
    m
}

fn rows_of(store: &HashMap<i64, DiscrepancyRecord>) -> Vec<DiscrepancyRecord> {
    let mut v: Vec<_> = store.values().cloned().collect();
    v.sort_by_key(|r| r.id);
    v
}

/// Simulates a person editing in Excel: copies the Detail sheet into a new workbook with
/// rust_xlsxwriter, in the column order `order` (header names), with `edits` applied
/// (id, header, new text; `None` empties the cell). Other sheets are left out.
fn edit_copy(
    src: &Path,
    dst: &Path,
    sheet: &str,
    order: Option<&[&str]>,
    edits: &[(i64, &str, Option<&str>)],
) {
    let mut wb: Xlsx<_> = open_workbook(src).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let header: Vec<String> = rows[0].iter().map(|d| d.to_string()).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let id_col = 0;
    let layout: Vec<usize> = match order {
        Some(names) => names.iter().map(|n| col(n)).collect(),
        None => (0..header.len()).collect(),
    };

    let mut out = rust_xlsxwriter::Workbook::new();
    let ws = out.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (r, row) in rows.iter().enumerate() {
        let id: Option<i64> = (r > 0).then(|| row[id_col].to_string().parse().unwrap());
        for (c, &src_col) in layout.iter().enumerate() {
            let edit = id.and_then(|id| {
                edits
                    .iter()
                    .find(|(eid, h, _)| *eid == id && *h == header[src_col])
            });
            let (r, c) = (r as u32, c as u16);
            match edit {
                Some((_, _, Some(v))) => {
                    ws.write_string(r, c, *v).unwrap();
                }
                Some((_, _, None)) => {}
                None => match &row[src_col] {
                    Data::String(s) => {
                        ws.write_string(r, c, s).unwrap();
                    }
                    Data::Float(f) => {
                        ws.write_number(r, c, *f).unwrap();
                    }
                    Data::Empty => {}
                    other => panic!("unexpected cell {other:?}"),
                },
            }
        }
    }
    out.save(dst).unwrap();
}

fn resolved(kind: ResolutionKind, note: &str) -> ReviewChange {
    ReviewChange {
        state: Some(ReviewState::Resolved),
        resolution: Some(kind),
        note: Some(note.into()),
        assignee: None,
    }
}

#[test]
fn edited_workbook_gives_exactly_the_edits() {
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("open.xlsx");
    let edited = dir.path().join("open-edited.xlsx");
    let db = store();
    write_xlsx(&rows_of(&db), &meta(Lang::En), &exported).unwrap();

    // The exported file, untouched, imports as nothing.
    let known = |id: i64| db.get(&id).cloned();
    let untouched = read_review_xlsx(&exported, &known).unwrap();
    assert_eq!(untouched.changes, vec![]);
    assert_eq!(untouched.rejected, vec![]);

    // Rows: 101 is on spreadsheet row 2, ..., 110 on row 11.
    edit_copy(
        &exported,
        &edited,
        "Detail",
        None,
        &[
            (101, "State", Some("resolved")),
            (101, "Resolution", Some("corrected_locally")),
            (101, "Note", Some("补单已完成，见工单 #4411")),
            (102, "State", Some("Resolved")),
            (102, "Resolution", Some("written_off")),
            (102, "Note", Some("-35.80 written off per CFO")),
            (103, "Assignee", Some("li.wei")),
            (104, "State", Some("done")),
            (105, "State", Some("investigating")),
            (105, "Resolution", Some("not_an_issue")),
            (106, "ID", Some("999")),
            (106, "Note", Some("who am I?")),
            (109, "State", Some("resolved")),
            (109, "Resolution", Some("auto_matched")),
            (110, "Assignee", None),
        ],
    );
    let import = read_review_xlsx(&edited, &known).unwrap();
    assert_eq!(
        import.changes,
        vec![
            ReviewImportRow {
                row: 2,
                id: 101,
                change: resolved(ResolutionKind::CorrectedLocally, "补单已完成，见工单 #4411"),
            },
            ReviewImportRow {
                row: 3,
                id: 102,
                change: resolved(ResolutionKind::WrittenOff, "-35.80 written off per CFO"),
            },
            ReviewImportRow {
                row: 4,
                id: 103,
                change: ReviewChange {
                    assignee: Some(Some("li.wei".into())),
                    ..ReviewChange::default()
                },
            },
            ReviewImportRow {
                row: 11,
                id: 110,
                change: ReviewChange {
                    assignee: Some(None),
                    ..ReviewChange::default()
                },
            },
        ]
    );
    let rejected: Vec<(u32, Option<i64>)> = import.rejected.iter().map(|r| (r.row, r.id)).collect();
    assert_eq!(
        rejected,
        vec![
            (5, Some(104)),
            (6, Some(105)),
            (7, Some(999)),
            (10, Some(109))
        ]
    );
    let reason = |row: u32| -> &str {
        &import
            .rejected
            .iter()
            .find(|r: &&RejectedRow| r.row == row)
            .unwrap()
            .reason
    };
    assert!(reason(5).contains("column State"), "{}", reason(5));
    assert!(reason(5).contains("done"), "{}", reason(5));
    assert!(reason(6).contains("column Resolution"), "{}", reason(6));
    assert!(reason(6).contains("resolved"), "{}", reason(6));
    assert!(reason(7).contains("column ID"), "{}", reason(7));
    assert!(reason(7).contains("unknown id 999"), "{}", reason(7));
    assert!(reason(10).contains("auto_matched"), "{}", reason(10));
}

#[test]
fn chinese_workbook_with_reordered_columns() {
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("未处理.xlsx");
    let edited = dir.path().join("未处理-已填.xlsx");
    let db = store();
    write_xlsx(&rows_of(&db), &meta(Lang::Zh), &exported).unwrap();
    let known = |id: i64| db.get(&id).cloned();

    // A person kept only some columns and moved the review columns to the front.
    let long_note = "很".repeat(4001);
    edit_copy(
        &exported,
        &edited,
        "明细",
        Some(&["备注", "状态", "编号", "账户", "处理方式", "负责人"]),
        &[
            (101, "状态", Some("investigating")),
            (102, "账户", Some("wechat-main")),
            (102, "备注", Some("moved")),
            (103, "备注", Some(long_note.as_str())),
            (104, "状态", None),
            (105, "编号", Some("101")),
            (108, "备注", Some("matched on 2026-11-23, checked")),
        ],
    );
    let import = read_review_xlsx(&edited, &known).unwrap();
    assert_eq!(
        import.changes,
        vec![
            ReviewImportRow {
                row: 2,
                id: 101,
                change: ReviewChange {
                    state: Some(ReviewState::Investigating),
                    ..ReviewChange::default()
                },
            },
            // Changing the note of a row Paydesk closed is fine; auto_matched is untouched.
            ReviewImportRow {
                row: 9,
                id: 108,
                change: ReviewChange {
                    note: Some("matched on 2026-11-23, checked".into()),
                    ..ReviewChange::default()
                },
            },
        ]
    );
    let rejected: Vec<(u32, Option<i64>)> = import.rejected.iter().map(|r| (r.row, r.id)).collect();
    assert_eq!(
        rejected,
        vec![
            (3, Some(102)),
            (4, Some(103)),
            (5, Some(104)),
            (6, Some(101))
        ]
    );
    assert!(import.rejected[0].reason.contains("id mismatch"));
    assert!(import.rejected[0].reason.contains("column 账户"));
    assert!(import.rejected[1].reason.contains("column 备注"));
    assert!(import.rejected[1].reason.contains("4000"));
    assert!(import.rejected[2].reason.contains("column 状态 is empty"));
    assert!(import.rejected[3].reason.contains("column 编号"));
    assert!(import.rejected[3].reason.contains("first on row 2"));
}

#[test]
fn whole_file_problems_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = store();
    let known = |id: i64| db.get(&id).cloned();

    let not_xlsx = dir.path().join("notes.xlsx");
    std::fs::write(&not_xlsx, "ID,State\n101,resolved\n").unwrap();
    let err = read_review_xlsx(&not_xlsx, &known).unwrap_err();
    assert!(matches!(err, ReportError::NotXlsx { .. }), "{err}");
    assert!(err.to_string().contains("notes.xlsx"), "{err}");

    let missing = dir.path().join("missing.xlsx");
    assert!(matches!(
        read_review_xlsx(&missing, &known),
        Err(ReportError::Open { .. })
    ));

    let exported = dir.path().join("open.xlsx");
    write_xlsx(&rows_of(&db), &meta(Lang::En), &exported).unwrap();

    let other_sheet = dir.path().join("other-sheet.xlsx");
    edit_copy(&exported, &other_sheet, "Detail", None, &[]);
    // Rename the only sheet: no Detail sheet any more.
    let renamed = dir.path().join("renamed.xlsx");
    {
        let mut wb: Xlsx<_> = open_workbook(&other_sheet).unwrap();
        let range = wb.worksheet_range("Detail").unwrap();
        let mut out = rust_xlsxwriter::Workbook::new();
        let ws = out.add_worksheet();
        ws.set_name("Sheet1").unwrap();
        for (r, row) in range.rows().enumerate() {
            for (c, d) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, d.to_string()).unwrap();
            }
        }
        out.save(&renamed).unwrap();
    }
    let err = read_review_xlsx(&renamed, &known).unwrap_err();
    assert!(matches!(err, ReportError::NoDetailSheet { .. }), "{err}");
    assert!(err.to_string().contains("Sheet1"), "{err}");

    let no_id = dir.path().join("no-id.xlsx");
    edit_copy(
        &exported,
        &no_id,
        "Detail",
        Some(&["Account", "State", "Note"]),
        &[],
    );
    let err = read_review_xlsx(&no_id, &known).unwrap_err();
    assert!(matches!(err, ReportError::MissingColumn { .. }), "{err}");
    assert!(err.to_string().contains("no-id.xlsx"), "{err}");
    assert!(err.to_string().contains("ID"), "{err}");
}
