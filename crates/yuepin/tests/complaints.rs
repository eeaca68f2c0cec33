//! `yuepin complaints …` end to end: `detect` with a configuration file and flags (the run
//! stores and `status` shows the configuration), `evaluate` on a small labelled set, and
//! `alarms export` — on SQLite, or on a fresh PostgreSQL database when
//! `YUEPIN_TEST_DATABASE_URL` names a server.

mod common;
use common::Cli;

/// Migrates the test's database and loads 150 days of synthetic complaints (with injected
/// outbreaks).
fn with_complaints(cli: &Cli) {
    cli.ok(&["migrate"]);
    let csv = cli.path("c.csv");
    let csv = csv.to_str().unwrap();
    cli.ok(&[
        "complaints",
        "generate",
        "--out",
        csv,
        "--days",
        "150",
        "--mean-daily",
        "60",
        "--start",
        "2026-06-01",
    ]);
    cli.ok(&["complaints", "import", csv, "--quiet"]);
}

#[test]
fn detect_takes_a_config_file_and_flags_and_the_run_keeps_them() {
    let cli = Cli::new("cmp");
    with_complaints(&cli);
    let bad = cli.file("bad.json", r#"{"pooled": {"alfa": 0.01}}"#);
    let err = cli.fails(&["complaints", "detect", "--detector-config", &bad]);
    assert!(err.contains("alfa"), "names the unknown key: {err}");
    let err = cli.fails(&["complaints", "detect", "--alpha", "1.5"]);
    assert!(err.contains("pooled.alpha"), "{err}");

    let cfg = cli.file("cfg.json", r#"{"pooled": {"min_count": 4, "alpha": 0.01}}"#);
    let out = cli.ok(&[
        "complaints",
        "detect",
        "--detector-config",
        &cfg,
        "--alpha",
        "0.002",
        "--windows",
        "1,3",
        "--no-drafts",
    ]);
    assert!(
        out.contains("alpha 0.002 per series-day, windows [1, 3] days, minimum count 4"),
        "flags override the file, the file the defaults: {out}"
    );
    let status = cli.ok(&["complaints", "status"]);
    assert!(
        status.contains("configuration: pooled ratio scan, alpha 0.002"),
        "{status}"
    );
    // Any parameter of any method through --set, applied after the file and the flags.
    let out = cli.ok(&[
        "complaints",
        "detect",
        "--no-drafts",
        "--set",
        "farrington.enabled=true",
        "--set",
        "farrington.b=2",
        "--set",
        "ears_c2.enabled=true",
        "--set",
        "ears_c2.weekday_adjust=false",
    ]);
    assert!(
        out.contains("Farrington-flexible (b 2 years")
            && out.contains("EARS C2 (baseline 7 days, alpha R default, minimum count 0);"),
        "{out}"
    );
    let status = cli.ok(&["complaints", "status"]);
    assert!(
        status.contains("Farrington-flexible (b 2 years"),
        "{status}"
    );
    let err = cli.fails(&["complaints", "detect", "--set", "farington.b=2"]);
    assert!(err.contains("unknown key \"farington\""), "{err}");
    let err = cli.fails(&["complaints", "detect", "--set", "farrington.alpha=2"]);
    assert!(err.contains("farrington.alpha"), "{err}");

    cli.ok(&["complaints", "detect", "--no-drafts"]);
    let status = cli.ok(&["complaints", "status"]);
    assert!(
        status.contains("alpha 0.001") && status.contains("(the default)"),
        "{status}"
    );
}

#[test]
fn evaluate_scores_a_configuration_on_a_small_labelled_set() {
    let cli = Cli::new("cmp");
    let out_md = cli.path("eval.md");
    let out = cli.ok(&[
        "complaints",
        "evaluate",
        "--small",
        "--seeds",
        "7",
        "--shapes",
        "flat,spike",
        "--min-count",
        "2",
        "--out",
        out_md.to_str().unwrap(),
    ]);
    assert!(out.contains("minimum count 2"), "{out}");
    assert!(
        out.contains("| seed | shapes | method | sensitivity"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.starts_with("| 7 | flat,spike | pooled_scan |"))
        .unwrap_or_else(|| panic!("a pooled_scan row: {out}"));
    assert!(
        row.ends_with("/10 |"),
        "10 outbreaks on the small set: {row}"
    );
    assert!(out.contains("| 7 | flat,spike | pooled_scan+bh |"));
    assert_eq!(std::fs::read_to_string(&out_md).unwrap(), out);

    // Several methods: each scored, and combined.
    let cfg = cli.file("two.json", r#"{"ears_c2": {"enabled": true}}"#);
    let out = cli.ok(&[
        "complaints",
        "evaluate",
        "--small",
        "--seeds",
        "7",
        "--shapes",
        "bell",
        "--detector-config",
        &cfg,
    ]);
    for m in ["pooled_scan", "ears_c2", "ears_c2+bh", "combined"] {
        assert!(out.contains(&format!("| 7 | bell | {m} |")), "{m}: {out}");
    }
    let err = cli.fails(&["complaints", "evaluate", "--small", "--shapes", "zigzag"]);
    assert!(err.contains("zigzag"), "{err}");
}

#[test]
fn alarms_export_writes_csv_xlsx_and_json_lines_with_filters() {
    let cli = Cli::new("cmp");
    with_complaints(&cli);
    cli.ok(&["complaints", "detect", "--no-drafts", "--report-days", "60"]);
    let csv = cli.path("a.csv");
    let out = cli.ok(&[
        "complaints",
        "alarms",
        "export",
        "--format",
        "csv",
        "--out",
        csv.to_str().unwrap(),
    ]);
    let n: usize = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n > 0, "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("\u{feff}编号,时段开始,时段结束,天数,方法,层级,地市"),
        "{header}"
    );
    assert!(header.ends_with(",p值,q值,显著"), "{header}");
    assert_eq!(lines.clone().count(), n);
    assert!(
        lines.clone().all(|l| l.contains("合并比值扫描")),
        "Chinese values"
    );
    // A city filter by name keeps only that city.
    let city = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(6)
        .unwrap()
        .to_string();
    let only = cli.path("city.csv");
    cli.ok(&[
        "complaints",
        "alarms",
        "export",
        "--format",
        "csv",
        "--city",
        &city,
        "--out",
        only.to_str().unwrap(),
    ]);
    let kept = std::fs::read_to_string(&only).unwrap();
    assert!(kept.lines().count() >= 2);
    assert!(kept
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(6) == Some(city.as_str())));
    // JSON Lines: machine keys; XLSX: a workbook.
    let jl = cli.path("a.jsonl");
    cli.ok(&[
        "complaints",
        "alarms",
        "export",
        "--format",
        "jsonl",
        "--out",
        jl.to_str().unwrap(),
    ]);
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&jl)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["method"], "pooled_scan");
    let x = cli.path("a.xlsx");
    cli.ok(&[
        "complaints",
        "alarms",
        "export",
        "--format",
        "xlsx",
        "--lang",
        "en",
        "--out",
        x.to_str().unwrap(),
    ]);
    assert!(std::fs::read(&x).unwrap().starts_with(b"PK"));
    let err = cli.fails(&[
        "complaints",
        "alarms",
        "export",
        "--format",
        "pdf",
        "--out",
        x.to_str().unwrap(),
    ]);
    assert!(err.contains("csv, xlsx or jsonl"), "{err}");
}
