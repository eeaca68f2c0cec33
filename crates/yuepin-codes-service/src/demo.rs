//! Demo data for `yuepin demo`: codes for a few demo products (four with a GTIN, one without),
//! one of them revoked, one suspended, one recalled, so every verdict can be seen by scanning.
//! Deterministic serials (seeded generator) so that demo links stay the same between runs.

use crate::error::Result;
use crate::records::{subject_key, StatusScope};
use crate::store::{queries, writes};
use crate::CodesService;
use rand::SeedableRng;
use yuepin_code::CodeStatus;
use yuepin_domain::Caller;
use yuepin_store::Actor;

/// Codes per demo product.
const PER_PRODUCT: usize = 20;

impl CodesService {
    /// Seeds the demo codes; returns one scan URI per status shown (valid first).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn seed_demo(&self, caller: &Caller) -> Result<Vec<(CodeStatus, String)>> {
        caller.require_administrator()?;
        // Serials depend on the address so that a demo moved to another port can be given
        // codes of its own beside the earlier ones (same links for the same address).
        let base = self.resolver()?.base_url();
        let seed = base.bytes().fold(2023u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut products = self.registry().all_products().await?;
        products.sort_by_key(|p| (p.product.gtin.is_none(), p.id));
        let mut picked: Vec<_> = products
            .iter()
            .filter(|p| p.product.gtin.is_some())
            .take(4)
            .cloned()
            .collect();
        picked.extend(
            products
                .iter()
                .filter(|p| p.product.gtin.is_none())
                .take(1)
                .cloned(),
        );
        let mut urls = Vec::new();
        for (i, product) in picked.iter().enumerate() {
            let lot = (i % 2 == 0).then(|| format!("2026{:02}GZ{:02}", 11, i + 1));
            let series = self
                .grant_series(
                    caller,
                    product.id,
                    lot.as_deref(),
                    PER_PRODUCT as i64,
                    "演示数据 (demo data)",
                )
                .await?;
            let issued = self
                .issue(caller, series.id, PER_PRODUCT, PER_PRODUCT, &mut rng)
                .await?;
            let codes = &issued.codes;
            urls.push((CodeStatus::Valid, codes[0].uri.clone()));
            let spec = crate::batch_spec(
                self.resolver()?,
                product,
                lot.as_deref(),
                yuepin_domain::china_today(),
            )?;
            let second = queries::code_by_serial(
                &self.store,
                &subject_key(&spec.subject),
                codes[1].serial.as_str(),
            )
            .await?
            .ok_or(crate::CodesError::UnknownCode)?;
            let (status, reason) = match i {
                0 => (
                    CodeStatus::Revoked,
                    "演示：标签遗失，已作废 (demo: labels lost and voided)",
                ),
                1 => (
                    CodeStatus::Suspended,
                    "演示：抽检复核中 (demo: re-inspection pending)",
                ),
                2 => (
                    CodeStatus::Recalled,
                    "演示：产品召回 (demo: product recall)",
                ),
                _ => continue,
            };
            writes::set_status(
                &self.store,
                Actor::from(caller),
                &StatusScope::Code { code_id: second.id },
                status,
                reason,
                yuepin_domain::china_today(),
            )
            .await?;
            self.state.forget_codes();
            urls.push((status, codes[1].uri.clone()));
        }
        Ok(urls)
    }

    /// The demo scan links issued for this server's current address, one per status shown
    /// (valid first); empty when every demo code was issued for another address.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn demo_links(&self, caller: &Caller) -> Result<Vec<(CodeStatus, String)>> {
        caller.require_administrator()?;
        let base = format!("{}/", self.resolver()?.base_url());
        Ok(
            queries::sample_codes(&self.store, 1, &self.resolver()?.base_url())
                .await?
                .into_iter()
                .filter(|c| c.uri.starts_with(&base))
                .map(|c| (c.status, c.uri))
                .collect(),
        )
    }
}
