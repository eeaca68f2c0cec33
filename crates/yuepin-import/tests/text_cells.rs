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
