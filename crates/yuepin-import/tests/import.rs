//! End-to-end tests of the importer: good files in UTF-8, GBK and XLSX, bad files with their
//! row/column/reason reports, duplicates, export → import round trips, and never panicking.

use chrono::NaiveDate;
use std::io::Cursor;
use yuepin_domain::{
    Certification, Designation, DesignationKind, Division, Enterprise, Financials, Gtin,
    InspectionResult, Listing, Product, QualityEvent, QualityEventKind, RegionCode, StandardCode,
    StandardLevel, StandardRole, Uscc, Yuan,
};
use yuepin_import::*;

fn uscc(org: &str) -> Uscc {
    Uscc::assemble("91", "440300", org).unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn open<T: Record>(bytes: Vec<u8>) -> Result<Vec<T>, ImportFailure> {
    import_all::<T, _>(Cursor::new(bytes), ImportOptions::default())
}

fn row_errors<T: Record + std::fmt::Debug>(bytes: Vec<u8>) -> Vec<RowError> {
    match open::<T>(bytes) {
        Err(ImportFailure::Rows(errors)) => errors,
        other => panic!("expected row errors, got {other:?}"),
    }
}

fn enterprise_csv_zh() -> String {
    let a = uscc("MA5D0001");
    let b = uscc("MA5D0002");
    format!(
        "统一社会信用代码,企业名称,地区,行业大类,注册资本,从业人员,成立日期,上市情况,认定,营业收入_境内_2024,营业收入_全球_2024,营业收入_境内_2023\n\
         {a},深圳市星岚电子有限公司,深圳,39,5000万,1200,2008/05/12,未上市,\"little_giant@2022-07-01~2025-06-30; 高新技术企业@2021-12-01~2024-11-30\",25亿,30亿元,\"1,234,567.89\"\n\
         {b},东莞市穗禾五金制品有限公司,441900,C33,200万元,85,2015年3月1日,,,,,\n"
    )
}

fn expected_enterprises() -> Vec<Enterprise> {
    vec![
        Enterprise {
            uscc: uscc("MA5D0001"),
            name: "深圳市星岚电子有限公司".into(),
            region: RegionCode::parse("440300").unwrap(),
            division: Division::parse("39").unwrap(),
            registered_capital: Yuan::from_yuan(50_000_000),
            employees: 1200,
            founded_on: date("2008-05-12"),
            listing: Listing::Unlisted,
            designations: vec![
                Designation {
                    kind: DesignationKind::LittleGiant,
                    awarded_on: date("2022-07-01"),
                    expires_on: Some(date("2025-06-30")),
                },
                Designation {
                    kind: DesignationKind::HighTech,
                    awarded_on: date("2021-12-01"),
                    expires_on: Some(date("2024-11-30")),
                },
            ],
            financials: vec![
                Financials {
                    year: 2023,
                    revenue_china: Yuan::from_fen(123_456_789),
                    revenue_world: None,
                },
                Financials {
                    year: 2024,
                    revenue_china: Yuan::from_yuan(2_500_000_000),
                    revenue_world: Some(Yuan::from_yuan(3_000_000_000)),
                },
            ],
        },
        Enterprise {
            uscc: uscc("MA5D0002"),
            name: "东莞市穗禾五金制品有限公司".into(),
            region: RegionCode::parse("441900").unwrap(),
            division: Division::parse("33").unwrap(),
            registered_capital: Yuan::from_yuan(2_000_000),
            employees: 85,
            founded_on: date("2015-03-01"),
            listing: Listing::Unlisted,
            designations: vec![],
            financials: vec![],
        },
    ]
}

#[test]
fn utf8_chinese_headers() {
    let got: Vec<Enterprise> = open(enterprise_csv_zh().into_bytes()).unwrap();
    assert_eq!(got, expected_enterprises());
}

#[test]
fn utf8_with_bom_and_crlf() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(enterprise_csv_zh().replace('\n', "\r\n").into_bytes());
    let got: Vec<Enterprise> = open(bytes).unwrap();
    assert_eq!(got, expected_enterprises());
}

#[test]
fn gbk_is_detected_and_can_be_forced() {
    let text = enterprise_csv_zh();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "fixture must not be UTF-8"
    );
    let got: Vec<Enterprise> = open(gbk.to_vec()).unwrap();
    assert_eq!(got, expected_enterprises());
    let forced = import_all::<Enterprise, _>(
        Cursor::new(gbk.to_vec()),
        ImportOptions {
            format: Format::Csv,
            encoding: TextEncoding::from_label("GBK").unwrap(),
        },
    )
    .unwrap();
    assert_eq!(forced, expected_enterprises());
    // Forcing UTF-8 on a GBK file reports rows as not UTF-8 instead of garbling names.
    let wrong = import_all::<Enterprise, _>(
        Cursor::new(gbk.to_vec()),
        ImportOptions {
            format: Format::Csv,
            encoding: TextEncoding::Utf8,
        },
    );
    assert!(wrong.is_err());
}

#[test]
fn xlsx_written_then_read_back() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in enterprise_csv_zh().lines().enumerate() {
        let record = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes())
            .records()
            .next()
            .unwrap()
            .unwrap();
        for (c, cell) in record.iter().enumerate() {
            // Employees as a real number cell, as Excel users type them.
            if c == 5 && r > 0 {
                sheet
                    .write_number(r as u32, c as u16, cell.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    // A date cell, as Excel stores typed dates.
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2015, 3, 1).unwrap();
    sheet
        .write_datetime_with_format(2, 6, &d, &date_format)
        .unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let got: Vec<Enterprise> = open(bytes).unwrap();
    assert_eq!(got, expected_enterprises());
}

#[test]
fn bad_values_name_row_column_and_reason() {
    let good = uscc("MA5D0001");
    let bad_check = {
        let mut s = good.to_string();
        let last = s.pop().unwrap();
        s.push(if last == '0' { '1' } else { '0' });
        s
    };
    let csv = format!(
        "uscc,name,region,division,registered_capital,employees,founded_on\n\
         {bad_check},甲公司,深圳,39,100万,10,2020-01-01\n\
         {good},乙公司,北京,39,100万,10,2020-01-01\n\
         {good},丙公司,深圳,39,一百万,10,2020-02-30\n"
    );
    let errors = row_errors::<Enterprise>(csv.into_bytes());
    let find = |row: usize, column: &str| {
        errors
            .iter()
            .find(|e| e.row == row && e.column == column)
            .unwrap_or_else(|| panic!("no error at row {row} column {column}: {errors:#?}"))
    };
    assert!(find(2, "uscc").reason.contains("校验码"));
    assert!(find(3, "region").reason.contains("unknown region"));
    assert!(find(4, "registered_capital")
        .reason
        .contains("not a number"));
    assert!(find(4, "founded_on").reason.contains("not a date"));
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors[0].to_string().contains("第2行"));
}

#[test]
fn bad_gtin_and_duplicate_products() {
    let u = uscc("MA5D0001");
    let csv = format!(
        "统一社会信用代码,产品名称,品牌,型号,商品条码,产品类别,执行标准\n\
         {u},智能电饭煲,星岚,XL-100,6901234567891,电饭锅,GB 4706.1-2005\n\
         {u},智能电饭煲,星岚,XL-200,6901234567892,电饭锅,GB4706.19-2008\n\
         {u},智能电饭煲二代,星岚,XL-200,,电饭锅,\n"
    );
    let errors = row_errors::<Product>(csv.into_bytes());
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!((errors[0].row, errors[0].column.as_str()), (2, "商品条码"));
    assert!(errors[0].reason.contains("check digit"));
    assert_eq!((errors[1].row, errors[1].column.as_str()), (4, "型号"));
    assert!(errors[1].reason.contains("第3行"), "{}", errors[1].reason);
}

#[test]
fn missing_and_unknown_columns_are_a_file_error() {
    let err = open::<Product>(b"uscc,name,colour\n".to_vec()).unwrap_err();
    let ImportFailure::File(FileError::Columns {
        missing,
        unknown,
        expected,
        ..
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert!(missing.iter().any(|m| m.starts_with("model")));
    assert_eq!(unknown, &vec!["colour".to_string()]);
    assert!(expected.iter().any(|e| e.contains("商品条码")));
    assert!(matches!(
        open::<Product>(Vec::new()).unwrap_err(),
        ImportFailure::File(FileError::Empty)
    ));
}

fn sample_events() -> Vec<EventRecord> {
    let u = uscc("MA5D0001");
    let ev = |d: &str, kind| QualityEvent {
        enterprise: u.clone(),
        product_id: None,
        date: date(d),
        kind,
    };
    vec![
        EventRecord {
            event: ev(
                "2024-05-10",
                QualityEventKind::Inspection {
                    agency: "广东省产品质量监督检验研究院".into(),
                    report_no: "GZ2024-0001".into(),
                    result: InspectionResult::Fail,
                    failed_items: vec!["输入功率和电流".into(), "标志和说明".into()],
                },
            ),
            product_model: Some("XL-100".into()),
        },
        EventRecord {
            event: ev(
                "2023-01-05",
                QualityEventKind::Certification(Certification {
                    scheme: "CCC".into(),
                    number: "2023010701000001".into(),
                    issuer: "中国质量认证中心".into(),
                    valid_from: date("2023-01-05"),
                    valid_until: date("2028-01-04"),
                }),
            ),
            product_model: None,
        },
        EventRecord {
            event: ev(
                "2024-11-01",
                QualityEventKind::Award {
                    name: "广东省政府质量奖".into(),
                    level: "provincial".into(),
                },
            ),
            product_model: None,
        },
        EventRecord {
            event: ev(
                "2022-08-01",
                QualityEventKind::Standard {
                    code: StandardCode::parse("IEC 60335-2-15:2024").unwrap(),
                    level: StandardLevel::International,
                    role: StandardRole::Participant,
                },
            ),
            product_model: None,
        },
        EventRecord {
            event: ev(
                "2025-03-03",
                QualityEventKind::Penalty {
                    authority: "深圳市市场监督管理局".into(),
                    decision_no: "深市监罚〔2025〕12号".into(),
                    amount: Yuan::from_fen(5_000_050),
                    serious: true,
                    reason: "生产不合格产品".into(),
                },
            ),
            product_model: Some("XL-100".into()),
        },
    ]
}

#[test]
fn events_in_chinese_with_kind_specific_columns() {
    let u = uscc("MA5D0001");
    let csv = format!(
        "统一社会信用代码,产品型号,日期,类型,检验机构,报告编号,检验结果,不合格项目,认证项目,证书编号,发证机构,有效期起,有效期至,奖项名称,奖项级别,标准号,标准级别,参与方式,处罚机关,处罚决定书文号,罚没金额,是否严重,处罚事由\n\
         {u},XL-100,2024-05-10,监督抽查,广东省产品质量监督检验研究院,GZ2024-0001,不合格,输入功率和电流、标志和说明,,,,,,,,,,,,,,,\n\
         {u},,2023-01-05,认证,,,,,CCC,2023010701000001,中国质量认证中心,2023-01-05,2028-01-04,,,,,,,,,,\n\
         {u},,2024-11-01,获奖,,,,,,,,,,广东省政府质量奖,省级,,,,,,,,\n\
         {u},,2022-08-01,标准,,,,,,,,,,,,IEC 60335-2-15:2024,国际标准,参与,,,,,\n\
         {u},XL-100,2025-03-03,行政处罚,,,,,,,,,,,,,,,深圳市市场监督管理局,深市监罚〔2025〕12号,5.00005万,是,生产不合格产品\n"
    );
    let got: Vec<EventRecord> = open(csv.into_bytes()).unwrap();
    assert_eq!(got, sample_events());
}

#[test]
fn event_kind_fields_are_required_and_keys_deduplicate() {
    let u = uscc("MA5D0001");
    let csv = format!(
        "uscc,date,kind,agency,report_no,result\n\
         {u},2024-05-10,inspection,,R-1,pass\n\
         {u},2024-05-10,inspection,某院,R-2,maybe\n\
         {u},2024-06-10,inspection,某院,R-3,pass\n\
         {u},2024-07-10,inspection,某院,R-3,fail\n\
         {u},2024-07-10,party,,,\n"
    );
    let errors = row_errors::<EventRecord>(csv.into_bytes());
    let at: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
    assert_eq!(
        at,
        vec![(2, "agency"), (3, "result"), (5, "report_no"), (6, "kind")],
        "{errors:#?}"
    );
    let keys: Vec<String> = sample_events().iter().map(Record::natural_key).collect();
    assert_eq!(keys[0], format!("{u}:inspection:GZ2024-0001"));
    assert_eq!(keys[1], format!("{u}:certification:CCC:2023010701000001"));
    assert!(keys[2].starts_with(&format!("{u}:award:")));
    assert!(keys[4].starts_with(&format!("{u}:penalty:")));
}

#[test]
fn round_trip_csv_and_xlsx_in_both_languages() {
    let enterprises = expected_enterprises();
    let products = vec![Product {
        enterprise: uscc("MA5D0001"),
        name: "智能电饭煲, \"二代\"".into(),
        brand: "星岚".into(),
        model: "XL-100".into(),
        gtin: Some(Gtin::parse("6901234567892").unwrap()),
        category: "电饭锅".into(),
        standard: Some(StandardCode::parse("GB 4706.1-2005").unwrap()),
    }];
    let events = sample_events();
    for language in [HeaderLanguage::English, HeaderLanguage::Chinese] {
        let csv = export_csv(Vec::new(), &enterprises, language).unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        assert_eq!(open::<Enterprise>(csv).unwrap(), enterprises);
        let xlsx = export_xlsx(Vec::new(), &enterprises, language).unwrap();
        assert_eq!(open::<Enterprise>(xlsx).unwrap(), enterprises);

        let csv = export_csv(Vec::new(), &products, language).unwrap();
        assert_eq!(open::<Product>(csv).unwrap(), products);
        let xlsx = export_xlsx(Vec::new(), &products, language).unwrap();
        assert_eq!(open::<Product>(xlsx).unwrap(), products);

        let csv = export_csv(Vec::new(), &events, language).unwrap();
        assert_eq!(open::<EventRecord>(csv).unwrap(), events);
        let xlsx = export_xlsx(Vec::new(), &events, language).unwrap();
        assert_eq!(open::<EventRecord>(xlsx).unwrap(), events);
    }
}

#[test]
fn streaming_reports_progress_and_row_numbers_skip_blank_and_multiline() {
    let u = uscc("MA5D0001");
    let v = uscc("MA5D0002");
    let csv = format!(
        "uscc,name,model,category\r\n{u},\"电饭煲\r\n(两行)\",A,电饭锅\r\n\r\n{v},x,,电饭锅\n\n\n{v},y,,电饭锅\n1\n"
    );
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&calls);
    let rows = Rows::<Product>::open(Cursor::new(csv.into_bytes()), ImportOptions::default())
        .unwrap()
        .on_progress(move |done, total| sink.lock().unwrap().push((done, total)));
    let total = rows.total_bytes();
    let items: Vec<_> = rows.collect();
    assert!(items[0].is_ok());
    // Row 2 is the two-line cell, row 3 blank, so the bad model is on row 4.
    let err = items[1].as_ref().unwrap_err();
    assert_eq!((err.row, err.column.as_str()), (4, "model"));
    let err = items[2].as_ref().unwrap_err();
    assert_eq!((err.row, err.column.as_str()), (7, "model"));
    let err = items[3].as_ref().unwrap_err();
    assert_eq!(err.row, 8);
    assert_eq!(calls.lock().unwrap().last(), Some(&(total, total)));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = open::<Enterprise>(bytes.clone());
            let _ = open::<Product>(bytes.clone());
            let _ = open::<EventRecord>(bytes);
        }

        #[test]
        fn on_arbitrary_cells(cells in proptest::collection::vec("\\PC{0,12}", 23)) {
            let header = "uscc,product_model,date,kind,agency,report_no,result,failed_items,scheme,number,issuer,valid_from,valid_until,award_name,award_level,standard_code,standard_level,role,authority,decision_no,amount,serious,reason";
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&cells).unwrap();
            let mut bytes = format!("{header}\n").into_bytes();
            bytes.extend(w.into_inner().unwrap());
            let _ = open::<EventRecord>(bytes);
        }

        #[test]
        fn on_arbitrary_zip_like_bytes(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = b"PK\x03\x04".to_vec();
            bytes.extend(tail);
            let _ = open::<Enterprise>(bytes);
        }
    }
}
