//! Issuing codes: one at a time, or a batch written as CSV rows
//! (`uri,serial,status_index,issued_on,kid`). Serials and list positions are drawn serially
//! from the injected CSPRNG; signing runs in parallel (rayon), rows keep their order.

use crate::error::CodeError;
use crate::keys::PrivateKey;
use crate::sign::{sign_payload, CodeClaims};
use crate::status::{IndexAllocator, StatusRef};
use crate::uri::{CodeUri, Lot, Resolver, Serial, Subject};
use chrono::NaiveDate;
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use std::io::Write;

/// What every code of a batch shares.
#[derive(Debug, Clone)]
pub struct BatchSpec {
    pub resolver: Resolver,
    pub subject: Subject,
    pub lot: Option<Lot>,
    pub issued_on: NaiveDate,
}

/// One issued code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// The complete URI to print in the QR code.
    pub uri: String,
    pub serial: Serial,
    pub status: StatusRef,
    pub issued_on: NaiveDate,
    pub kid: String,
}

/// CSV header of [`issue_batch`] output.
pub const CSV_HEADER: [&str; 5] = ["uri", "serial", "status_index", "issued_on", "kid"];

/// Signs codes in chunks this large: big enough to keep both cores busy, small enough to stream.
const CHUNK: usize = 4096;

/// Issues one code: random serial, random list position from `allocator`.
pub fn issue_one(
    spec: &BatchSpec,
    key: &PrivateKey,
    allocator: &mut IndexAllocator,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<IssuedCode, CodeError> {
    let status = allocator.allocate(rng)?;
    let code = CodeUri {
        resolver: spec.resolver.clone(),
        subject: spec.subject.clone(),
        lot: spec.lot.clone(),
        serial: Serial::random(rng),
    };
    Ok(sign_prepared(&code, status, spec.issued_on, key))
}

fn sign_prepared(
    code: &CodeUri,
    status: StatusRef,
    issued_on: NaiveDate,
    key: &PrivateKey,
) -> IssuedCode {
    let claims = CodeClaims { issued_on, status };
    let unsigned = code.unsigned();
    let signature = sign_payload(unsigned.as_bytes(), &claims, key);
    let mut uri = unsigned;
    uri.push_str("?s=");
    uri.push_str(&signature);
    IssuedCode {
        uri,
        serial: code.serial.clone(),
        status,
        issued_on,
        kid: key.kid().to_string(),
    }
}

/// Issues `count` codes into `out` as CSV (with header). Returns the issued codes' status refs
/// so the caller can record which positions are taken.
///
/// A pipeline over chunks of [`CHUNK`] codes: while the pool signs chunk *k* and formats its CSV
/// lines, the calling thread writes chunk *k − 1* and draws the serials and list positions of
/// chunk *k + 1*, so the serial parts never leave a core idle.
///
/// Fails with `ListFull` before writing anything if the allocator has fewer than `count` free positions.
pub fn issue_batch<W: Write + Send>(
    spec: &BatchSpec,
    key: &PrivateKey,
    count: usize,
    allocator: &mut IndexAllocator,
    rng: &mut (impl RngCore + CryptoRng + Send),
    mut out: W,
) -> Result<Vec<StatusRef>, CodeError> {
    if allocator.remaining() < count {
        return Err(CodeError::ListFull {
            list_id: allocator.list_id(),
            capacity: crate::status::LIST_CAPACITY,
        });
    }
    let io = |source| CodeError::Io {
        what: "batch CSV",
        source,
    };
    let mut header = csv::Writer::from_writer(Vec::new());
    header
        .write_record(CSV_HEADER)
        .map_err(|e| CodeError::Csv {
            row: 0,
            reason: e.to_string(),
        })?;
    out.write_all(&header.into_inner().unwrap_or_default())
        .map_err(io)?;
    let issued_on_text = spec.issued_on.format("%Y-%m-%d").to_string();
    let mut prepare = |size: usize| -> Result<Vec<(CodeUri, StatusRef)>, CodeError> {
        let mut prepared = Vec::with_capacity(size);
        for _ in 0..size {
            let status = allocator.allocate(rng)?;
            let code = CodeUri {
                resolver: spec.resolver.clone(),
                subject: spec.subject.clone(),
                lot: spec.lot.clone(),
                serial: Serial::random(rng),
            };
            prepared.push((code, status));
        }
        Ok(prepared)
    };
    let mut refs = Vec::with_capacity(count);
    let mut first_row: u64 = 1;
    let mut current = prepare(count.min(CHUNK))?;
    let mut left = count - current.len();
    let mut pending: Vec<Vec<u8>> = Vec::new();
    while !current.is_empty() {
        let next_size = left.min(CHUNK);
        let (next, signed) = rayon::join(
            || -> Result<_, CodeError> {
                for part in &pending {
                    out.write_all(part).map_err(io)?;
                }
                prepare(next_size)
            },
            || sign_into_csv(&current, first_row, &issued_on_text, spec.issued_on, key),
        );
        let next = next?;
        pending.clear();
        for (bytes, part_refs) in signed? {
            pending.push(bytes);
            refs.extend(part_refs);
        }
        first_row += current.len() as u64;
        left -= next.len();
        current = next;
    }
    for part in &pending {
        out.write_all(part).map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(refs)
}

/// Signs a chunk in parallel; each task formats its codes' CSV lines into its own buffer.
fn sign_into_csv(
    chunk: &[(CodeUri, StatusRef)],
    first_row: u64,
    issued_on_text: &str,
    issued_on: NaiveDate,
    key: &PrivateKey,
) -> Result<Vec<(Vec<u8>, Vec<StatusRef>)>, CodeError> {
    const PART: usize = 256;
    chunk
        .par_chunks(PART)
        .enumerate()
        .map(|(p, part)| {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::with_capacity(part.len() * 200));
            let mut refs = Vec::with_capacity(part.len());
            for (i, (code, status)) in part.iter().enumerate() {
                let code = sign_prepared(code, *status, issued_on, key);
                let index = code.status.global_index().to_string();
                writer
                    .write_record([
                        code.uri.as_str(),
                        code.serial.as_str(),
                        index.as_str(),
                        issued_on_text,
                        code.kid.as_str(),
                    ])
                    .map_err(|e| CodeError::Csv {
                        row: first_row + (p * PART + i) as u64,
                        reason: e.to_string(),
                    })?;
                refs.push(code.status);
            }
            let bytes = writer.into_inner().map_err(|e| CodeError::Csv {
                row: first_row + (p * PART) as u64,
                reason: e.to_string(),
            })?;
            Ok((bytes, refs))
        })
        .collect()
}

/// Issues `count` codes and returns them (for callers that store them before writing files).
/// Serials and positions are drawn serially from `rng`; signing runs in parallel.
pub fn issue_many(
    spec: &BatchSpec,
    key: &PrivateKey,
    count: usize,
    allocator: &mut IndexAllocator,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<IssuedCode>, CodeError> {
    if allocator.remaining() < count {
        return Err(CodeError::ListFull {
            list_id: allocator.list_id(),
            capacity: crate::status::LIST_CAPACITY,
        });
    }
    let mut prepared = Vec::with_capacity(count);
    for _ in 0..count {
        let status = allocator.allocate(rng)?;
        let code = CodeUri {
            resolver: spec.resolver.clone(),
            subject: spec.subject.clone(),
            lot: spec.lot.clone(),
            serial: Serial::random(rng),
        };
        prepared.push((code, status));
    }
    Ok(prepared
        .into_par_iter()
        .with_min_len(CHUNK / 4)
        .map(|(code, status)| sign_prepared(&code, status, spec.issued_on, key))
        .collect())
}

/// Writes already issued codes as CSV with [`CSV_HEADER`].
pub fn write_csv<W: Write>(codes: &[IssuedCode], out: W) -> Result<(), CodeError> {
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(CSV_HEADER)
        .map_err(|e| CodeError::Csv {
            row: 0,
            reason: e.to_string(),
        })?;
    for (row, code) in codes.iter().enumerate() {
        let index = code.status.global_index().to_string();
        let day = code.issued_on.format("%Y-%m-%d").to_string();
        writer
            .write_record([
                code.uri.as_str(),
                code.serial.as_str(),
                index.as_str(),
                day.as_str(),
                code.kid.as_str(),
            ])
            .map_err(|e| CodeError::Csv {
                row: row as u64 + 1,
                reason: e.to_string(),
            })?;
    }
    writer.flush().map_err(|source| CodeError::Io {
        what: "batch CSV",
        source,
    })
}
