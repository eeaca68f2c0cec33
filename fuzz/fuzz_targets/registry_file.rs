//! The registry's import files (enterprises, products, quality events; CSV, XLSX, GBK, sniffed):
//! all-or-nothing validation with errors by row and column, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use yuepin_import::{import_all, EventRecord, ImportOptions};

fuzz_target!(|data: &[u8]| {
    let opts = ImportOptions::default();
    let _ = import_all::<yuepin_domain::Enterprise, _>(Cursor::new(data.to_vec()), opts);
    let _ = import_all::<yuepin_domain::Product, _>(Cursor::new(data.to_vec()), opts);
    let _ = import_all::<EventRecord, _>(Cursor::new(data.to_vec()), opts);
});
