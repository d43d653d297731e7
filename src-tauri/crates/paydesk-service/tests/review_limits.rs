//! A review XLSX is read within the `[limits]` (issue 16, point 7): a sheet whose cells span
//! the whole grid, or whose parts inflate past the limit, is a clear error naming the limit,
//! never an allocation failure that aborts the process.
#![allow(clippy::unwrap_used)]

use paydesk_providers::statement::InputLimits;
use paydesk_service::review::report::{read_review_xlsx, read_review_xlsx_with, ReportError};

#[test]
fn a_detail_sheet_spanning_the_whole_grid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Detail").unwrap();
    ws.write_string(0, 0, "ID").unwrap();
    ws.write_string(0, 1, "State").unwrap();
    ws.write_string(1, 0, "101").unwrap();
    // One far cell: a dense grid of 1048576 × 16384 cells.
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 64 * 1024);
    let err = read_review_xlsx(&path, &|_| None).unwrap_err();
    assert!(matches!(err, ReportError::TooLarge(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("review.xlsx"), "{msg}");
    assert!(msg.contains("max_sheet_cells"), "{msg}");
}

#[test]
fn a_review_file_past_the_spreadsheet_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Detail").unwrap();
    ws.write_string(0, 0, "ID").unwrap();
    ws.write_string(0, 1, "Note").unwrap();
    for r in 1..40_000u32 {
        ws.write_number(r, 0, f64::from(r)).unwrap();
        ws.write_string(r, 1, format!("note number {r} of a long review"))
            .unwrap();
    }
    wb.save(&path).unwrap();
    let limits = InputLimits {
        max_spreadsheet_bytes: 1024 * 1024,
        ..InputLimits::default()
    };
    let err = read_review_xlsx_with(&path, &|_| None, &limits).unwrap_err();
    assert!(matches!(err, ReportError::TooLarge(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("big.xlsx"), "{msg}");
    assert!(msg.contains("max_spreadsheet_mb"), "{msg}");
    // Within the defaults it is read (every id unknown: rejected rows, no error).
    let import = read_review_xlsx(&path, &|_| None).unwrap();
    assert_eq!(import.rejected.len(), 39_999);
}
