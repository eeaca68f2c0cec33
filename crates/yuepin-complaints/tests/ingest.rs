//! Ingest parser: CSV (UTF-8 and GBK, detected), JSON Lines and XLSX round trips, and the
//! row/file errors (missing columns, bad dates, unknown regions, duplicate ids, wrong encoding).

use chrono::NaiveDate;
use yuepin_complaints::{
    generate, mask_complainant, ComplaintParser, Format, GeneratorParams, IngestError, TextEncoding,
};

const HEADER: &str = "id,received_at,channel,kind,region,enterprise_uscc,enterprise_name,category,division,problem,amount,text,complainant_name,complainant_phone,complainant_id_number,complainant_address\n";

fn sample_csv() -> String {
    let mut s = HEADER.to_string();
    s.push_str("A1,2024-03-15 10:22:33,电话,投诉,东莞,,某电器厂,空调,38,质量,1299.00,格力空调外机漏水,张三,13812345678,44190019900101123X,东莞市南城区xx路\n");
    s.push_str("A2,2024/3/16,微信,举报,440305,,,,,虚假宣传,,直播间卖的面膜宣传美白,,,,\n");
    s.push_str("A3,昨天,电话,投诉,广州,,,,,,,手机黑屏\n");
    s.push_str("A4,2024-03-16,电话,投诉,北京,,,,,,,手机黑屏\n");
    s.push_str("A1,2024-03-17,电话,投诉,广州,,,,,,,重复\n");
    s
}

#[test]
fn csv_utf8_rows_and_errors() {
    let text = sample_csv();
    let rows: Vec<_> = ComplaintParser::new(Format::Csv)
        .parse(text.as_bytes())
        .unwrap()
        .collect();
    assert_eq!(rows.len(), 5);
    let first = rows[0].as_ref().unwrap();
    assert_eq!(first.region.as_str(), "441900");
    assert_eq!(first.category.unwrap().info().key, "air_conditioner");
    assert_eq!(
        mask_complainant(&first.complainant).phone.as_deref(),
        Some("138****5678")
    );
    assert!(rows[1].is_ok());
    let e = rows[2].as_ref().unwrap_err();
    assert_eq!((e.row, e.field.as_str()), (4, "received_at"));
    let e = rows[3].as_ref().unwrap_err();
    assert_eq!((e.row, e.field.as_str()), (5, "region"));
    let e = rows[4].as_ref().unwrap_err();
    assert_eq!(e.field, "id");
    assert!(e.reason.contains("duplicate"));
}

#[test]
fn gbk_is_detected_and_forced_utf8_fails_cleanly() {
    let text = sample_csv();
    let (bytes, _, _) = encoding_rs::GBK.encode(&text);
    let rows: Vec<_> = ComplaintParser::new(Format::Csv)
        .parse(&bytes[..])
        .unwrap()
        .collect();
    assert_eq!(rows.iter().filter(|r| r.is_ok()).count(), 2);
    assert_eq!(rows[0].as_ref().unwrap().text, "格力空调外机漏水");
    let forced = ComplaintParser::new(Format::Csv)
        .with_encoding(TextEncoding::Utf8)
        .parse(&bytes[..]);
    match forced {
        Err(IngestError::UnknownEncoding { .. }) => {}
        Ok(rows) => assert!(rows
            .into_iter()
            .any(|r| r.is_err_and(|e| e.reason.contains("UTF-8")))),
        Err(e) => panic!("unexpected {e}"),
    }
    let garbage = [0xffu8, 0xfe, 0xff, 0x00, 0x81, 0x20, 0xff];
    assert!(matches!(
        ComplaintParser::new(Format::Csv).parse(&garbage[..]),
        Err(IngestError::UnknownEncoding { .. })
    ));
}

#[test]
fn missing_columns_are_named() {
    let err = ComplaintParser::new(Format::Csv)
        .parse("id,text\n1,x\n".as_bytes())
        .err()
        .unwrap();
    match err {
        IngestError::MissingColumns { missing, .. } => {
            assert_eq!(missing, vec!["received_at", "kind", "region"])
        }
        e => panic!("{e}"),
    }
    // Chinese headers are accepted
    let ok = ComplaintParser::new(Format::Csv)
        .parse("编号,受理时间,类型,地区,内容\n1,2024-01-02,投诉,佛山,冰箱不制冷\n".as_bytes())
        .unwrap();
    assert_eq!(ok.filter(|r| r.is_ok()).count(), 1);
}

#[test]
fn json_lines() {
    let text = "{\"id\":\"J1\",\"received_at\":\"2024-05-01 09:00:00\",\"kind\":\"投诉\",\"region\":\"深圳\",\"text\":\"充电宝鼓包\",\"amount\":99.5}\n\n{\"id\":2}\nnot json\n";
    let rows: Vec<_> = ComplaintParser::new(Format::JsonLines)
        .parse(text.as_bytes())
        .unwrap()
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].as_ref().unwrap().amount.unwrap().fen(), 9950);
    assert_eq!(rows[1].as_ref().unwrap_err().row, 3);
    assert_eq!(rows[2].as_ref().unwrap_err().row, 4);
}

#[test]
fn xlsx_streaming() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["编号", "受理时间", "类型", "地区", "内容", "行业"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=50u32 {
        sheet.write_string(r, 0, format!("X{r}")).unwrap();
        sheet.write_string(r, 1, "2024-06-18 12:00:00").unwrap();
        sheet.write_string(r, 2, "投诉").unwrap();
        sheet.write_string(r, 3, "佛山市").unwrap();
        sheet.write_string(r, 4, "沙发开裂").unwrap();
        sheet.write_number(r, 5, 21.0).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let mut ok = 0;
    ComplaintParser::new(Format::Xlsx)
        .for_each_xlsx(std::io::Cursor::new(bytes), |r| {
            let c = r.unwrap();
            assert_eq!(c.division.unwrap().code(), 21);
            ok += 1;
            true
        })
        .unwrap();
    assert_eq!(ok, 50);
}

#[test]
fn real_export_date_forms_in_csv() {
    let mut s = HEADER.to_string();
    for (id, t) in [
        ("D1", "2022-09-03T16:15:00+08:00"),
        ("D2", "2022-09-03T08:15:00Z"),
        ("D3", "44807.677083333"),
        ("D4", "2022/9/3"),
        ("D5", "2022年9月3日 16:15"),
        ("D6", "2022-09-03 16:15"),
        ("D7", "下午四点"),
        ("D8", "4480"),
    ] {
        s.push_str(&format!("{id},{t},电话,投诉,广州,,,,,,,手机黑屏\n"));
    }
    let rows: Vec<_> = ComplaintParser::new(Format::Csv)
        .parse(s.as_bytes())
        .unwrap()
        .collect();
    let times: Vec<String> = rows[..6]
        .iter()
        .map(|r| r.as_ref().unwrap().received_at.to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2022-09-03 16:15:00",
            "2022-09-03 16:15:00",
            "2022-09-03 16:15:00",
            "2022-09-03 00:00:00",
            "2022-09-03 16:15:00",
            "2022-09-03 16:15:00"
        ]
    );
    for r in &rows[6..] {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.field, "received_at");
        assert!(e.to_string().contains("received_at"), "{e}");
    }
    assert!(rows[7].as_ref().unwrap_err().reason.contains("Excel"));
}

#[test]
fn xlsx_excel_serial_dates() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["编号", "受理时间", "类型", "地区", "内容"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
    // row 1: a date-formatted cell; row 2: a bare number (General format); row 3: ISO text
    sheet
        .write_number_with_format(1, 1, 44807.677083333, &date_format)
        .unwrap();
    sheet.write_number(2, 1, 44807.677083333).unwrap();
    sheet.write_string(3, 1, "2022-09-03T08:15:00Z").unwrap();
    for r in 1..=3u32 {
        sheet.write_string(r, 0, format!("S{r}")).unwrap();
        sheet.write_string(r, 2, "投诉").unwrap();
        sheet.write_string(r, 3, "佛山市").unwrap();
        sheet.write_string(r, 4, "沙发开裂").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let mut times = Vec::new();
    ComplaintParser::new(Format::Xlsx)
        .for_each_xlsx(std::io::Cursor::new(bytes), |r| {
            times.push(r.unwrap().received_at.to_string());
            true
        })
        .unwrap();
    assert_eq!(times, vec!["2022-09-03 16:15:00"; 3]);
}

#[test]
fn generated_complaints_round_trip_through_csv() {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let data = generate(
        7,
        GeneratorParams {
            personal_data: true,
            ..GeneratorParams::new(start, 20, 50.0)
        },
    );
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER.trim().split(',')).unwrap();
    let mut n = 0;
    for c in data.complaints() {
        n += 1;
        w.write_record([
            c.id.as_str(),
            &c.received_at.to_string(),
            c.channel.as_str(),
            c.kind.as_str(),
            c.region.as_str(),
            "",
            "",
            &c.category.map(|c| c.info().key.clone()).unwrap_or_default(),
            &c.division.map(|d| d.code().to_string()).unwrap_or_default(),
            c.problem.as_str(),
            &c.amount.map(|a| a.to_string()).unwrap_or_default(),
            &c.text,
            c.complainant.name.as_deref().unwrap_or(""),
            c.complainant.phone.as_deref().unwrap_or(""),
            c.complainant.id_number.as_deref().unwrap_or(""),
            c.complainant.address.as_deref().unwrap_or(""),
        ])
        .unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let parsed: Vec<_> = ComplaintParser::new(Format::Csv)
        .parse(&bytes[..])
        .unwrap()
        .collect();
    assert_eq!(parsed.len(), n);
    assert!(
        parsed.iter().all(|r| r.is_ok()),
        "{:?}",
        parsed.iter().find(|r| r.is_err())
    );
}

#[test]
fn control_characters_undecodable_bytes_and_overlong_text_are_refused_by_field() {
    let mut text = HEADER.to_string();
    text.push_str("B1,2024-03-15 10:22,电话,投诉,东莞,,某电器厂,,,,,外机\u{1b}[2J漏水,,,,\n");
    text.push_str(&format!(
        "B2,2024-03-15 10:23,电话,投诉,东莞,,,,,,,{},,,,\n",
        "漏".repeat(40_000)
    ));
    text.push_str("B3,2024-03-15 10:24,电话,投诉,东莞,,,,,,,好的,李\u{0}四,,,\n");
    text.push_str("B4,2024-03-15 10:25,电话,投诉,东莞,,,,,,,正常,,,,\n");
    // A fifth row whose enterprise name holds a byte pair that is not GBK (put in for "@@").
    text.push_str("B5,2024-03-15 10:26,电话,投诉,东莞,,某@@厂,,,,,x,,,,\n");
    let (encoded, _, _) = encoding_rs::GBK.encode(&text);
    let mut bytes = encoded.into_owned();
    let at = bytes.windows(2).position(|w| w == b"@@").unwrap();
    bytes[at..at + 2].copy_from_slice(b"\x80\xFF");
    let rows: Vec<_> = ComplaintParser::new(Format::Csv)
        .with_encoding(TextEncoding::Gbk)
        .parse(&bytes[..])
        .unwrap()
        .collect();
    let at: Vec<(u64, String)> = rows
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| (e.row, e.field.clone()))
        .collect();
    assert_eq!(
        at,
        vec![
            (2, "text".into()),
            (3, "text".into()),
            (4, "complainant_name".into()),
            (6, "enterprise_name".into())
        ],
        "{rows:#?}"
    );
    assert!(rows[1].as_ref().unwrap_err().reason.contains("40000"));
    assert!(rows[4].as_ref().unwrap_err().reason.contains("U+FFFD"));
    assert!(rows[3].is_ok());
}
