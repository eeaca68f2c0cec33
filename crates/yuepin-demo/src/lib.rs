//! Deterministic synthetic data for demos, tests and benchmarks: fictional Guangdong
//! manufacturers with realistic city/industry proportions, sizes, designations, revenues,
//! products and quality events. Same seed → same data; no I/O besides an `io::Write` sink.

mod tables;

use chrono::{Datelike, Duration, NaiveDate};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::LogNormal;
use std::io::Write;
use tables::{DivisionProfile, DIVISIONS};
use yuepin_domain::{
    Certification, Designation, DesignationKind, Division, Enterprise, Financials, Gtin,
    InspectionResult, Listing, Product, QualityEvent, QualityEventKind, RegionCode, StandardCode,
    StandardLevel, StandardRole, Uscc, Yuan,
};
use yuepin_import::{CsvExporter, EventRecord, ExportError, HeaderLanguage};

/// Fiscal years with revenue figures.
pub const FIRST_YEAR: i32 = 2021;
pub const LAST_YEAR: i32 = 2025;

/// Every `LARGE_EVERY`-th enterprise is a large one (thousands of staff, revenue 4亿–数百亿), so
/// that measures 16 (mergers: >20亿 with two parties >4亿) and 18 have real candidates at any n.
const LARGE_EVERY: usize = 50;

/// Generated enterprises, their products and quality events.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    pub enterprises: Vec<Enterprise>,
    pub products: Vec<Product>,
    /// Events name their product by model (`product_model`), as an import file would.
    pub events: Vec<EventRecord>,
}

/// The last day events may fall on: generated data never lies in the future of this date.
pub fn data_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// A uniformly random day in `[from, to]`.
fn day_between(rng: &mut impl Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + Duration::days(rng.gen_range(0..=span))
}

/// What the product and event generators need to know about an enterprise beyond its record.
#[derive(Debug, Clone)]
struct Extra {
    brand: String,
    profile: &'static DivisionProfile,
    large: bool,
    index: usize,
}

/// Streams enterprises one by one (memory stays flat for millions).
pub struct EnterpriseStream {
    rng: ChaCha8Rng,
    next: usize,
    count: usize,
    /// Offset mixing the seed into the credit-code sequence.
    code_offset: u64,
    cities: WeightedIndex<f64>,
    divisions: WeightedIndex<f64>,
    staff_small: LogNormal<f64>,
    staff_large: LogNormal<f64>,
    revenue_per_head: LogNormal<f64>,
    revenue_large: LogNormal<f64>,
    capital: LogNormal<f64>,
}

impl std::fmt::Debug for EnterpriseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterpriseStream")
            .field("next", &self.next)
            .field("count", &self.count)
            .finish()
    }
}

/// `n` enterprises for `seed`, generated lazily.
pub fn enterprises(seed: u64, n: usize) -> EnterpriseStream {
    let lognormal = |median: f64, sigma: f64| {
        LogNormal::new(median.ln(), sigma).unwrap_or_else(|_| unreachable!("constant parameters"))
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let code_offset = rng.gen_range(0..ORG_SPACE);
    EnterpriseStream {
        rng,
        next: 0,
        count: n,
        code_offset,
        cities: weighted(tables::CITY_WEIGHTS.iter().map(|(_, w)| *w)),
        divisions: weighted(DIVISIONS.iter().map(|d| d.weight)),
        staff_small: lognormal(25.0, 1.1),
        staff_large: lognormal(3000.0, 0.8),
        revenue_per_head: lognormal(350_000.0, 0.6),
        revenue_large: lognormal(2_500_000_000.0, 1.0),
        capital: lognormal(3_000_000.0, 1.3),
    }
}

fn weighted(weights: impl Iterator<Item = f64>) -> WeightedIndex<f64> {
    WeightedIndex::new(weights).unwrap_or_else(|_| unreachable!("constant positive weights"))
}

/// Distinct organisation-code bodies: "MA" plus 6 characters of the USCC alphabet.
const ORG_SPACE: u64 = 31u64.pow(6);

impl Iterator for EnterpriseStream {
    type Item = Enterprise;
    fn next(&mut self) -> Option<Enterprise> {
        self.next_with_extra().map(|(e, _)| e)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.count - self.next;
        (left, Some(left))
    }
}

impl EnterpriseStream {
    fn next_with_extra(&mut self) -> Option<(Enterprise, Extra)> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let rng = &mut self.rng;
        // The first enterprises cover every city and division so that small samples are complete.
        let city_pos = if index < tables::CITY_WEIGHTS.len() {
            index
        } else {
            self.cities.sample(rng)
        };
        let division_pos = if index < DIVISIONS.len() {
            DIVISIONS.len() - 1 - index
        } else {
            self.divisions.sample(rng)
        };
        let region_code = tables::CITY_WEIGHTS[city_pos].0;
        let region = RegionCode::parse(region_code).ok()?;
        let profile = &DIVISIONS[division_pos];
        let division = Division::parse(&profile.code.to_string()).ok()?;
        let large = index % LARGE_EVERY == 7;

        let brand = format!(
            "{}{}",
            tables::BRAND_FIRST[rng.gen_range(0..tables::BRAND_FIRST.len())],
            tables::BRAND_SECOND[rng.gen_range(0..tables::BRAND_SECOND.len())]
        );
        let word = profile.name_words[rng.gen_range(0..profile.name_words.len())];
        let listing = if large && rng.gen_bool(0.4) {
            [
                Listing::MainBoard,
                Listing::Chinext,
                Listing::Star,
                Listing::HongKong,
            ][rng.gen_range(0..4)]
        } else if rng.gen_bool(0.006) {
            [Listing::Neeq, Listing::Bse][rng.gen_range(0..2)]
        } else {
            Listing::Unlisted
        };
        let joint_stock = listing != Listing::Unlisted || rng.gen_bool(0.08);
        let name = format!(
            "{}{brand}{word}{}",
            region.city().name_zh,
            if joint_stock {
                "股份有限公司"
            } else {
                "有限公司"
            }
        );

        let employees = if large {
            self.staff_large.sample(rng).clamp(300.0, 200_000.0)
        } else {
            self.staff_small.sample(rng).clamp(3.0, 5_000.0)
        } as u32;
        let revenue_2025 = if large {
            self.revenue_large.sample(rng).clamp(4.5e8, 3e11)
        } else {
            (f64::from(employees) * self.revenue_per_head.sample(rng)).clamp(2e5, 5e9)
        };
        let capital_wan = (self.capital.sample(rng) * if large { 50.0 } else { 1.0 } / 1e4)
            .clamp(3.0, 5e6)
            .round() as i64;
        let founded_on = if large {
            day_between(rng, ymd(1985, 1, 1), ymd(2012, 12, 31))
        } else {
            day_between(rng, ymd(1990, 1, 1), ymd(2024, 6, 30))
        };

        let financials = financials(rng, revenue_2025, founded_on.year(), large);
        let designations = designations(rng, large, revenue_2025, founded_on);

        let org = (index as u64 * 7_919 + self.code_offset) % ORG_SPACE;
        let uscc = Uscc::assemble("91", region_code, &org_body(org)).ok()?;
        let enterprise = Enterprise {
            uscc,
            name,
            region,
            division,
            registered_capital: Yuan::from_yuan(capital_wan * 10_000),
            employees,
            founded_on,
            listing,
            designations,
            financials,
        };
        Some((
            enterprise,
            Extra {
                brand,
                profile,
                large,
                index,
            },
        ))
    }
}

/// "MA" + six USCC-alphabet characters encoding `n` (a bijection on `0..ORG_SPACE`).
fn org_body(mut n: u64) -> String {
    let alphabet = yuepin_domain::uscc::ALPHABET;
    let mut body = *b"MA000000";
    for slot in body[2..].iter_mut().rev() {
        *slot = alphabet[(n % 31) as usize];
        n /= 31;
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Revenue for 2021–2025 ending at `revenue_2025`, from the founding year on; some report
/// worldwide revenue (exporters); a tenth of small firms report nothing.
fn financials(
    rng: &mut ChaCha8Rng,
    revenue_2025: f64,
    founded: i32,
    large: bool,
) -> Vec<Financials> {
    if !large && rng.gen_bool(0.1) {
        return Vec::new();
    }
    let exporter = rng.gen_bool(if large { 0.6 } else { 0.15 });
    let export_share = rng.gen_range(1.1..2.5);
    let mut revenue = revenue_2025;
    let mut out = Vec::new();
    for year in (FIRST_YEAR.max(founded)..=LAST_YEAR).rev() {
        // Whole thousands of yuan, as statistical returns report them (千元).
        let china = Yuan::from_yuan((revenue / 1000.0).round() as i64 * 1000);
        let world = exporter
            .then(|| Yuan::from_yuan((revenue * export_share / 1000.0).round() as i64 * 1000));
        out.push(Financials {
            year,
            revenue_china: china,
            revenue_world: world,
        });
        revenue /= 1.0 + rng.gen_range(-0.1..0.25);
    }
    out.reverse();
    out
}

/// One designation, awarded between `earliest` and 2025 and lapsing after `years` (or never).
fn designation(
    rng: &mut ChaCha8Rng,
    kind: DesignationKind,
    earliest: NaiveDate,
    years: Option<i32>,
) -> Designation {
    let from = earliest.max(ymd(2018, 1, 1));
    let awarded_on = day_between(rng, from.min(ymd(2025, 6, 30)), ymd(2025, 12, 31));
    let expires_on = years.and_then(|y| {
        awarded_on
            .with_year(awarded_on.year() + y)
            .map(|d| d - Duration::days(1))
    });
    Designation {
        kind,
        awarded_on,
        expires_on,
    }
}

fn designations(
    rng: &mut ChaCha8Rng,
    large: bool,
    revenue_2025: f64,
    founded: NaiveDate,
) -> Vec<Designation> {
    use DesignationKind as K;
    // (kind, probability for ordinary firms, for large ones, validity in years)
    const TABLE: [(DesignationKind, f64, f64, Option<i32>); 15] = [
        (K::HighTech, 0.14, 0.7, Some(3)),
        (K::ProvincialSrdiSme, 0.05, 0.2, Some(3)),
        (K::LittleGiant, 0.009, 0.15, Some(3)),
        (K::NationalSingleChampion, 0.001, 0.12, Some(3)),
        (K::ProvincialSingleChampion, 0.003, 0.15, Some(3)),
        (K::ChainLeader, 0.001, 0.12, None),
        (K::ProvincialTechCenter, 0.015, 0.4, Some(2)),
        (K::PerformanceExcellence, 0.03, 0.4, None),
        (K::GuangdongQualityAward, 0.001, 0.08, None),
        (K::ChinaQualityAwardNomination, 0.0002, 0.02, None),
        (K::ChinaQualityAward, 0.00005, 0.01, None),
        (K::QualityBenchmark, 0.0008, 0.05, None),
        (K::IpWhitelist, 0.004, 0.1, Some(2)),
        (K::GuangdongTimeHonored, 0.002, 0.02, None),
        (K::ChinaTimeHonored, 0.0005, 0.01, None),
    ];
    let mut out = Vec::new();
    // 规上: main-business revenue of 20 million yuan or more (the statistical threshold).
    if revenue_2025 >= 2e7 {
        let since = founded.max(ymd(2011, 1, 1));
        out.push(Designation {
            kind: K::AboveScale,
            awarded_on: day_between(rng, since.min(ymd(2025, 1, 1)), ymd(2025, 12, 31)),
            expires_on: None,
        });
    }
    for (kind, p_small, p_large, years) in TABLE {
        if rng.gen_bool(if large { p_large } else { p_small }) {
            out.push(designation(rng, kind, founded, years));
        }
    }
    if large && revenue_2025 >= 5e10 {
        out.push(designation(rng, K::ChinaTop500, founded, Some(1)));
    }
    if large && revenue_2025 >= 1.5e11 {
        out.push(designation(rng, K::FortuneGlobal500, founded, Some(1)));
    }
    out
}

/// Generates `n_enterprises` enterprises with their products and quality events.
pub fn generate(seed: u64, n_enterprises: usize) -> DemoData {
    let mut stream = enterprises(seed, n_enterprises);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005E_ED0F_E7E4);
    let mut data = DemoData {
        enterprises: Vec::with_capacity(n_enterprises),
        products: Vec::new(),
        events: Vec::new(),
    };
    while let Some((enterprise, extra)) = stream.next_with_extra() {
        let first_product = data.products.len();
        products_of(&mut rng, &enterprise, &extra, &mut data.products);
        events_of(
            &mut rng,
            &enterprise,
            &extra,
            &data.products[first_product..],
            &mut data.events,
        );
        data.enterprises.push(enterprise);
    }
    data
}

fn products_of(rng: &mut ChaCha8Rng, e: &Enterprise, extra: &Extra, out: &mut Vec<Product>) {
    let count = if extra.large {
        rng.gen_range(3..=5)
    } else {
        rng.gen_range(1..=3)
    };
    let letters: String = (0..2)
        .map(|_| char::from(b'A' + rng.gen_range(0..26u8)))
        .collect();
    for k in 0..count {
        let profile = extra.profile;
        let category = profile.categories[rng.gen_range(0..profile.categories.len())];
        let adjective =
            tables::PRODUCT_ADJECTIVES[rng.gen_range(0..tables::PRODUCT_ADJECTIVES.len())];
        let gtin = rng
            .gen_bool(0.85)
            .then(|| gtin_for(extra.index, k))
            .flatten();
        let standard = (!profile.standards.is_empty() && rng.gen_bool(0.75))
            .then(|| {
                StandardCode::parse(profile.standards[rng.gen_range(0..profile.standards.len())])
                    .ok()
            })
            .flatten();
        out.push(Product {
            enterprise: e.uscc.clone(),
            name: format!("{adjective}{category}"),
            brand: extra.brand.clone(),
            model: format!("{letters}-{}{:02}", k + 1, rng.gen_range(0..100)),
            gtin,
            category: category.to_string(),
            standard,
        });
    }
}

/// A GTIN-13 under a fictional 690–693 prefix, unique per (enterprise, product).
fn gtin_for(index: usize, product: usize) -> Option<Gtin> {
    const SPACE: u64 = 4_000_000_000;
    // Odd and not a multiple of 5, so multiplying permutes 0..SPACE: prefixes spread, no clashes.
    let n = ((index as u64 * 10 + product as u64) % SPACE * 2_654_435_761) % SPACE;
    Gtin::with_check_digit(&format!("69{}{:09}", n / 1_000_000_000, n % 1_000_000_000)).ok()
}

fn events_of(
    rng: &mut ChaCha8Rng,
    e: &Enterprise,
    extra: &Extra,
    products: &[Product],
    out: &mut Vec<EventRecord>,
) {
    let today = data_date();
    let earliest = e.founded_on.max(ymd(2019, 1, 1));
    let city = e.region.city();
    let event = |date: NaiveDate, kind: QualityEventKind, model: Option<&str>| EventRecord {
        event: QualityEvent {
            enterprise: e.uscc.clone(),
            product_id: None,
            date,
            kind,
        },
        product_model: model.map(str::to_string),
    };
    for (k, product) in products.iter().enumerate() {
        // 监督抽查: most products sampled now and then; 5–8% of samples fail.
        let samples = if rng.gen_bool(0.45) {
            rng.gen_range(1..=2)
        } else {
            0
        };
        for j in 0..samples {
            let date = day_between(rng, earliest, today);
            let fail = rng.gen_bool(0.065);
            let failed_items = if fail {
                let n = rng.gen_range(1..=2);
                let mut items: Vec<String> = (0..n)
                    .map(|_| {
                        tables::FAILED_ITEMS[rng.gen_range(0..tables::FAILED_ITEMS.len())]
                            .to_string()
                    })
                    .collect();
                items.dedup();
                items
            } else {
                Vec::new()
            };
            out.push(event(
                date,
                QualityEventKind::Inspection {
                    agency: tables::INSPECTION_AGENCIES
                        [rng.gen_range(0..tables::INSPECTION_AGENCIES.len())]
                    .to_string(),
                    report_no: format!("GDJC{}-{:07}-{k}{j}", date.year(), extra.index),
                    result: if fail {
                        InspectionResult::Fail
                    } else {
                        InspectionResult::Pass
                    },
                    failed_items,
                },
                Some(&product.model),
            ));
        }
        if extra.profile.ccc && rng.gen_bool(0.6) {
            let valid_from = day_between(rng, earliest, today);
            out.push(event(
                valid_from,
                QualityEventKind::Certification(Certification {
                    scheme: "CCC".into(),
                    number: format!("{}01{:010}", valid_from.year(), extra.index * 10 + k),
                    issuer: "中国质量认证中心".into(),
                    valid_from,
                    valid_until: valid_from + Duration::days(5 * 365),
                }),
                Some(&product.model),
            ));
        }
    }
    let scale = if extra.large { 3.0 } else { 1.0 };
    let mut certify = |rng: &mut ChaCha8Rng, scheme: &str, code: &str, p: f64| {
        if rng.gen_bool((p * scale).min(0.95)) {
            let valid_from = day_between(rng, earliest, today);
            out.push(event(
                valid_from,
                QualityEventKind::Certification(Certification {
                    scheme: scheme.into(),
                    number: format!("{code}{}{:08}", valid_from.year() % 100, extra.index),
                    issuer: tables::ISO_ISSUERS[rng.gen_range(0..tables::ISO_ISSUERS.len())]
                        .to_string(),
                    valid_from,
                    valid_until: valid_from + Duration::days(3 * 365),
                }),
                None,
            ));
        }
    };
    certify(rng, "ISO 9001", "00122Q", 0.3);
    certify(rng, "ISO 14001", "00122E", 0.12);
    if extra.profile.code == 36 {
        certify(rng, "IATF 16949", "0IATF", 0.3);
    }
    // Awards mirror the quality-award designations, plus rarer city mayor's quality awards.
    for d in &e.designations {
        let award = match d.kind {
            DesignationKind::GuangdongQualityAward => Some(("广东省政府质量奖", "provincial")),
            DesignationKind::ChinaQualityAward => Some(("中国质量奖", "national")),
            DesignationKind::ChinaQualityAwardNomination => Some(("中国质量奖提名奖", "national")),
            _ => None,
        };
        if let Some((name, level)) = award {
            out.push(event(
                d.awarded_on,
                QualityEventKind::Award {
                    name: name.into(),
                    level: level.into(),
                },
                None,
            ));
        }
    }
    if rng.gen_bool((0.005 * scale * 4.0).min(1.0)) {
        out.push(event(
            day_between(rng, earliest, today),
            QualityEventKind::Award {
                name: format!("{}市长质量奖", city.short_zh()),
                level: "city".into(),
            },
            None,
        ));
    }
    // Standards work: mostly group/industry/national participation, some led, a few international.
    let above_scale = e
        .designations
        .iter()
        .any(|d| d.kind == DesignationKind::AboveScale);
    if above_scale && rng.gen_bool(if extra.large { 0.5 } else { 0.08 }) {
        let n = rng.gen_range(1..=2);
        for s in 0..n {
            let international = extra.large && rng.gen_bool(0.2);
            let (level, code) = if international {
                (
                    StandardLevel::International,
                    format!(
                        "IEC {}-{}:{}",
                        60000 + rng.gen_range(0..999),
                        s + 1,
                        rng.gen_range(2019..=2025)
                    ),
                )
            } else {
                match rng.gen_range(0..4) {
                    0 => (
                        StandardLevel::National,
                        format!(
                            "GB/T {}-{}",
                            40000 + rng.gen_range(0..4000) * 2 + s,
                            rng.gen_range(2019..=2025)
                        ),
                    ),
                    1 => (
                        StandardLevel::Industry,
                        format!(
                            "QB/T {}-{}",
                            5000 + rng.gen_range(0..900) * 2 + s,
                            rng.gen_range(2019..=2025)
                        ),
                    ),
                    2 => (
                        StandardLevel::BayArea,
                        format!(
                            "T/GDBA {:03}-{}",
                            rng.gen_range(0..400) * 2 + s,
                            rng.gen_range(2021..=2025)
                        ),
                    ),
                    _ => (
                        StandardLevel::Group,
                        format!(
                            "T/GDMA {:03}-{}",
                            rng.gen_range(0..400) * 2 + s,
                            rng.gen_range(2019..=2025)
                        ),
                    ),
                }
            };
            if let Ok(code) = StandardCode::parse(&code) {
                out.push(event(
                    day_between(rng, earliest, today),
                    QualityEventKind::Standard {
                        code,
                        level,
                        role: if rng.gen_bool(0.3) {
                            StandardRole::Lead
                        } else {
                            StandardRole::Participant
                        },
                    },
                    None,
                ));
            }
        }
    }
    // Rare penalties, a few serious.
    if rng.gen_bool(0.008) {
        let date = day_between(rng, earliest, today);
        let serious = rng.gen_bool(0.1);
        out.push(event(
            date,
            QualityEventKind::Penalty {
                authority: format!("{}市场监督管理局", city.name_zh),
                decision_no: format!(
                    "{}市监罚〔{}〕{}号",
                    city.short_zh(),
                    date.year(),
                    extra.index
                ),
                amount: Yuan::from_yuan(rng.gen_range(5..500) * 1000),
                serious,
                reason: if serious {
                    "生产销售不合格产品，情节严重"
                } else {
                    "产品标识标注不规范"
                }
                .into(),
            },
            products.first().map(|p| p.model.as_str()),
        ));
    }
}

/// Writes `n` enterprises for `seed` as an import-format CSV (English headers, UTF-8 with BOM),
/// streaming: used to build the 1M-row import benchmark file.
pub fn write_enterprises_csv<W: Write>(out: W, seed: u64, n: usize) -> Result<W, ExportError> {
    let years: Vec<i32> = (FIRST_YEAR..=LAST_YEAR).collect();
    let mut exporter = CsvExporter::<W, Enterprise>::new(out, years, HeaderLanguage::English)?;
    for enterprise in enterprises(seed, n) {
        exporter.write(&enterprise)?;
    }
    exporter.finish()
}
