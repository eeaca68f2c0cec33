//! `yuepin credit …` against the real binary, on SQLite or PostgreSQL
//! (`YUEPIN_TEST_DATABASE_URL`): banks and their listing, an enterprise's grade with its
//! factors, the credit key set, the signed checkpoint, and `credit log verify` / `audit
//! verify` passing on an intact log and failing on an altered entry.

mod common;
use common::Cli;

fn code(n: u32) -> String {
    yuepin_domain::Uscc::assemble("91", "441900", &format!("{n:08}"))
        .unwrap()
        .to_string()
}

#[test]
fn banks_grades_keys_checkpoints_and_log_verification() {
    let cli = Cli::new("credit");
    let csv = format!(
        "统一社会信用代码,企业名称,地区,行业大类,注册资本,从业人数,成立日期,上市状态,认定,营业收入_境内_2025,营业收入_全球_2025\n{},东莞市青禾模具制造有限公司,东莞,C39,5000万,320,2012/05/18,未上市,little_giant@2022-07-01~2025-06-30,20亿元,25亿\n",
        code(1)
    );
    let f = cli.file("e.csv", csv);
    cli.ok(&["import", "enterprises", &f]);

    let out = cli.ok(&[
        "credit",
        "add-bank",
        "--code",
        "ICBC-GD",
        "--name",
        "工商银行广东省分行",
    ]);
    assert!(out.contains("ICBC-GD"), "{out}");
    assert!(cli.ok(&["credit", "banks"]).contains("工商银行广东省分行"));
    let err = cli.fails(&["credit", "add-bank", "--code", "ICBC-GD", "--name", "重复"]);
    assert!(err.contains("taken"), "{err}");

    let g = cli.ok(&["credit", "grade", "--uscc", &code(1)]);
    assert!(g.contains("grade") && g.contains("score 60.0"), "{g}");
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["credit", "grade", "--uscc", &code(1), "--json"])).unwrap();
    assert_eq!(json["grading"]["grade"], "C");

    let keys: serde_json::Value =
        serde_json::from_str(&cli.ok(&["credit", "log", "keys"])).unwrap();
    assert_eq!(keys["keys"][0]["crv"], "Ed25519");
    let cp = cli.ok(&["credit", "log", "checkpoint"]);
    assert!(cp.starts_with("yuepin.credit\n1\n"), "{cp}");
    let v = cli.ok(&["credit", "log", "verify"]);
    assert!(
        v.contains("credit log intact: 1 entries, 1 checkpoints"),
        "{v}"
    );
    let a = cli.ok(&["audit", "verify"]);
    assert!(
        a.contains("audit log intact") && a.contains("credit log intact"),
        "{a}"
    );

    // An altered entry fails both.
    let url = cli.url.clone();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let store = yuepin_store::Store::connect(&url).await.unwrap();
            sqlx::query("UPDATE credit_log SET entry = entry || ' ' WHERE idx = 0")
                .execute(store.pool())
                .await
                .unwrap();
        });
    let err = cli.fails(&["credit", "log", "verify"]);
    assert!(err.contains("entry 0 was altered"), "{err}");
    let err = cli.fails(&["audit", "verify"]);
    assert!(err.contains("entry 0 was altered"), "{err}");
}
