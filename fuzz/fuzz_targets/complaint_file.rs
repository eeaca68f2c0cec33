//! A 12315 complaint export (CSV or JSON Lines, UTF-8 or GBK, sniffed): every row parses or
//! is reported with its row and field, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use yuepin_complaints::{ComplaintParser, Format};

fuzz_target!(|data: &[u8]| {
    for format in [Format::Csv, Format::JsonLines] {
        if let Ok(rows) = ComplaintParser::new(format).parse(data) {
            for row in rows.take(1000) {
                let _ = row;
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = yuepin_complaints::parse_datetime_checked(text);
    }
});
