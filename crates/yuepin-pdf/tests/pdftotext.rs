//! A PDF written here is read back by an independent implementation: poppler's `pdftotext`
//! recovers the Chinese (and mixed) text exactly, and `pdfinfo` sees the pages and the
//! embedded, subset font. Both tools come with Debian's poppler-utils (installed by `.ci/run`);
//! without them the test fails under CI and is skipped elsewhere with a notice.

use std::process::Command;
use yuepin_pdf::{covers, PageSize, Pdf};

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is required under CI"
        );
        eprintln!("SKIP: {name} not installed (apt-get install poppler-utils)");
    }
    found
}

#[test]
fn pdftotext_recovers_the_chinese() {
    if !(tool("pdftotext") && tool("pdfinfo")) {
        return;
    }
    let lines = [
        "粤品通 · 产品质量信用码",
        "深圳市珀航科技有限公司",
        "批次 2026-11 · 序列号 kM9dix7GHp2",
        "《广东省全面提升制造业质量品牌水平的若干政策措施》(粤市监〔2023〕74号)",
    ];
    assert!(lines.iter().all(|l| covers(l)));
    let mut pdf = Pdf::new("粤品通 测试").unwrap();
    for page in 0..2 {
        pdf.page(PageSize::A4, |c| {
            for (i, line) in lines.iter().enumerate() {
                c.text(40.0, 60.0 + 24.0 * i as f32, 12.0, line);
            }
            c.text(40.0, 200.0, 12.0, &format!("第{}页", page + 1));
            c.fill_rects(&[(40.0, 220.0, 10.0, 10.0), (52.0, 220.0, 10.0, 10.0)]);
        })
        .unwrap();
    }
    let bytes = pdf.finish().unwrap();
    assert!(
        bytes.len() < 200_000,
        "subset font keeps the file small: {}",
        bytes.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let text = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for line in lines {
        assert!(text.contains(line), "{line:?} not in {text:?}");
    }
    assert!(text.contains("第2页"), "{text}");
    let info = Command::new("pdfinfo").arg(&path).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let pages = info
        .lines()
        .find(|l| l.starts_with("Pages:"))
        .unwrap_or_default();
    assert_eq!(pages.split_whitespace().nth(1), Some("2"), "{info}");
    assert!(info.contains("粤品通 测试"), "{info}");
    let fonts = Command::new("pdffonts").arg(&path).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout).into_owned();
    assert!(fonts.contains("NotoSansCJK"), "{fonts}");
    assert!(fonts.contains("yes yes"), "embedded and subset: {fonts}");
}
