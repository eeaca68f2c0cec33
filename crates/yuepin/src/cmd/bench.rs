//! `yuepin bench …`: benchmarks with fixed, documented workloads (docs/benchmarks.md). They
//! print throughput and latency percentiles; they are never run as tests.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::time::Instant;
use yuepin_store::{Actor, Store};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Import N synthetic enterprise rows from a generated CSV into a fresh database, end to end
    /// (read file, decode, validate every row, write in one transaction).
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Database URL (default: a fresh SQLite file in --work-dir).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value = "target/bench-import")]
        work_dir: PathBuf,
    },
    /// Enterprise search through the HTTP API router at N enterprises: a fixed mix of queries
    /// (name keywords of 2–4 characters, credit-code prefixes, city / division / designation
    /// filters, combinations, later pages), reporting p50/p95/p99 latency.
    Search {
        #[arg(long, default_value_t = 2_000_000)]
        enterprises: usize,
        #[arg(long, default_value_t = 2000)]
        queries: usize,
        /// Database URL (default: SQLite in --work-dir, seeded once and reused).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value = "target/bench-search")]
        work_dir: PathBuf,
    },
}

pub async fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Import {
            rows,
            database_url,
            work_dir,
        } => bench_import(rows, database_url, work_dir).await,
        BenchCommand::Search {
            enterprises,
            queries,
            database_url,
            work_dir,
        } => bench_search(enterprises, queries, database_url, work_dir).await,
    }
}

async fn bench_import(rows: usize, database_url: Option<String>, work_dir: PathBuf) -> Result<()> {
    std::fs::create_dir_all(&work_dir)?;
    let csv = work_dir.join(format!("enterprises-{rows}.csv"));
    if !csv.exists() {
        eprintln!("generating {} …", csv.display());
        let f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        yuepin_demo::write_enterprises_csv(f, 7, rows)?;
    }
    let url = match database_url {
        Some(u) => u,
        None => {
            let db = work_dir.join("import.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            format!("sqlite://{}", db.display())
        }
    };
    let store = Store::connect(&url).await?;
    let size = std::fs::metadata(&csv)?.len();
    let start = Instant::now();
    let summary = super::import::import_into(
        &store,
        super::import::Dataset::Enterprises,
        &csv,
        "auto",
        Actor::cli("bench"),
    )
    .await?;
    let secs = start.elapsed().as_secs_f64();
    let checkpoint_started = Instant::now();
    store.checkpoint().await?;
    println!(
        "bench import: {} rows ({:.1} MiB CSV) into {} in {:.2} s = {:.0} rows/s end to end (committed); WAL checkpoint afterwards {:.2} s",
        summary.rows,
        size as f64 / 1048576.0,
        store.backend_name(),
        secs,
        summary.rows as f64 / secs,
        checkpoint_started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The `p`-quantile (0–1) of ascending `sorted` values (nearest rank).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn bench_search(
    n: usize,
    queries: usize,
    database_url: Option<String>,
    work_dir: PathBuf,
) -> Result<()> {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    std::fs::create_dir_all(&work_dir)?;
    let url = database_url.unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            work_dir.join(format!("search-{n}.db")).display()
        )
    });
    let store = Store::connect(&url).await?;
    let registry = yuepin_enterprises_service::EnterprisesService::new(store.clone());
    if registry.enterprise_count().await? < n as i64 {
        eprintln!("seeding {n} enterprises into {url} (once) …");
        let start = Instant::now();
        let mut stream = yuepin_demo::enterprises(11, n);
        loop {
            let batch: Vec<_> = stream.by_ref().take(50_000).collect();
            if batch.is_empty() {
                break;
            }
            registry
                .import_enterprises(Actor::cli("bench"), &batch, "bench-seed", |_| {})
                .await?;
        }
        eprintln!("seeded in {:.1} s", start.elapsed().as_secs_f64());
    }
    if store.user_by_username("bench").await?.is_none() {
        let hash = yuepin_web::auth::hash_password("bench-password-123")?;
        let mut w = store.begin_write(Actor::cli("bench")).await?;
        store
            .create_user(
                &mut w,
                "bench",
                "bench",
                &hash,
                yuepin_domain::Role::Regulator,
                None,
            )
            .await?;
        store.commit(w).await?;
    }
    let user = store
        .user_by_username("bench")
        .await?
        .context("bench user")?;
    let token = yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .issue_token(
            &yuepin_domain::Caller::cli("bench"),
            user.id,
            "bench",
            Some(1),
        )
        .await?
        .token;

    // Keywords taken from real generated names, so that they match.
    let names: Vec<String> = yuepin_demo::enterprises(11, 5000).map(|e| e.name).collect();
    let cities: Vec<&str> = yuepin_domain::reference::cities()
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    let app = yuepin_web::router(store.clone(), yuepin_web::WebConfig::default());
    let mut lat = Vec::with_capacity(queries);
    let mut kinds = std::collections::BTreeMap::<&str, Vec<f64>>::new();
    for i in 0..queries {
        let name: Vec<char> = names[(i * 7919) % names.len()].chars().collect();
        let kw =
            |start: usize, len: usize| -> String { name.iter().skip(start).take(len).collect() };
        let city = cities[i % cities.len()];
        let division = 13 + (i % 31);
        let (kind, q) = match i % 8 {
            0 => ("keyword-2", format!("q={}", pct(&kw(3, 2)))),
            1 => ("keyword-4", format!("q={}", pct(&kw(2, 4)))),
            2 => ("keyword+city", format!("q={}&city={city}", pct(&kw(3, 2)))),
            3 => ("city+division", format!("city={city}&division={division}")),
            4 => ("designation", "designation=little_giant".to_string()),
            5 => (
                "city+designation",
                format!("city={city}&designation=high_tech"),
            ),
            6 => ("uscc-prefix", format!("q={}", &names_uscc(i)[..10])),
            _ => ("city page 5", format!("city={city}&page=5")),
        };
        let req = Request::get(format!("/api/v1/enterprises?{q}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())?;
        let start = Instant::now();
        let resp = app.clone().oneshot(req).await?;
        let status = resp.status();
        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status.is_success(), "query {q} failed: {status}");
        lat.push(ms);
        kinds.entry(kind).or_default().push(ms);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "bench search: {} enterprises, {} queries on {}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        registry.enterprise_count().await?,
        queries,
        store.backend_name(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or_default()
    );
    for (kind, mut v) in kinds {
        v.sort_by(|a, b| a.total_cmp(b));
        println!(
            "  {kind:<18} p50 {:>7.2} ms  p99 {:>7.2} ms",
            percentile(&v, 0.5),
            percentile(&v, 0.99)
        );
    }
    Ok(())
}

fn names_uscc(i: usize) -> String {
    yuepin_demo::enterprises(11, 1 + i % 4000)
        .last()
        .map(|e| e.uscc.to_string())
        .unwrap_or_default()
}

fn pct(s: &str) -> String {
    yuepin_domain::percent::urlencode(s)
}

/// Latencies (µs) of `n` POSTs of the JSON `body` to `path` through the API router, after
/// `warmup` unmeasured ones: the single-request figures of the capability benchmarks, which
/// measure the HTTP path on purpose.
pub async fn api_post_latencies(
    store: &Store,
    path: &str,
    body: &str,
    n: usize,
    warmup: usize,
) -> Result<Vec<f64>> {
    use tower::ServiceExt;
    let router = yuepin_web::router(store.clone(), yuepin_web::WebConfig::default());
    let mut lat = Vec::with_capacity(n);
    for i in 0..n + warmup {
        let req = axum::http::Request::post(path)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))?;
        let t = Instant::now();
        let resp = router.clone().oneshot(req).await?;
        let status = resp.status();
        let _ = axum::body::to_bytes(resp.into_body(), 1 << 20).await?;
        let d = t.elapsed();
        anyhow::ensure!(status.is_success(), "POST {path} failed: {status}");
        if i >= warmup {
            lat.push(d.as_secs_f64() * 1e6);
        }
    }
    Ok(lat)
}
