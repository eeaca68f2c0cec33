//! The `yuepin` binary end to end: migrate, accounts, import (CSV, GBK, XLSX; all-or-nothing;
//! idempotent), export round trips, audit verification and demo seeding — on SQLite, or on a
//! fresh PostgreSQL database when `YUEPIN_TEST_DATABASE_URL` names a server.

mod common;
use common::Cli;

fn code(n: u32) -> String {
    yuepin_domain::Uscc::assemble("91", "441900", &format!("{n:08}"))
        .unwrap()
        .to_string()
}

const HEADER: &str = "统一社会信用代码,企业名称,地区,行业大类,注册资本,从业人数,成立日期,上市状态,认定,营业收入_境内_2025,营业收入_全球_2025\n";

fn enterprise_csv(rows: &[(String, &str)]) -> String {
    let mut s = HEADER.to_string();
    for (c, name) in rows {
        s.push_str(&format!("{c},{name},东莞,C39,5000万,320,2012/05/18,未上市,little_giant@2022-07-01~2025-06-30,20亿元,25亿\n"));
    }
    s
}

#[test]
fn migrate_is_idempotent_and_first_regulator_is_created() {
    let cli = Cli::new("cli");
    let first = cli.ok(&["migrate"]);
    assert!(first.contains("migration(s) applied"), "{first}");
    let again = cli.ok(&["migrate"]);
    assert!(again.starts_with("0 migration(s)"), "{again}");
    let out = cli.run_with_input(
        &[
            "admin",
            "create-user",
            "--username",
            "chief",
            "--role",
            "regulator",
            "--password-stdin",
        ],
        Some("a-strong-password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let weak = cli.run_with_input(
        &[
            "admin",
            "create-user",
            "--username",
            "weak",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));
    let token = cli.ok(&["admin", "create-token", "--username", "chief"]);
    assert!(token.trim().starts_with("yp_"));
    assert!(cli.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn tokens_are_listed_revoked_and_a_disabled_account_loses_them() {
    let cli = Cli::new("cli");
    let out = cli.run_with_input(
        &[
            "admin",
            "create-user",
            "--username",
            "ops",
            "--role",
            "bank",
            "--password-stdin",
        ],
        Some("an-ops-password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let common = cli.run_with_input(
        &[
            "admin",
            "create-user",
            "--username",
            "lazy",
            "--password-stdin",
        ],
        Some("iloveyou\n"),
    );
    assert!(!common.status.success());
    let first = cli.ok(&["admin", "create-token", "--username", "ops", "--days", "30"]);
    cli.ok(&[
        "admin",
        "create-token",
        "--username",
        "ops",
        "--name",
        "second",
    ]);
    assert!(cli
        .fails(&[
            "admin",
            "create-token",
            "--username",
            "ops",
            "--days",
            "400"
        ])
        .contains("days"));
    let list = cli.ok(&["admin", "list-tokens", "--username", "ops"]);
    assert!(!list.contains(first.trim()), "{list}");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines.iter().all(|l| l.ends_with("\tlive")), "{list}");
    let id = lines[1].split('\t').next().unwrap();
    assert!(cli
        .ok(&["admin", "revoke-token", "--id", id])
        .contains("revoked"));
    let list = cli.ok(&["admin", "list-tokens", "--username", "ops"]);
    assert_eq!(
        list.lines().filter(|l| l.ends_with("\trevoked")).count(),
        1,
        "{list}"
    );
    assert!(cli
        .ok(&["admin", "disable-user", "--username", "ops"])
        .contains("disabled"));
    let list = cli.ok(&["admin", "list-tokens", "--username", "ops"]);
    assert!(list.lines().all(|l| l.ends_with("\trevoked")), "{list}");
    assert!(cli
        .fails(&["admin", "disable-user", "--username", "nobody"])
        .contains("nobody"));
    assert!(cli.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn import_is_all_or_nothing_and_idempotent() {
    let cli = Cli::new("cli");
    let good = cli.file(
        "good.csv",
        enterprise_csv(&[
            (code(1), "东莞市青禾模具制造有限公司"),
            (code(2), "东莞市澜汐电子有限公司"),
        ]),
    );
    let out = cli.ok(&["import", "enterprises", &good]);
    assert!(out.contains("2 rows (2 new, 0 updated)"), "{out}");
    let out = cli.ok(&["import", "enterprises", &good]);
    assert!(out.contains("2 rows (0 new, 2 updated)"), "{out}");

    // One bad row among good ones: nothing is written and every error is named.
    let mut bad = enterprise_csv(&[
        (code(3), "好企业"),
        ("91441900MA4UXXXX1X".into(), "坏代码企业"),
    ]);
    bad.push_str(&format!(
        "{},金额错误企业,东莞,C39,abc,1,2020-01-01,,,1亿,\n",
        code(4)
    ));
    let bad_path = cli.path("bad.csv");
    std::fs::write(&bad_path, bad).unwrap();
    let err = cli.fails(&["import", "enterprises", bad_path.to_str().unwrap()]);
    assert!(err.contains("nothing imported"), "{err}");
    assert!(
        err.contains("3") && err.contains("统一社会信用代码"),
        "{err}"
    );
    assert!(err.contains("注册资本"), "{err}");
    let export = cli.path("after-bad.csv");
    cli.ok(&["export", "enterprises", "--out", export.to_str().unwrap()]);
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(
        !text.contains("好企业"),
        "the good row of a bad file must not land"
    );
    assert_eq!(text.lines().count(), 3, "{text}");

    // GBK-encoded files (as Chinese government spreadsheets often are) import the same.
    let utf8 = enterprise_csv(&[(code(5), "东莞市国标编码测试有限公司")]);
    let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
    let gbk_path = cli.path("gbk.csv");
    std::fs::write(&gbk_path, &gbk).unwrap();
    let out = cli.ok(&["import", "enterprises", gbk_path.to_str().unwrap()]);
    assert!(out.contains("1 new"), "{out}");

    // Products, then events that name products by model.
    let products = cli.path("products.csv");
    std::fs::write(&products, format!("uscc,name,brand,model,gtin,category,standard\n{},变频空调,澜汐,KFR-35GW,6901234567892,空调,GB 4706.1-2005\n", code(1))).unwrap();
    assert!(cli
        .ok(&["import", "products", products.to_str().unwrap()])
        .contains("1 new"));
    let events = cli.path("events.csv");
    std::fs::write(
        &events,
        format!("uscc,product_model,date,kind,agency,report_no,result,failed_items\n{},KFR-35GW,2025-06-01,inspection,广东省质检院,GDQ-2025-0001,不合格,能效等级;噪声\n", code(1)),
    )
    .unwrap();
    assert!(cli
        .ok(&["import", "events", events.to_str().unwrap()])
        .contains("1 new"));
    let orphan = cli.path("orphan.csv");
    std::fs::write(
        &orphan,
        format!("uscc,product_model,date,kind,agency,report_no,result\n{},NO-SUCH,2025-06-01,inspection,院,R-2,合格\n", code(1)),
    )
    .unwrap();
    let err = cli.fails(&["import", "events", orphan.to_str().unwrap()]);
    assert!(
        err.contains("product_model") && err.contains("NO-SUCH"),
        "{err}"
    );

    // Export to XLSX and back into a fresh database gives the same rows.
    let xlsx = cli.path("all.xlsx");
    cli.ok(&[
        "export",
        "enterprises",
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    let other = Cli::new("cli");
    let out = other.ok(&["import", "enterprises", xlsx.to_str().unwrap()]);
    assert!(out.contains("3 rows (3 new"), "{out}");
    let a = cli.path("a.csv");
    let b = other.path("b.csv");
    cli.ok(&["export", "enterprises", "--out", a.to_str().unwrap()]);
    other.ok(&["export", "enterprises", "--out", b.to_str().unwrap()]);
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(cli.ok(&["audit", "verify"]).contains("intact"));
}

/// Events are keyed by enterprise and code as documented: two enterprises that took part in
/// one standard import, export to CSV and XLSX, and re-import into a fresh database; text over
/// a column's bound is refused by row and column.
#[test]
fn events_of_two_enterprises_with_one_standard_export_and_reimport() {
    let cli = Cli::new("cli");
    let enterprises = enterprise_csv(&[(code(1), "甲公司"), (code(2), "乙公司")]);
    cli.ok(&["import", "enterprises", &cli.file("e.csv", &enterprises)]);
    let header = "uscc,date,kind,standard_code,standard_level,role,authority,decision_no,amount,serious,reason\n";
    let rows = format!(
        "{a},2024-03-01,standard,GB 4706.1-2005,national,participant,,,,,\n\
         {b},2024-03-01,standard,GB 4706.1-2005,national,participant,,,,,\n\
         {a},2024-05-10,penalty,,,,东莞市市场监督管理局,东市监罚〔2024〕1号,1000,否,=无证生产\n",
        a = code(1),
        b = code(2)
    );
    let out = cli.ok(&[
        "import",
        "events",
        &cli.file("ev.csv", format!("{header}{rows}")),
    ]);
    assert!(out.contains("3 new"), "{out}");
    let too_long = format!(
        "{header}{},2024-06-10,penalty,,,,东莞市市场监督管理局,东市监罚〔2024〕2号,1000,否,{}\n",
        code(2),
        "罚".repeat(501)
    );
    let err = cli.fails(&["import", "events", &cli.file("long.csv", too_long)]);
    assert!(err.contains("第2行") && err.contains("reason"), "{err}");

    for (format, name) in [("csv", "events.csv"), ("xlsx", "events.xlsx")] {
        let path = cli.path(name);
        let out = cli.ok(&[
            "export",
            "events",
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(out.contains("exported 3"), "{out}");
        let other = Cli::new("cli");
        other.ok(&["import", "enterprises", &other.file("e.csv", &enterprises)]);
        let out = other.ok(&["import", "events", path.to_str().unwrap()]);
        assert!(out.contains("3 new"), "{format}: {out}");
    }
}

#[test]
fn demo_seeds_every_city_and_prints_accounts() {
    let cli = Cli::new("cli");
    let out = cli.ok(&[
        "demo",
        "--seed-only",
        "--enterprises",
        "300",
        "--data-dir",
        cli.dir.path().to_str().unwrap(),
    ]);
    for user in ["regulator", "enterprise", "bank", "lab", "expert"] {
        assert!(out.contains(user), "{out}");
    }
    let export = cli.path("demo.csv");
    let demo_db = format!("sqlite://{}", cli.path("yuepin.db").display());
    cli.ok(&[
        "export",
        "enterprises",
        "--database-url",
        &demo_db,
        "--out",
        export.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&export).unwrap();
    assert_eq!(text.lines().count(), 301);
    // A second run keeps the data.
    let again = cli.ok(&[
        "demo",
        "--seed-only",
        "--data-dir",
        cli.dir.path().to_str().unwrap(),
    ]);
    assert!(again.contains("existing demo database"), "{again}");
}

/// Re-imports rename enterprises (the name search follows the new name, not the old one), a
/// USCC repeated within one file is refused by row, and the audit chain stays intact across the
/// bulk writers.
#[test]
fn reimport_replaces_search_grams_and_repeated_codes_are_refused() {
    let cli = Cli::new("cli");
    let first = cli.file(
        "first.csv",
        enterprise_csv(&[(code(11), "东莞市青禾模具制造有限公司")]),
    );
    cli.ok(&["import", "enterprises", &first]);
    let second = cli.file(
        "second.csv",
        enterprise_csv(&[
            (code(11), "东莞市澜汐电子有限公司"),
            (code(12), "东莞市北斗精密仪器股份有限公司"),
        ]),
    );
    let out = cli.ok(&["import", "enterprises", &second]);
    assert!(out.contains("2 rows (1 new, 1 updated)"), "{out}");
    let repeated = cli.file(
        "repeated.csv",
        enterprise_csv(&[
            (code(13), "东莞市启明光电有限公司"),
            (code(13), "东莞市启明光电股份有限公司"),
        ]),
    );
    let err = cli.fails(&["import", "enterprises", &repeated]);
    assert!(err.contains("第3行") && err.contains("重复"), "{err}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = yuepin_store::Store::connect(&cli.url).await.unwrap();
        let search = |q: &str| {
            let store = store.clone();
            let q = q.to_string();
            async move {
                yuepin_enterprises_service::EnterprisesService::new(store.clone())
                    .search_enterprises(&yuepin_enterprises_service::SearchQuery {
                        q,
                        city: None,
                        division: None,
                        designation: None,
                        as_of: "2026-01-01".into(),
                        only_ids: None,
                        page: 1,
                        per_page: 20,
                    })
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
            }
        };
        assert!(search("青禾").await.is_empty(), "the old name must be gone");
        assert_eq!(search("澜汐").await, vec!["东莞市澜汐电子有限公司"]);
        assert_eq!(
            search("北斗精密").await,
            vec!["东莞市北斗精密仪器股份有限公司"]
        );
        assert_eq!(
            yuepin_enterprises_service::EnterprisesService::new(store.clone())
                .enterprise_count()
                .await
                .unwrap(),
            2
        );
    });
    assert!(cli.ok(&["audit", "verify"]).contains("intact"));
}
