//! The public scan of a code (at its GS1 Digital Link path), with the quality summary a
//! consumer sees, and the counting behind the counterfeit signals.
//!
//! The scan path is hot, so three things are kept in memory ([`State`]):
//! - verified signatures, per full URI and key-ring version (a rotation or withdrawal re-reads
//!   the ring, which changes the version, so stale verdicts are never served);
//! - looked-up codes with their scan data, for at most [`CODE_CACHE_SECONDS`], and cleared at
//!   once by any status change made through this service;
//! - the scan-count buffer: increments per (code, day, city), flushed in one audited
//!   transaction when [`SCAN_FLUSH_SECONDS`] have passed (on the next scan) or the buffer grows
//!   large, and whenever the regulator's views read the counts.
//!
//! **Several replicas.** Each server buffers only its own increments and a flush *adds* them to
//! the stored counts (`scans = code_scans.scans + n`, see `store::writes::record_scans`), so the
//! flushes of any number of replicas into one PostgreSQL database add up to the true total in
//! any order, and no flush can overwrite another's. What a replica has not flushed yet is not
//! in the database: the regulator's views flush the replica that serves them, and the others'
//! counts appear after their next flush (at most [`SCAN_FLUSH_SECONDS`] after their next scan).
//! A replica that is killed loses its unflushed increments (at most a few seconds' scans).

use crate::error::{CodesError, Result};
use crate::records::{CodeRecord, FlagRecord, ScanRow, SignalRule};
use crate::store::{queries, writes, writes::ScanCount};
use crate::{CodesService, CODE_CACHE_SECONDS, SCAN_FLUSH_SECONDS};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use yuepin_code::{CodeStatus, Verdict};
use yuepin_domain::{reference, Caller, Certification, InspectionResult, QualityEventKind};
use yuepin_enterprises_service::ProductRecord;
use yuepin_store::Actor;

/// Entries kept per cache before it is emptied (a crude bound: scans of many distinct codes).
const CACHE_LIMIT: usize = 200_000;
/// Buffered (code, day, city) keys that force a flush before the interval is up.
const BUFFER_LIMIT: usize = 50_000;
/// The audit actor of scan-count flushes.
const SCAN_COUNTER: &str = "system:scan-counter";

/// A verified signature: ring version, verdict, and the signed kid and status index.
type VerifiedEntry = (u64, Verdict, Option<(String, u32)>);

/// The service's in-memory state (see the module comment).
#[derive(Default)]
pub(crate) struct State {
    pub(crate) ring: crate::keys::KeyCache,
    verified: RwLock<HashMap<String, VerifiedEntry>>,
    codes: RwLock<HashMap<(String, String), (Instant, Option<Arc<ScanData>>)>>,
    scans: Mutex<ScanBuffer>,
    claims: Mutex<Claims>,
    limiter: Mutex<crate::scan_limit::Limiter>,
}

/// The city each client (a keyed hash of its address, never the address) claimed for each
/// code today: a client's location claim counts once, so one phone sending `&loc=` four
/// times cannot raise `many_cities_day`. Per replica and in memory: it starts afresh each day
/// (and, as a crude bound, past [`CACHE_LIMIT`] entries).
#[derive(Default)]
struct Claims {
    day: String,
    keys: std::hash::RandomState,
    cities: HashMap<(i64, u64), String>,
}

impl Claims {
    /// The city to record for a scan of `code_id` claiming `city` from `client` on `day`:
    /// the claim when it is this client's first for the code today (or repeats it), none
    /// when the client already claimed another city.
    fn city(&mut self, day: &str, code_id: i64, client: &str, city: &str) -> Option<String> {
        use std::hash::BuildHasher;
        if self.day != day || self.cities.len() > CACHE_LIMIT {
            self.day = day.to_string();
            self.cities.clear();
        }
        let key = (code_id, self.keys.hash_one(client));
        let first = self.cities.entry(key).or_insert_with(|| city.to_string());
        (first == city).then(|| city.to_string())
    }
}

struct ScanBuffer {
    since: Instant,
    counts: HashMap<(i64, String, String), i64>,
}

impl Default for ScanBuffer {
    fn default() -> Self {
        Self {
            since: Instant::now(),
            counts: HashMap::new(),
        }
    }
}

impl ScanBuffer {
    fn take(&mut self) -> Vec<ScanCount> {
        self.since = Instant::now();
        self.counts
            .drain()
            .map(|((c, d, city), n)| (c, d, city, n))
            .collect()
    }
}

impl State {
    pub(crate) fn forget_verifications(&self) {
        if let Ok(mut v) = self.verified.write() {
            v.clear();
        }
    }

    /// Forgets cached codes so the next scan reads the database (after any status change).
    pub(crate) fn forget_codes(&self) {
        if let Ok(mut c) = self.codes.write() {
            c.clear();
        }
    }

    /// Counts one scan, with its city when the claim counts (see [`Claims`]; a scan without
    /// a known client keeps its claim); returns the buffer's contents when it is time to flush.
    fn count_scan(
        &self,
        code_id: i64,
        city: Option<&str>,
        client: Option<&str>,
    ) -> Option<Vec<ScanCount>> {
        let day = yuepin_domain::china_today().to_string();
        if let Some(client) = client {
            let mut limiter = self.limiter.lock().ok()?;
            let key = limiter.key(client);
            if !limiter.counts(&day, code_id, key) {
                return None;
            }
        }
        let city = match (city, client) {
            (Some(city), Some(client)) => {
                self.claims.lock().ok()?.city(&day, code_id, client, city)
            }
            (city, _) => city.map(str::to_string),
        };
        let mut buffer = self.scans.lock().ok()?;
        *buffer
            .counts
            .entry((code_id, day, city.unwrap_or_default()))
            .or_insert(0) += 1;
        (buffer.since.elapsed() >= Duration::from_secs(SCAN_FLUSH_SECONDS)
            || buffer.counts.len() > BUFFER_LIMIT)
            .then(|| buffer.take())
    }
}

/// One of the latest inspections on the scan page.
#[derive(Debug, Clone)]
pub struct InspectionLine {
    pub date: NaiveDate,
    pub pass: bool,
    pub agency: String,
    pub failed_items: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AwardLine {
    pub date: NaiveDate,
    pub name: String,
    pub level: String,
}

/// Everything the scan page shows about a code, cached briefly.
#[derive(Debug, Clone)]
pub struct ScanData {
    pub code: CodeRecord,
    pub product: ProductRecord,
    pub enterprise_name: String,
    pub uscc: String,
    pub city: &'static reference::City,
    /// The three latest inspections, newest first.
    pub inspections: Vec<InspectionLine>,
    /// Certifications valid today.
    pub certifications: Vec<Certification>,
    pub awards: Vec<AwardLine>,
    /// Complaints about the producer in the last 12 months (the complaints module's definition).
    pub complaints_12m: i64,
}

/// The outcome of a scan.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The full URI that was checked (resolver base, path and `?s=`).
    pub uri: String,
    pub verdict: Verdict,
    /// The stored code with its scan data, when the signature verified and the code is known.
    pub data: Option<Arc<ScanData>>,
    /// Lot and serial as the path says them (shown even when the signature fails).
    pub lot: String,
    pub serial: String,
    /// The platform address the code was issued for, when it is not this server's current
    /// one (the signature verified against that address instead).
    pub issued_for: Option<String>,
}

/// `scheme://host[:port]` of a recorded code URI.
fn issued_base(uri: &str) -> Option<&str> {
    let rest = uri.find("://").map(|i| i + 3)?;
    let end = uri[rest..].find('/').map_or(uri.len(), |i| rest + i);
    Some(&uri[..end])
}

/// The regulator's counterfeit signals with the rule that raised them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signals {
    pub flags: Vec<FlagRecord>,
    pub rule: SignalRule,
}

/// One code's scan counts.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeScans {
    pub code: CodeRecord,
    pub scans: Vec<ScanRow>,
}

/// Percent-decodes one path segment (invalid escapes are kept as they are).
fn pct(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a code path names: (subject key, lot, serial); empty strings when it names nothing.
fn path_parts(path: &str) -> (String, String, String) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let subject = |kind: &str, id: &str| format!("{}:{id}", if kind == "01" { "01" } else { "p" });
    match parts.as_slice() {
        [kind, id, "10", lot, "21", serial] => (subject(kind, id), pct(lot), pct(serial)),
        [kind, id, "21", serial] => (subject(kind, id), String::new(), pct(serial)),
        _ => (String::new(), String::new(), String::new()),
    }
}

impl CodesService {
    /// The signed key set document (public).
    pub fn key_set_json(&self) -> Result<Arc<String>> {
        Ok(self.loaded()?.signed_json.clone())
    }

    /// The root public key document (public).
    pub fn root_json(&self) -> Result<Arc<String>> {
        Ok(self.loaded()?.root_json.clone())
    }

    /// Checks a scanned code (public: anyone with a phone). `path` is the URI's path (e.g.
    /// `/01/{gtin}/10/{lot}/21/{serial}`), `signature` its `s` parameter, `city` the city the
    /// scanner chose to share (a code or name; unknown ones are not recorded), `client` who
    /// scans (the caller's address, kept only as a keyed hash: each client's city claim for a
    /// code counts once a day; its scans are bounded per minute and counted a few times per
    /// code and day, `scan_limit.rs`). A verified, known code's scan is counted.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn scan(
        &self,
        path: &str,
        signature: &str,
        city: Option<&str>,
        client: Option<&str>,
    ) -> Result<Scanned> {
        if let Some(client) = client {
            if let Ok(mut limiter) = self.state.limiter.lock() {
                let key = limiter.key(client);
                if let Err(retry_after_secs) = limiter.admit(key, Instant::now()) {
                    return Err(CodesError::ScanRateLimited { retry_after_secs });
                }
            }
        }
        let loaded = self.loaded()?;
        let uri = format!("{}{}?s={}", self.resolver()?.base_url(), path, signature);
        let (mut verdict, mut details) = if signature.is_empty() {
            (
                Verdict::Malformed("uri.query: missing ?s= signature".into()),
                None,
            )
        } else {
            self.verify_signature(&loaded, &uri)
        };
        let (subject, lot, serial) = path_parts(path);
        let mut issued_for = None;
        if verdict == Verdict::SignatureInvalid {
            // A genuine code issued when the platform had another public address (a demo on
            // another port, a moved domain) is not a forgery: it verifies against the address
            // recorded when it was issued. Only a code this platform recorded is tried.
            if let Some((other, checked)) = self
                .verify_at_issued_address(&loaded, &subject, &serial, path, signature)
                .await?
            {
                issued_for = Some(other);
                (verdict, details) = checked;
            }
        }
        let mut data = None;
        if let Some((kid, index)) = details.as_ref() {
            match self.lookup(&subject, &serial).await? {
                Some(d)
                    if d.code.kid == *kid
                        && d.code.status_index == i64::from(*index)
                        && d.code.lot.clone().unwrap_or_default() == lot =>
                {
                    verdict = match d.code.status {
                        CodeStatus::Suspended => Verdict::Suspended,
                        CodeStatus::Revoked => Verdict::Revoked {
                            reason: d.code.status_reason.clone(),
                            since: None,
                        },
                        CodeStatus::Recalled => Verdict::Recalled,
                        CodeStatus::Valid => Verdict::Valid,
                    };
                    let city = city.and_then(reference::find_city).map(|c| c.code.as_str());
                    if let Some(batch) = self.state.count_scan(d.code.id, city, client) {
                        let service = self.clone();
                        tokio::spawn(async move {
                            if let Err(e) = service.record_scans(&batch).await {
                                tracing::warn!(error = %e, "flushing scan counts");
                            }
                        });
                    }
                    yuepin_metrics::code_scans(1);
                    data = Some(d);
                }
                _ => verdict = Verdict::StatusUnknown,
            }
        }
        Ok(Scanned {
            uri,
            verdict,
            data,
            lot,
            serial,
            issued_for,
        })
    }

    /// The code's recorded base URL, when it differs from ours and the signature verifies
    /// against it, with that verification.
    async fn verify_at_issued_address(
        &self,
        loaded: &crate::keys::Loaded,
        subject: &str,
        serial: &str,
        path: &str,
        signature: &str,
    ) -> Result<Option<(String, (Verdict, Option<(String, u32)>))>> {
        let Some(data) = self.lookup(subject, serial).await? else {
            return Ok(None);
        };
        let ours = self.resolver()?.base_url();
        let Some(base) = issued_base(&data.code.uri) else {
            return Ok(None);
        };
        if base == ours {
            return Ok(None);
        }
        let checked = self.verify_signature(loaded, &format!("{base}{path}?s={signature}"));
        Ok((checked.0 != Verdict::SignatureInvalid).then_some((base.to_string(), checked)))
    }

    /// Signature check of the full URI, cached per key-ring version.
    fn verify_signature(
        &self,
        loaded: &crate::keys::Loaded,
        uri: &str,
    ) -> (Verdict, Option<(String, u32)>) {
        let version = loaded.ring.version();
        if let Ok(cache) = self.state.verified.read() {
            if let Some((v, verdict, details)) = cache.get(uri) {
                if *v == version {
                    return (verdict.clone(), details.clone());
                }
            }
        }
        let checked = yuepin_code::verify_detailed(uri, &loaded.key_set, None, chrono::Utc::now());
        let details = checked
            .details
            .as_ref()
            .map(|d| (d.kid.clone(), d.claims.status.global_index()));
        let verdict = checked.verdict;
        // Malformed input is not cached: anyone can send endless distinct garbage.
        if !matches!(verdict, Verdict::Malformed(_)) {
            if let Ok(mut cache) = self.state.verified.write() {
                if cache.len() >= CACHE_LIMIT {
                    cache.clear();
                }
                cache.insert(uri.to_string(), (version, verdict.clone(), details.clone()));
            }
        }
        (verdict, details)
    }

    /// Looks a code up with its scan data (through the short-lived cache).
    async fn lookup(&self, subject: &str, serial: &str) -> Result<Option<Arc<ScanData>>> {
        let key = (subject.to_string(), serial.to_string());
        if let Ok(cache) = self.state.codes.read() {
            if let Some((at, data)) = cache.get(&key) {
                if at.elapsed() < Duration::from_secs(CODE_CACHE_SECONDS) {
                    return Ok(data.clone());
                }
            }
        }
        let data = match queries::code_by_serial(&self.store, subject, serial).await? {
            Some(code) => Some(Arc::new(self.scan_data(code).await?)),
            None => None,
        };
        if let Ok(mut cache) = self.state.codes.write() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, (Instant::now(), data.clone()));
        }
        Ok(data)
    }

    async fn scan_data(&self, code: CodeRecord) -> Result<ScanData> {
        let today = yuepin_domain::china_today();
        let product = self.registry().product(code.product_id).await?;
        let enterprise = self.registry().enterprise_by_id(code.enterprise_id).await?;
        let events = self.registry().events_of(code.enterprise_id).await?;
        let mut inspections = Vec::new();
        let mut certifications = Vec::new();
        let mut awards = Vec::new();
        for e in &events {
            match &e.kind {
                QualityEventKind::Inspection {
                    agency,
                    result,
                    failed_items,
                    ..
                } if inspections.len() < 3 => inspections.push(InspectionLine {
                    date: e.date,
                    pass: *result == InspectionResult::Pass,
                    agency: agency.clone(),
                    failed_items: failed_items.clone(),
                }),
                QualityEventKind::Certification(c)
                    if c.valid_from <= today && today <= c.valid_until =>
                {
                    certifications.push(c.clone());
                }
                QualityEventKind::Award { name, level } => awards.push(AwardLine {
                    date: e.date,
                    name: name.clone(),
                    level: level.clone(),
                }),
                _ => {}
            }
        }
        // One definition of "complaints in the last 12 months": the complaints service's.
        let complaints_12m = self
            .complaints
            .complaint_count_12m_as_of(code.enterprise_id, today)
            .await
            .map_err(|e| match e {
                yuepin_complaints_service::ComplaintsError::Store(s) => CodesError::Store(s),
                other => CodesError::Store(yuepin_store::StoreError::Native(other.to_string())),
            })?;
        Ok(ScanData {
            product,
            enterprise_name: enterprise.enterprise.name.clone(),
            uscc: enterprise.enterprise.uscc.to_string(),
            city: enterprise.enterprise.region.city(),
            inspections,
            certifications,
            awards,
            complaints_12m,
            code,
        })
    }

    async fn record_scans(&self, batch: &[ScanCount]) -> Result<usize> {
        if batch.is_empty() {
            return Ok(0);
        }
        let rule = queries::signal_rule(&self.store).await?;
        writes::record_scans(&self.store, Actor(SCAN_COUNTER.into()), &rule, batch).await
    }

    /// Writes this server's buffered scan counts now (the regulator's views call this first;
    /// a server may call it on shutdown). Returns the number of flags raised or refreshed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn flush_scans(&self) -> Result<usize> {
        let batch = self
            .state
            .scans
            .lock()
            .map_err(|_| CodesError::Poisoned)?
            .take();
        self.record_scans(&batch).await
    }

    /// Counterfeit signals, newest first, with the rule (regulator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn signals(&self, caller: &Caller) -> Result<Signals> {
        caller.require_administrator()?;
        self.flush_scans().await?;
        Ok(Signals {
            flags: queries::flags(&self.store, 200).await?,
            rule: queries::signal_rule(&self.store).await?,
        })
    }

    /// One code's scan counts by day and city (regulator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn code_scans(&self, caller: &Caller, code_id: i64) -> Result<CodeScans> {
        caller.require_administrator()?;
        self.flush_scans().await?;
        Ok(CodeScans {
            code: queries::code_by_id(&self.store, code_id).await?,
            scans: queries::scans(&self.store, code_id).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_paths_name_subject_lot_and_serial() {
        assert_eq!(
            path_parts("/01/06901234567892/10/L%201/21/AB%2Fc"),
            ("01:06901234567892".into(), "L 1".into(), "AB/c".into())
        );
        assert_eq!(
            path_parts("/p/42/21/XYZ"),
            ("p:42".into(), String::new(), "XYZ".into())
        );
        assert_eq!(path_parts("/nothing"), Default::default());
        assert_eq!(pct("bad%zz%4"), "bad%zz%4");
    }
}
