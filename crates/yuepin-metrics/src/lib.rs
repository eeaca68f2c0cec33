//! Every metric Yuepin exports, by name, with one helper per metric so that service crates
//! count what they do without knowing about HTTP or the exporter. The helpers go through the
//! `metrics` facade: they cost an atomic add when a recorder is installed (the web server
//! installs a Prometheus one, see `yuepin_web::ops`) and nothing when none is (CLI runs, unit
//! tests). Label values are `&'static str` or bounded sets, so the series count stays bounded.

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};

/// Requests served, by `method`, `route` (the matched route pattern) and `status`.
pub const HTTP_REQUESTS: &str = "yuepin_http_requests_total";
/// Request latency in seconds, by `route`.
pub const HTTP_DURATION: &str = "yuepin_http_request_duration_seconds";
/// Open connections in the database pool (idle and in use), sampled at scrape time.
pub const DB_POOL_CONNECTIONS: &str = "yuepin_db_pool_connections";
/// Idle connections in the database pool, sampled at scrape time.
pub const DB_POOL_IDLE: &str = "yuepin_db_pool_idle";
/// Rows written by imports, by `dataset`.
pub const IMPORT_ROWS: &str = "yuepin_import_rows_total";
/// Scans of 粤品通 codes that found a code (counted when the scan is served).
pub const CODE_SCANS: &str = "yuepin_code_scans_total";
/// Policy rule evaluations: one per (subject, measure) rule evaluated, by matches, checks,
/// enterprise pages and what-ifs.
pub const POLICY_EVALUATIONS: &str = "yuepin_policy_evaluations_total";
/// Runs of the complaint surveillance (alarm detection).
pub const COMPLAINT_ALARM_RUNS: &str = "yuepin_complaint_alarm_runs_total";

/// The import datasets, registered at zero so that dashboards see them before the first import.
pub const IMPORT_DATASETS: [&str; 4] = ["enterprises", "products", "events", "complaints"];

/// Upper bounds (seconds) of the request latency histogram.
pub const HTTP_DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Writes the help texts and registers the unlabelled counters at zero. Call once, after the
/// recorder is installed.
pub fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests served, by method, matched route and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by matched route."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Open connections in the database pool."
    );
    describe_gauge!(DB_POOL_IDLE, "Idle connections in the database pool.");
    describe_counter!(IMPORT_ROWS, "Rows written by imports, by dataset.");
    describe_counter!(CODE_SCANS, "Scans of 粤品通 codes.");
    describe_counter!(
        POLICY_EVALUATIONS,
        "Policy rule evaluations (subject × measure)."
    );
    describe_counter!(
        COMPLAINT_ALARM_RUNS,
        "Complaint surveillance (alarm detection) runs."
    );
    for dataset in IMPORT_DATASETS {
        counter!(IMPORT_ROWS, "dataset" => dataset).increment(0);
    }
    counter!(CODE_SCANS).increment(0);
    counter!(POLICY_EVALUATIONS).increment(0);
    counter!(COMPLAINT_ALARM_RUNS).increment(0);
}

/// HTTP method as a label: the standard ones by name, anything else as `other`.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// One served request. `route` is the matched route pattern (`/api/v1/enterprises/{uscc}`),
/// never the raw path.
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    counter!(
        HTTP_REQUESTS,
        "method" => method_label(method),
        "route" => route.to_string(),
        "status" => status.to_string()
    )
    .increment(1);
    histogram!(HTTP_DURATION, "route" => route.to_string()).record(seconds);
}

/// The database pool as it is now.
pub fn db_pool(connections: u32, idle: usize) {
    gauge!(DB_POOL_CONNECTIONS).set(f64::from(connections));
    gauge!(DB_POOL_IDLE).set(idle as f64);
}

/// `rows` rows of `dataset` (`enterprises`, `products`, `events`, `complaints`) were imported.
pub fn import_rows(dataset: &'static str, rows: u64) {
    counter!(IMPORT_ROWS, "dataset" => dataset).increment(rows);
}

/// `n` scans of codes were served.
pub fn code_scans(n: u64) {
    counter!(CODE_SCANS).increment(n);
}

/// `n` policy rule evaluations (subject × measure) were made.
pub fn policy_evaluations(n: u64) {
    counter!(POLICY_EVALUATIONS).increment(n);
}

/// `n` runs of the complaint surveillance finished.
pub fn complaint_alarm_runs(n: u64) {
    counter!(COMPLAINT_ALARM_RUNS).increment(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PROPFIND"), "other");
    }

    #[test]
    fn helpers_are_no_ops_without_a_recorder() {
        import_rows("enterprises", 3);
        code_scans(1);
        policy_evaluations(2);
        complaint_alarm_runs(1);
        http_request("GET", "/healthz", 200, 0.001);
        db_pool(2, 1);
    }
}
