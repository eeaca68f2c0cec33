//! `yuepin policy …` end to end: check with reasons (request facts from a file, and an
//! enterprise from the store), the stored match with offers and notifications, and what-if —
//! on SQLite, or on a fresh PostgreSQL database when `YUEPIN_TEST_DATABASE_URL` names a server.

mod common;
use common::Cli;

fn code(n: u32) -> String {
    yuepin_domain::Uscc::assemble("91", "441900", &format!("{n:08}"))
        .unwrap()
        .to_string()
}

#[test]
fn check_from_a_facts_file_with_reasons() {
    let cli = Cli::new("pol");
    let f = cli.path("merger.json");
    std::fs::write(
        &f,
        r#"{"parties_revenue_china": ["14亿元", "6亿元"], "parties_revenue_world": ["50亿元", "20亿元"], "involves_manufacturing": true}"#,
    )
    .unwrap();
    let args = [
        "policy",
        "check",
        "--facts",
        f.to_str().unwrap(),
        "--subject",
        "merger",
        "--measure",
        "M16",
        "--as-of",
        "2025-01-01",
    ];
    let text = cli.ok(&args);
    assert!(
        text.contains("M16") && text.contains("不符合") && text.contains("条款“"),
        "{text}"
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&cli.ok(&json_args)).unwrap();
    assert_eq!(v["evaluations"][0]["outcome"], "not_eligible");
    assert!(v["evaluations"][0]["failed"][0]["clause"]["quote"].is_string());
    // What-if over mergers from a file: a 15亿 threshold makes this one eligible.
    let list = cli.path("mergers.json");
    std::fs::write(
        &list,
        r#"[{"_label": "甲乙合并", "parties_revenue_china": ["12亿元", "6亿元"], "parties_revenue_world": ["30亿元", "20亿元"], "involves_manufacturing": true}]"#,
    )
    .unwrap();
    let out = cli.ok(&[
        "policy",
        "what-if",
        "--facts",
        list.to_str().unwrap(),
        "--subject",
        "merger",
        "--set",
        "m16_combined_china=15亿元",
        "--as-of",
        "2025-01-01",
    ]);
    assert!(
        out.contains("eligible: 0 → 1") && out.contains("甲乙合并"),
        "{out}"
    );
}

#[test]
fn match_over_the_store_and_enterprise_check() {
    let cli = Cli::new("pol");
    cli.ok(&["migrate"]);
    let csv = cli.path("e.csv");
    let mut s = String::from("统一社会信用代码,企业名称,地区,行业大类,注册资本,从业人数,成立日期,上市状态,认定,营业收入_境内_2024,营业收入_全球_2024\n");
    s.push_str(&format!("{},东莞市甲精密有限公司,东莞,C39,5000万,320,2012/05/18,未上市,little_giant@2022-07-01~2025-06-30;performance_excellence@2023-01-01,20亿元,25亿\n", code(1)));
    s.push_str(&format!(
        "{},东莞市乙五金有限公司,东莞,C33,500万,40,2015/05/18,未上市,,2亿元,2亿\n",
        code(2)
    ));
    std::fs::write(&csv, s).unwrap();
    cli.ok(&["import", "enterprises", csv.to_str().unwrap()]);
    let out = cli.ok(&[
        "policy",
        "check",
        "--enterprise",
        &code(1),
        "--as-of",
        "2025-03-01",
        "--measure",
        "M18",
    ]);
    assert!(out.contains("符合条件"), "{out}");
    let out = cli.ok(&[
        "policy",
        "match",
        "--as-of",
        "2025-03-01",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["enterprises"], 2);
    assert_eq!(v["counts"]["gd-2023-74/M18"]["eligible"], 1);
    // A match as of a day other than the server's is an analysis: it counts, but makes no
    // offer and notifies nobody (money follows the server's date only, issue 11).
    assert_eq!(v["notified"], 0, "{v}");
    assert_eq!(v["offers"], 0, "{v}");
    // As of today (the policy lapsed on 2026-10-11) nobody is eligible for M18 and no offer
    // is made.
    let out = cli.ok(&["policy", "match", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["offers"], 0, "{v}");
    assert!(v["counts"]["gd-2023-74/M18"]["eligible"].is_null(), "{v}");
    let out = cli.ok(&[
        "policy",
        "what-if",
        "--set",
        "m18_financing_cap=2亿元",
        "--as-of",
        "2025-03-01",
    ]);
    assert!(out.contains("+1亿元"), "{out}");
    let audit = cli.ok(&["audit", "verify"]);
    assert!(audit.to_lowercase().contains("intact"), "{audit}");
}

#[test]
fn successor_packs_load_from_the_configuration_and_a_bad_one_stops_the_command() {
    let cli = Cli::new("pol");
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/example-2026-continuation.yaml"
    );
    let cfg = cli.file(
        "yuepin.toml",
        format!("policy_packs = [{example:?}]\n").as_bytes(),
    );
    let out = cli.ok(&["policy", "packs", "--config", &cfg]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("gd-2023-74 粤市监〔2023〕74号")
            && lines[0].contains("2023-10-12 – 2026-10-11; today (")
            && lines[0].contains("Lapsed after 11 October 2026"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("example-2026-continuation")
            && lines[1].contains("[EXAMPLE, not a real policy]")
            && lines[1].contains("2026-10-12 – 2027-10-11"),
        "{out}"
    );
    // The successor's measure decides a merger today; without the pack nothing does.
    let merger = cli.file(
        "merger.json",
        r#"{"parties_revenue_china": ["14亿元", "6亿元"], "parties_revenue_world": ["50亿元", "20亿元"], "involves_manufacturing": true}"#,
    );
    let check = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "policy",
            "check",
            "--facts",
            &merger,
            "--subject",
            "merger",
            "--as-of",
            "2026-12-01",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(&cli.ok(&args)).unwrap()
    };
    let with = check(&["--config", &cfg]);
    let text = with.to_string();
    assert!(
        text.contains("example-2026-continuation/M1") && text.contains("\"eligible\""),
        "{with:#}"
    );
    let without = check(&[]);
    assert!(!without.to_string().contains("example-2026-continuation"));

    // A bad pack is refused with its file and line; nothing runs.
    let bad = cli.file("bad.yaml", "pack:\n  id: [unclosed\n");
    let err = cli.fails(&["policy", "packs", "--policy-pack", &bad]);
    assert!(err.contains(&format!("{bad}:")), "{err}");
    assert!(err.contains("no pack was loaded"), "{err}");
}
