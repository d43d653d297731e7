//! Bounded memory on any input (issue 16, point 7): compression bombs, oversized statements
//! and spreadsheets whose sheet would inflate past memory are clear errors naming the limit
//! (`[limits]` of paydesk.toml), never an allocation failure that aborts the process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paydesk_core::domain::Provider;
use paydesk_providers::statement::*;
use std::io::Write;
use std::path::PathBuf;

const MIB: usize = 1024 * 1024;

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/samples")
            .join(rel),
    )
    .unwrap()
}

fn wechat_sample() -> String {
    String::from_utf8(sample("wechat/1921000401_20190219_ALL.csv")).unwrap()
}

/// The sample bill's header line, then its first data row repeated until `size` bytes.
fn repeated_wechat_bill(size: usize) -> Vec<u8> {
    let text = wechat_sample();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap();
    let mut out = Vec::with_capacity(size + 1024);
    out.extend_from_slice(header.as_bytes());
    out.push(b'\n');
    while out.len() < size {
        out.extend_from_slice(row.as_bytes());
        out.push(b'\n');
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn parse_with(
    bytes: &[u8],
    format: StatementFormat,
    provider: Provider,
    file: &str,
    limits: InputLimits,
) -> Result<ParsedStatement, StatementError> {
    let opts = ParseOptions {
        limits,
        ..ParseOptions::default()
    };
    parse_statement_with(
        bytes,
        &format,
        &ParseContext::new("a", provider, file),
        &opts,
    )
}

#[test]
fn a_gzip_bomb_of_repeated_bill_lines_is_refused_by_its_ratio() {
    // 96 MiB of one repeated line compress about 200 : 1 (deflate matches at most 258 bytes).
    let gz = gzip(&repeated_wechat_bill(96 * MIB));
    assert!(gz.len() * 150 < 96 * MIB, "{} bytes", gz.len());
    let e = parse_with(
        &gz,
        StatementFormat::WechatTradeBill,
        Provider::Wechat,
        "bill.csv.gz",
        InputLimits::default(),
    )
    .unwrap_err();
    assert_eq!(e.file, "bill.csv.gz");
    assert!(e.reason.contains("max_compression_ratio"), "{e}");
    assert!(e.reason.contains("100 : 1"), "{e}");
    assert!(!e.reason.contains("cannot read the file"), "{e}");
    // The error comes while streaming: far fewer lines than the bomb holds were reached.
    assert!(e.line.is_some_and(|l| l < 1_000_000), "{e}");
}

#[test]
fn an_alipay_zip_bomb_is_refused_before_it_is_inflated() {
    let mut row = String::from("#支付宝业务明细查询\n");
    while row.len() < 64 * MIB {
        row.push_str("2019091622001434881000000001\t,20190916001\t,交易,商品,2019-09-16 10:00:00,2019-09-16 10:00:01,,,0.01,0.01,0.00,0.00,0.00,0.00,,,,\n");
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("20880211096256330156_20190916_业务明细.csv", options)
        .unwrap();
    zip.write_all(row.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() * 120 < 64 * MIB, "{} bytes", bytes.len());
    let e = parse_with(
        &bytes,
        StatementFormat::AlipayTradeBill,
        Provider::Alipay,
        "bill.zip",
        InputLimits::default(),
    )
    .unwrap_err();
    assert!(e.file.starts_with("bill.zip:"), "{e}");
    assert!(e.reason.contains("max_compression_ratio"), "{e}");
    // Its declared size past a lowered size limit: refused by size.
    let e = parse_with(
        &bytes,
        StatementFormat::AlipayTradeBill,
        Provider::Alipay,
        "bill.zip",
        InputLimits {
            max_statement_bytes: 32 * MIB as u64,
            max_ratio: 1_000_000,
            ..InputLimits::default()
        },
    )
    .unwrap_err();
    assert!(e.reason.contains("max_statement_mb"), "{e}");
    assert!(e.reason.contains("32 MiB"), "{e}");
}

#[test]
fn a_lowered_size_limit_refuses_a_normal_bill_plain_and_gzipped() {
    let bill = repeated_wechat_bill(3 * MIB);
    let low = InputLimits {
        max_statement_bytes: MIB as u64,
        ..InputLimits::default()
    };
    for (bytes, name) in [(bill.clone(), "bill.csv"), (gzip(&bill), "bill.csv.gz")] {
        let e = parse_with(
            &bytes,
            StatementFormat::WechatTradeBill,
            Provider::Wechat,
            name,
            low,
        )
        .unwrap_err();
        assert!(
            e.reason.contains("larger than 1 MiB")
                && e.reason.contains("`[limits] max_statement_mb`"),
            "{name}: {e}"
        );
    }
    // Within the defaults the same file is read to its (missing) totals, not refused for size.
    let e = parse_with(
        &bill,
        StatementFormat::WechatTradeBill,
        Provider::Wechat,
        "bill.csv",
        InputLimits::default(),
    );
    if let Err(e) = e {
        assert!(!e.reason.contains("[limits]"), "{e}");
    }
}

fn mapping() -> ColumnMapping {
    ColumnMapping::new("Reference", "Amount", "Date")
}

/// A workbook whose one sheet has cells at A1 and XFD1048576: a few KiB, but a dense grid of
/// 17 billion cells.
fn sparse_corners() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Reference").unwrap();
    ws.write_string(1_048_575, 16_383, "far away").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn a_sheet_spanning_the_whole_grid_is_refused_not_allocated() {
    let bytes = sparse_corners();
    assert!(bytes.len() < 64 * 1024);
    let e = parse_with(
        &bytes,
        StatementFormat::Manual(mapping()),
        Provider::Manual,
        "bank.xlsx",
        InputLimits::default(),
    )
    .unwrap_err();
    assert!(e.reason.contains("max_sheet_cells"), "{e}");
    assert!(e.reason.contains("1048576 rows × 16384 columns"), "{e}");
}

#[test]
fn a_spreadsheet_past_its_decompressed_limit_is_refused() {
    // About 6 MiB of sheet XML.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["Reference", "Amount", "Date"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..60_000u32 {
        ws.write_string(r, 0, format!("R{r}")).unwrap();
        ws.write_number(r, 1, 1.5).unwrap();
        ws.write_string(r, 2, "2024-07-01 09:30:00").unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let e = parse_with(
        &bytes,
        StatementFormat::Manual(mapping()),
        Provider::Manual,
        "bank.xlsx",
        InputLimits {
            max_spreadsheet_bytes: 2 * MIB as u64,
            ..InputLimits::default()
        },
    )
    .unwrap_err();
    assert!(e.reason.contains("max_spreadsheet_mb"), "{e}");
    assert!(e.reason.contains("2 MiB"), "{e}");
    // Within the defaults it is read.
    let p = parse_with(
        &bytes,
        StatementFormat::Manual(mapping()),
        Provider::Manual,
        "bank.xlsx",
        InputLimits::default(),
    )
    .unwrap();
    assert_eq!(p.lines.len(), 59_999);
    // And a lowered cell limit refuses it by its cells.
    let e = parse_with(
        &bytes,
        StatementFormat::Manual(mapping()),
        Provider::Manual,
        "bank.xlsx",
        InputLimits {
            max_sheet_cells: 1000,
            ..InputLimits::default()
        },
    )
    .unwrap_err();
    assert!(e.reason.contains("max_sheet_cells"), "{e}");
}
