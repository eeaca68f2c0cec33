//! Text cells at the file boundary (issue 17 item 9, part): control characters are refused by
//! row and column in CSV and XLSX, and text that a spreadsheet would run as a formula is
//! exported with a leading apostrophe, which the importer takes off again.

use std::io::Cursor;
use yuepin_domain::{Enterprise, Product};
use yuepin_import::*;

fn code(n: u32) -> String {
    yuepin_domain::Uscc::assemble("91", "440300", &format!("{n:08}"))
        .unwrap()
        .to_string()
}

fn errors<T: Record + std::fmt::Debug>(bytes: Vec<u8>) -> Vec<RowError> {
    match import_all::<T, _>(Cursor::new(bytes), ImportOptions::default()) {
        Err(ImportFailure::Rows(errors)) => errors,
        other => panic!("expected row errors, got {other:?}"),
    }
}

#[test]
fn control_characters_are_refused_by_row_and_column() {
    let (a, b) = (code(1), code(2));
    let csv = format!(
        "uscc,name,brand,model,category\n\
         {a},电饭煲,粤品,a\u{0}b,家电\n\
         {b},电\u{1b}[31m饭煲,粤品,YP-2,家电\n\
         {b},电饭煲,粤品,\"多行\r\n型号\",家电\n"
    );
    let errs = errors::<Product>(csv.clone().into_bytes());
    let at = |row: usize, col: &str| {
        errs.iter()
            .find(|e| e.row == row && e.column == col)
            .unwrap_or_else(|| panic!("no error at {row}/{col}: {errs:#?}"))
    };
    assert!(at(2, "model").reason.contains("U+0000"));
    assert!(at(3, "name").reason.contains("U+001B"));
    assert_eq!(errs.len(), 2, "{errs:#?}");

    // The same in a workbook.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in [
        "uscc,name,brand,model,category",
        &format!("{a},电饭煲,粤品,a\u{7}b,家电"),
    ]
    .iter()
    .enumerate()
    {
        for (c, cell) in line.split(',').enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    let errs = errors::<Product>(book.save_to_buffer().unwrap());
    assert_eq!(
        (errs[0].row, errs[0].column.as_str()),
        (2, "model"),
        "{errs:#?}"
    );
}

#[test]
fn formula_text_is_escaped_on_export_and_reimports_unchanged() {
    let csv = format!(
        "uscc,name,region,division,registered_capital,employees,founded_on\n\
         {},\"=HYPERLINK(\"\"http://evil.example\"\",\"\"点击\"\")\",深圳,39,100万,10,2020-01-01\n\
         {},@SUM(A1)有限公司,深圳,39,100万,10,2020-01-01\n",
        code(1),
        code(2)
    );
    let rows: Vec<Enterprise> =
        import_all::<Enterprise, _>(Cursor::new(csv.into_bytes()), ImportOptions::default())
            .unwrap();
    assert!(rows[0].name.starts_with("=HYPERLINK"));
    let out = export_csv(Vec::new(), &rows, HeaderLanguage::Chinese).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.contains("\"'=HYPERLINK("), "{text}");
    assert!(text.contains(",'@SUM(A1)有限公司,"), "{text}");
    assert!(!text.contains(",=") && !text.contains(",@"), "{text}");
    let back: Vec<Enterprise> =
        import_all::<Enterprise, _>(Cursor::new(out), ImportOptions::default()).unwrap();
    assert_eq!(back, rows);

    let xlsx = export_xlsx(Vec::new(), &rows, HeaderLanguage::Chinese).unwrap();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(xlsx.clone())).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut wb, 0)
        .unwrap()
        .unwrap();
    let name = range.get_value((1, 1)).unwrap().to_string();
    assert!(name.starts_with("'=HYPERLINK"), "{name}");
    let back: Vec<Enterprise> =
        import_all::<Enterprise, _>(Cursor::new(xlsx), ImportOptions::default()).unwrap();
    assert_eq!(back, rows);
}

#[test]
fn undecodable_gbk_and_utf8_are_refused_by_row_and_column() {
    let (a, b) = (code(1), code(2));
    // GBK: "电饭煲" is B5E7 B7B9 B1D2; 0x80 alone and 0xFF are not GBK.
    let mut gbk = format!("uscc,name,brand,model,category\n{a},").into_bytes();
    gbk.extend_from_slice(b"\xB5\xE7\xB7\xB9\xB1\xD2,x,YP-1,y\n");
    gbk.extend_from_slice(format!("{b},").as_bytes());
    gbk.extend_from_slice(b"ok,\x80\xFF,YP-2,y\n");
    let options = ImportOptions {
        encoding: TextEncoding::Gb18030,
        ..ImportOptions::default()
    };
    let errs = match import_all::<Product, _>(Cursor::new(gbk), options) {
        Err(ImportFailure::Rows(errors)) => errors,
        other => panic!("expected row errors, got {other:?}"),
    };
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!((errs[0].row, errs[0].column.as_str()), (3, "brand"));
    assert!(errs[0].reason.contains("U+FFFD"), "{errs:#?}");

    // Declared UTF-8 with a GBK cell: the row and the column are named.
    let mut bytes = format!("uscc,name,brand,model,category\n{a},").into_bytes();
    bytes.extend_from_slice(b"\xB5\xE7,x,YP-1,y\n");
    let options = ImportOptions {
        encoding: TextEncoding::Utf8,
        ..ImportOptions::default()
    };
    let errs = match import_all::<Product, _>(Cursor::new(bytes), options) {
        Err(ImportFailure::Rows(errors)) => errors,
        other => panic!("expected row errors, got {other:?}"),
    };
    assert_eq!(
        (errs[0].row, errs[0].column.as_str()),
        (2, "name"),
        "{errs:#?}"
    );
}

#[test]
fn a_cell_longer_than_a_workbook_holds_is_refused_on_import_and_export() {
    let long = "罚".repeat(yuepin_domain::text::MAX_TEXT_CHARS + 1);
    let csv = format!(
        "uscc,date,kind,authority,decision_no,amount,serious,reason\n\
         {},2024-05-10,penalty,深圳市市场监督管理局,深市监罚〔2024〕1号,1000,否,{long}\n",
        code(1)
    );
    let errs = errors::<EventRecord>(csv.into_bytes());
    assert_eq!(
        (errs[0].row, errs[0].column.as_str()),
        (2, "reason"),
        "{errs:#?}"
    );
    assert!(errs[0].reason.contains("32768"), "{errs:#?}");

    // Stored some other way, the export refuses it by row and column before writing.
    let event = |n: u32, reason: String| EventRecord {
        event: yuepin_domain::QualityEvent {
            enterprise: yuepin_domain::Uscc::parse(&code(n)).unwrap(),
            product_id: None,
            date: chrono::NaiveDate::from_ymd_opt(2024, 5, 10).unwrap(),
            kind: yuepin_domain::QualityEventKind::Penalty {
                authority: "深圳市市场监督管理局".into(),
                decision_no: format!("深市监罚〔2024〕{n}号"),
                amount: yuepin_domain::Yuan::parse("1000").unwrap(),
                serious: false,
                reason: reason.clone(),
            },
        },
        product_model: None,
    };
    let rows = vec![event(1, "无证生产".into()), event(2, long)];
    match export_xlsx(Vec::new(), &rows, HeaderLanguage::Chinese) {
        Err(ExportError::CellTooLong { row, column, chars }) => {
            assert_eq!((row, column.as_str(), chars), (3, "处罚事由", 32_768));
        }
        other => panic!("expected CellTooLong, got {:?}", other.map(|v| v.len())),
    }
}

#[test]
fn events_are_keyed_by_enterprise_and_an_export_reimports() {
    let standard = |n: u32| EventRecord {
        event: yuepin_domain::QualityEvent {
            enterprise: yuepin_domain::Uscc::parse(&code(n)).unwrap(),
            product_id: None,
            date: chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
            kind: yuepin_domain::QualityEventKind::Standard {
                code: yuepin_domain::StandardCode::parse("GB 4706.1-2005").unwrap(),
                level: yuepin_domain::StandardLevel::National,
                role: yuepin_domain::StandardRole::Participant,
            },
        },
        product_model: None,
    };
    // Two enterprises that took part in one standard: two events, not a duplicate.
    let rows = vec![standard(1), standard(2)];
    for language in [HeaderLanguage::English, HeaderLanguage::Chinese] {
        let csv = export_csv(Vec::new(), &rows, language).unwrap();
        let back: Vec<EventRecord> =
            import_all::<EventRecord, _>(Cursor::new(csv), ImportOptions::default()).unwrap();
        assert_eq!(back, rows);
        let xlsx = export_xlsx(Vec::new(), &rows, language).unwrap();
        let back: Vec<EventRecord> =
            import_all::<EventRecord, _>(Cursor::new(xlsx), ImportOptions::default()).unwrap();
        assert_eq!(back, rows);
    }
    // The same enterprise twice is still a duplicate, named by row.
    let csv = export_csv(
        Vec::new(),
        &[standard(1), standard(1)],
        HeaderLanguage::English,
    )
    .unwrap();
    let errs = errors::<EventRecord>(csv);
    assert_eq!(
        (errs[0].row, errs[0].column.as_str()),
        (3, "standard_code"),
        "{errs:#?}"
    );
}
