//! Calendar feeds (RFC 5545): an instrument's bookings (enterprises not named) and an
//! enterprise's bookings across instruments, opened by the signed-in or by a feed token a
//! lab's staff or the enterprise created (calendar apps cannot sign in). Only the token's hash
//! is stored.

use crate::records::{BookingRecord, FeedGrant, FeedKind, FeedTarget};
use crate::{LabsResult, LabsService};
use base64::Engine;
use rand::RngCore;
use yuepin_domain::{Caller, CallerKind, Denied, Uscc};
use yuepin_labs::{Booking, BookingId, InstrumentId};
use yuepin_store::{now_text, users::token_hash, Actor, Change};

/// 24 random bytes, URL-safe: long enough to be unguessable, short enough for a URL.
fn random_token() -> String {
    let mut buf = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

impl LabsService {
    /// A feed token for an instrument the caller manages.
    pub async fn create_instrument_feed(
        &self,
        caller: &Caller,
        instrument_id: i64,
    ) -> LabsResult<FeedGrant> {
        self.instrument_for_management(caller, instrument_id)
            .await?;
        let token = self
            .store_feed_token(caller, FeedKind::Instrument, instrument_id)
            .await?;
        Ok(FeedGrant {
            target: FeedTarget::Instrument(instrument_id),
            token,
        })
    }

    /// A feed token for the caller's enterprise.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_enterprise_feed(&self, caller: &Caller) -> LabsResult<FeedGrant> {
        let (id, uscc) = self.own_enterprise_uscc(caller).await?;
        let token = self
            .store_feed_token(caller, FeedKind::Enterprise, id)
            .await?;
        Ok(FeedGrant {
            target: FeedTarget::Enterprise(uscc),
            token,
        })
    }

    async fn store_feed_token(
        &self,
        caller: &Caller,
        kind: FeedKind,
        ref_id: i64,
    ) -> LabsResult<String> {
        let token = random_token();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        sqlx::query(
            "INSERT INTO lab_feed_tokens (token_hash, kind, ref_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(kind.as_str())
        .bind(ref_id)
        .bind(now_text())
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new(
                "create",
                "lab_feed_token",
                format!("{}:{ref_id}", kind.as_str()),
            )
            .after(serde_json::json!({"kind": kind.as_str(), "ref_id": ref_id})),
        );
        self.store.commit(w).await?;
        Ok(token)
    }

    /// Whether `token` opens the feed `kind`/`ref_id`.
    async fn feed_token_valid(&self, kind: FeedKind, ref_id: i64, token: &str) -> LabsResult<bool> {
        if token.is_empty() {
            return Ok(false);
        }
        Ok(sqlx::query(
            "SELECT 1 FROM lab_feed_tokens WHERE token_hash = $1 AND kind = $2 AND ref_id = $3",
        )
        .bind(token_hash(token))
        .bind(kind.as_str())
        .bind(ref_id)
        .fetch_optional(self.store.pool())
        .await?
        .is_some())
    }

    /// An instrument's feed: for anyone signed in (it names no enterprise) or with its token.
    pub async fn instrument_calendar(
        &self,
        caller: &Caller,
        id: i64,
        token: &str,
    ) -> LabsResult<String> {
        let signed_in = !matches!(caller.kind, CallerKind::Public);
        if !signed_in
            && !self
                .feed_token_valid(FeedKind::Instrument, id, token)
                .await?
        {
            return Err(Denied::SignInRequired.into());
        }
        let inst = self.instrument(caller, id).await?;
        let bookings = self.bookings_of_instrument(id).await?;
        let list: Vec<Booking> = bookings.iter().filter_map(to_booking).collect();
        Ok(yuepin_labs::instrument_feed(
            &inst.instrument,
            &list,
            crate::now(),
        ))
    }

    /// An enterprise's feed: for its own users, administrators, or with its token.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_calendar(
        &self,
        caller: &Caller,
        uscc: &Uscc,
        token: &str,
    ) -> LabsResult<String> {
        let e = self.registry().enterprise_by_uscc(uscc.as_str()).await?;
        if !caller.can_read_enterprise(e.id)
            && !self
                .feed_token_valid(FeedKind::Enterprise, e.id, token)
                .await?
        {
            return Err(match caller.kind {
                CallerKind::Public => Denied::SignInRequired,
                _ => Denied::OtherEnterprise,
            }
            .into());
        }
        let bookings = self.bookings_of_enterprise(e.id).await?;
        let mut ids: Vec<i64> = bookings.iter().map(|b| b.instrument_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut instruments = Vec::new();
        for id in ids {
            instruments.push(self.instrument(caller, id).await?.instrument);
        }
        let list: Vec<Booking> = bookings
            .iter()
            .filter_map(to_booking)
            .map(|mut b| {
                b.enterprise = uscc.clone();
                b
            })
            .collect();
        Ok(yuepin_labs::enterprise_feed(
            uscc,
            &list,
            &instruments,
            crate::now(),
        ))
    }
}

/// The pure crate's booking; internal use (no enterprise) gets a placeholder credit code,
/// which the instrument feed does not show.
fn to_booking(b: &BookingRecord) -> Option<Booking> {
    let enterprise = b
        .enterprise_uscc
        .clone()
        .or_else(|| Uscc::parse("91440300000000000X").ok())
        .or_else(|| Uscc::assemble("91", "440300", "00000000").ok())?;
    Some(Booking {
        id: BookingId(b.id as u64),
        instrument: InstrumentId(b.instrument_id as u64),
        enterprise,
        range: b.range()?,
        self_operated: b.self_operated,
        state: b.state,
        price: b.price,
    })
}
