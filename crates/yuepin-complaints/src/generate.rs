//! Deterministic (seeded) generator of realistic 12315 complaints with injected outbreaks and
//! their ground truth, plus [`evaluate`], which scores each detector's sensitivity, false-positive
//! rate and days to detection on generated data.
//!
//! Volume model: a province-wide daily mean × seasonality (3·15 consumer-rights day, 618 and
//! 双11 shopping festivals, Spring Festival dip, summer air-conditioner season) × day-of-week
//! (fewer on weekends), split across cities by resident population with extra weight for the
//! large manufacturing/e-commerce centres (广州, 深圳, 东莞, 佛山), across categories by a fixed
//! industry mix. Outbreaks add Poisson(extra_per_day) complaints in one city × category.

use crate::cube::{city_index, division_index, CodedComplaint, Cube, NO_ENTERPRISE, UNKNOWN};
use crate::detect::{detect_all, DetectParams, Level, Method};
use crate::model::{
    categories, Category, Channel, Complainant, Complaint, ComplaintId, ComplaintKind, ProblemType,
};
use chrono::{Datelike, Duration, NaiveDate};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Poisson;
use serde::{Deserialize, Serialize};
use yuepin_domain::{reference, RegionCode, Yuan};

/// Generator settings.
#[derive(Debug, Clone)]
pub struct GeneratorParams {
    pub start: NaiveDate,
    pub days: usize,
    /// Mean complaints per ordinary weekday across Guangdong.
    pub mean_daily: f64,
    /// Number of random outbreaks to inject (in addition to `outbreaks`).
    pub random_outbreaks: usize,
    /// Explicit outbreaks.
    pub outbreaks: Vec<Outbreak>,
    /// Fill complainant name/phone/ID/address (fake values).
    pub personal_data: bool,
    /// Random outbreaks start on or after this day index (default 364: one baseline year).
    pub outbreaks_from_day: usize,
}

impl GeneratorParams {
    pub fn new(start: NaiveDate, days: usize, mean_daily: f64) -> Self {
        Self {
            start,
            days,
            mean_daily,
            random_outbreaks: 0,
            outbreaks: Vec::new(),
            personal_data: false,
            outbreaks_from_day: 364,
        }
    }
}

/// Ground truth of one injected outbreak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outbreak {
    pub start: NaiveDate,
    /// Inclusive.
    pub end: NaiveDate,
    pub region: RegionCode,
    pub category: Category,
    pub extra_per_day: f64,
}

/// Spring Festival (农历正月初一) dates 2019–2030.
const SPRING_FESTIVAL: [(i32, u32, u32); 12] = [
    (2019, 2, 5),
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
];

/// Multiplicative seasonal factor for a date.
pub fn season_factor(date: NaiveDate) -> f64 {
    let (m, d) = (date.month(), date.day());
    let mut f = 1.0;
    if m == 3 && (10..=20).contains(&d) {
        f *= if d == 15 { 2.5 } else { 1.4 }; // 3·15 consumer rights day
    }
    if m == 6 && (1..=25).contains(&d) {
        f *= if (18..=25).contains(&d) { 1.5 } else { 1.2 }; // 618
    }
    if m == 11 && (11..=25).contains(&d) {
        f *= 1.6; // 双11 after-sales wave
    }
    for (y, mm, dd) in SPRING_FESTIVAL {
        if let Some(sf) = NaiveDate::from_ymd_opt(y, mm, dd) {
            let off = (date - sf).num_days();
            if (-2..=7).contains(&off) {
                f *= 0.45;
            }
        }
    }
    f
}

/// Day-of-week factor (Monday highest, weekends lowest).
pub fn weekday_factor(date: NaiveDate) -> f64 {
    [1.15, 1.1, 1.05, 1.05, 1.0, 0.8, 0.75][date.weekday().num_days_from_monday() as usize]
}

/// Relative complaint volume per category (by key; unlisted = 1).
fn category_weight(key: &str, date: NaiveDate) -> f64 {
    match key {
        "mobile_phone" | "food_processed" | "clothing" => 8.0,
        "cosmetics" | "e_bike" | "footwear" | "furniture" | "car" => 5.0,
        "air_conditioner" => {
            if (5..=8).contains(&date.month()) {
                7.0
            } else {
                2.5
            }
        }
        "refrigerator" | "washing_machine" | "kitchen_appliance" | "computer" | "television"
        | "toy" | "dairy" | "beverage" | "audio_wearable" | "charger_power" => 3.0,
        "tobacco" | "firework" | "printing" | "fertilizer_pesticide" => 0.3,
        _ => 1.0,
    }
}

/// City weight: population × economic multiplier for the big four.
pub(crate) fn city_weights() -> Vec<f64> {
    (0..21u8)
        .map(|c| {
            let pop = crate::cube::city_population(c).unwrap_or(3_000_000) as f64;
            let code = reference::cities()
                .get(c as usize)
                .map(|c| c.code.as_str())
                .unwrap_or("");
            let boost = match code {
                "440100" | "440300" => 1.6,
                "441900" | "440600" => 1.3,
                _ => 1.0,
            };
            pop * boost
        })
        .collect()
}

const PLATFORMS: [&str; 8] = [
    "淘宝",
    "京东",
    "拼多多",
    "抖音直播间",
    "实体店",
    "商场专柜",
    "微信小程序",
    "品牌官网",
];
const DEMANDS: [&str; 6] = [
    "要求退货退款",
    "要求更换",
    "要求赔偿损失",
    "希望监管部门依法查处",
    "要求商家履行三包义务",
    "要求给个说法",
];

fn problem_phrase(p: ProblemType, rng: &mut impl Rng) -> &'static str {
    let options: &[&str] = match p {
        ProblemType::Quality => &[
            "使用不到一个月就出现故障",
            "质量很差，做工粗糙",
            "收到时就有破损",
            "用了几天就坏了",
        ],
        ProblemType::Safety => &[
            "使用过程中突然冒烟起火",
            "存在严重安全隐患，差点伤到孩子",
            "发生爆炸，幸好没人受伤",
            "边缘锋利划伤了手",
        ],
        ProblemType::FalseAdvertising => &[
            "实际效果与宣传严重不符",
            "页面宣传的功能根本没有",
            "直播间夸大宣传",
        ],
        ProblemType::AfterSales => &[
            "联系客服一直推脱不处理",
            "保修期内维修被拒",
            "售后电话打不通",
        ],
        ProblemType::Contract => &[
            "付款后迟迟不发货",
            "商家单方面取消订单",
            "退款申请一直未处理",
        ],
        ProblemType::Price => &["先涨价后打折", "结算价格与标价不一致", "收取不合理费用"],
        ProblemType::Counterfeit => &["怀疑是假冒产品", "与正品对比明显是仿冒的", "商标疑似侵权"],
        ProblemType::Labeling => &["没有中文标签", "生产日期标注不清", "未标明厂名厂址"],
        ProblemType::Other => &["存在其他问题", "情况比较复杂"],
    };
    options[rng.gen_range(0..options.len())]
}

/// Builds a complaint text mentioning one of the category's lexicon terms.
fn complaint_text(cat: Category, p: ProblemType, date: NaiveDate, rng: &mut impl Rng) -> String {
    let terms = &cat.info().terms;
    let term = terms
        .get(rng.gen_range(0..terms.len().max(1)))
        .map(String::as_str)
        .unwrap_or("商品");
    let platform = PLATFORMS[rng.gen_range(0..PLATFORMS.len())];
    let demand = DEMANDS[rng.gen_range(0..DEMANDS.len())];
    let phrase = problem_phrase(p, rng);
    match rng.gen_range(0..3) {
        0 => format!(
            "本人于{}月{}日在{platform}购买了{term}，{phrase}，{demand}。",
            date.month(),
            date.day()
        ),
        1 => format!("{platform}买的{term}{phrase}，多次沟通无果，{demand}。"),
        _ => format!("消费者反映：其购买的{term}{phrase}，{demand}。"),
    }
}

fn problem_weights() -> WeightedIndex<f64> {
    // quality, safety, false adv., after-sales, contract, price, counterfeit, labeling, other
    WeightedIndex::new([30.0, 6.0, 10.0, 20.0, 15.0, 6.0, 5.0, 4.0, 4.0]).expect("static weights")
}

const SURNAMES: [&str; 10] = ["陈", "李", "黄", "张", "梁", "林", "刘", "吴", "何", "欧阳"];
const GIVEN: [&str; 10] = [
    "伟", "芳", "秀英", "志强", "丽娟", "建华", "小明", "嘉怡", "俊杰", "婷",
];

/// Draws random outbreaks: 7–28 days, 1.5–6 extra complaints/day, in a random city × category,
/// starting after the first year so detectors have a baseline.
fn random_outbreaks(params: &GeneratorParams, rng: &mut impl Rng) -> Vec<Outbreak> {
    let cw = WeightedIndex::new(city_weights()).expect("positive weights");
    let n_cat = categories().len();
    let min_start = params
        .outbreaks_from_day
        .min(params.days.saturating_sub(60));
    (0..params.random_outbreaks)
        .filter_map(|_| {
            let len = rng.gen_range(7..=28);
            let latest = params.days.checked_sub(len + 1)?;
            let start = rng.gen_range(min_start.min(latest)..=latest);
            let city = cw.sample(rng);
            let region = RegionCode::parse(&reference::cities().get(city)?.code).ok()?;
            Some(Outbreak {
                start: params.start + Duration::days(start as i64),
                end: params.start + Duration::days((start + len - 1) as i64),
                region,
                category: Category::from_index(rng.gen_range(0..n_cat))?,
                extra_per_day: rng.gen_range(1.5..6.0),
            })
        })
        .collect()
}

/// A generated data set: the outbreak ground truth and the seed to stream records from.
#[derive(Debug, Clone)]
pub struct Generated {
    pub params: GeneratorParams,
    pub seed: u64,
    pub outbreaks: Vec<Outbreak>,
}

/// Plans a data set (draws the random outbreaks). Iterate with [`Generated::complaints`] or,
/// faster, [`Generated::coded`].
pub fn generate(seed: u64, params: GeneratorParams) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut outbreaks = params.outbreaks.clone();
    outbreaks.extend(random_outbreaks(&params, &mut rng));
    Generated {
        params,
        seed,
        outbreaks,
    }
}

/// One generated record before text rendering.
#[derive(Debug, Clone, Copy)]
struct Draw {
    day: usize,
    city: usize,
    category: usize,
    problem: ProblemType,
}

impl Generated {
    fn draws(&self) -> impl Iterator<Item = Draw> + '_ {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let cw = WeightedIndex::new(city_weights()).expect("positive weights");
        let pw = problem_weights();
        let n_cat = categories().len();
        let outbreak_codes: Vec<(usize, usize, usize, usize, f64)> = self
            .outbreaks
            .iter()
            .filter_map(|o| {
                Some((
                    (o.start - self.params.start).num_days().max(0) as usize,
                    (o.end - self.params.start).num_days().max(0) as usize,
                    city_index(&o.region)? as usize,
                    o.category.index(),
                    o.extra_per_day,
                ))
            })
            .collect();
        let mut buffer: Vec<Draw> = Vec::new();
        let mut day = 0usize;
        let mut category_weights: Option<(u32, WeightedIndex<f64>)> = None;
        std::iter::from_fn(move || loop {
            if let Some(d) = buffer.pop() {
                return Some(d);
            }
            if day >= self.params.days {
                return None;
            }
            let date = self.params.start + Duration::days(day as i64);
            if category_weights
                .as_ref()
                .is_none_or(|(m, _)| *m != date.month())
            {
                let w: Vec<f64> = categories()
                    .iter()
                    .map(|c| category_weight(&c.key, date))
                    .collect();
                category_weights = Some((
                    date.month(),
                    WeightedIndex::new(w).expect("positive weights"),
                ));
            }
            let (_, catw) = category_weights.as_ref()?;
            let lambda = self.params.mean_daily * season_factor(date) * weekday_factor(date);
            let n = Poisson::new(lambda.max(1e-9))
                .map(|p| p.sample(&mut rng) as usize)
                .unwrap_or(0);
            for _ in 0..n {
                buffer.push(Draw {
                    day,
                    city: cw.sample(&mut rng),
                    category: catw.sample(&mut rng).min(n_cat - 1),
                    problem: ProblemType::ALL[pw.sample(&mut rng)],
                });
            }
            for &(s, e, city, category, extra) in &outbreak_codes {
                if day >= s && day <= e {
                    let k = Poisson::new(extra)
                        .map(|p| p.sample(&mut rng) as usize)
                        .unwrap_or(0);
                    for _ in 0..k {
                        let problem = if rng.gen_bool(0.5) {
                            ProblemType::Safety
                        } else {
                            ProblemType::Quality
                        };
                        buffer.push(Draw {
                            day,
                            city,
                            category,
                            problem,
                        });
                    }
                }
            }
            buffer.reverse();
            day += 1;
        })
    }

    /// Integer-coded records for direct loading into a [`Cube`] (no text, fastest).
    pub fn coded(&self) -> impl Iterator<Item = CodedComplaint> + '_ {
        self.draws().map(|d| {
            let cat = Category::from_index(d.category);
            CodedComplaint {
                day: d.day.min(u16::MAX as usize) as u16,
                city: d.city as u8,
                division: cat.map_or(UNKNOWN, |c| division_index(c.division())),
                category: d.category as u8,
                problem: d.problem.index() as u8,
                enterprise: NO_ENTERPRISE,
            }
        })
    }

    /// Full complaints with Chinese texts. About 10 % omit the category and 5 % also the
    /// division, so the classifier has work to do.
    pub fn complaints(&self) -> impl Iterator<Item = Complaint> + '_ {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(1));
        let regions: Vec<RegionCode> = reference::cities()
            .iter()
            .filter_map(|c| RegionCode::parse(&c.code).ok())
            .collect();
        self.draws().enumerate().filter_map(move |(i, d)| {
            let date = self.params.start + Duration::days(d.day as i64);
            let cat = Category::from_index(d.category)?;
            let text = complaint_text(cat, d.problem, date, &mut rng);
            let seconds = rng.gen_range(8 * 3600..21 * 3600);
            let received_at = date.and_hms_opt(0, 0, 0)? + Duration::seconds(seconds);
            let roll: f64 = rng.gen();
            let complainant = if self.params.personal_data {
                fake_person(&mut rng, regions.get(d.city)?)
            } else {
                Complainant::default()
            };
            Some(Complaint {
                id: ComplaintId::parse(&format!("G{}{:09}", date.format("%Y%m%d"), i)).ok()?,
                received_at,
                channel: Channel::ALL[rng.gen_range(0..Channel::ALL.len())],
                kind: if rng.gen_bool(0.85) {
                    ComplaintKind::Complaint
                } else {
                    ComplaintKind::Report
                },
                region: regions.get(d.city)?.clone(),
                enterprise_uscc: None,
                enterprise_name: None,
                category: (roll >= 0.10).then_some(cat),
                division: (roll >= 0.05).then_some(cat.division()),
                problem: d.problem,
                amount: rng
                    .gen_bool(0.7)
                    .then(|| Yuan::from_fen(rng.gen_range(1_000..2_000_000))),
                text,
                complainant,
            })
        })
    }
}

fn fake_person(rng: &mut impl RngCore, region: &RegionCode) -> Complainant {
    let name = format!(
        "{}{}",
        SURNAMES[(rng.next_u32() % 10) as usize],
        GIVEN[(rng.next_u32() % 10) as usize]
    );
    let phone = format!(
        "13{}{:08}",
        rng.next_u32() % 10,
        rng.next_u32() % 100_000_000
    );
    let birth = 1960 + rng.next_u32() % 45;
    let id = format!(
        "{}{birth}0{}1{}{:03}{}",
        region.as_str(),
        1 + rng.next_u32() % 9,
        rng.next_u32() % 9,
        rng.next_u32() % 1000,
        rng.next_u32() % 10
    );
    let city = region.city().name_zh.clone();
    Complainant {
        name: Some(name),
        phone: Some(phone),
        id_number: Some(id),
        address: Some(format!(
            "广东省{city}某某区某某街道{}号",
            1 + rng.next_u32() % 300
        )),
    }
}

/// Detection quality of one method on generated data.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MethodScore {
    pub method: Method,
    pub outbreaks: usize,
    pub detected: usize,
    pub sensitivity: f64,
    /// Alarmed series-periods outside outbreaks ÷ series-periods tested outside outbreaks.
    pub false_positive_rate: f64,
    /// Median days from outbreak start to the first alarm (detected outbreaks only).
    pub median_days_to_detection: f64,
}

/// Runs [`detect_all`] at city × category level on a cube built from `data` and scores each
/// method against the ground truth: an outbreak counts as detected if its city × category
/// series alarms during the outbreak (weekly alarms: any week overlapping it). Only outbreaks
/// that end on or after `report_from_day` are scored.
pub fn evaluate(data: &Generated, params: &DetectParams) -> Vec<MethodScore> {
    let start = data.params.start;
    let mut cube = Cube::new(start, start + Duration::days(data.params.days as i64 - 1));
    for c in data.coded() {
        cube.push_coded(c);
    }
    let prm = DetectParams {
        levels: vec![Level::CityCategory],
        ..params.clone()
    };
    let alarms = detect_all(&cube, &prm);
    let in_outbreak = |region: &RegionCode, cat: Option<Category>, from: NaiveDate, days: i64| {
        data.outbreaks.iter().find(|o| {
            &o.region == region
                && Some(o.category) == cat
                && from <= o.end
                && from + Duration::days(days - 1) >= o.start
        })
    };
    let n_series_days = |days_per: i64| -> f64 {
        // tested periods ≈ series × reportable periods; used only as the FPR denominator
        let series = cube
            .counts(
                crate::cube::TimeGrain::Day,
                &[crate::cube::Dim::City, crate::cube::Dim::Category],
            )
            .iter()
            .map(|(k, _)| (k.city, k.category))
            .collect::<std::collections::HashSet<_>>()
            .len() as f64;
        series * (data.params.days.saturating_sub(prm.report_from_day) as f64 / days_per as f64)
    };
    Method::ALL
        .iter()
        .map(|&method| {
            let mine: Vec<_> = alarms.iter().filter(|a| a.method == method).collect();
            let days_per = if method == Method::Farrington { 7 } else { 1 };
            let mut delays = Vec::new();
            let report_from = start + Duration::days(prm.report_from_day as i64);
            let scored: Vec<&Outbreak> = data
                .outbreaks
                .iter()
                .filter(|o| o.end >= report_from)
                .collect();
            for o in &scored {
                let first = mine
                    .iter()
                    .filter(|a| {
                        a.region == o.region
                            && a.category == Some(o.category)
                            && a.period.start <= o.end
                            && a.period.start + Duration::days(i64::from(a.period.days) - 1)
                                >= o.start
                    })
                    .map(|a| {
                        (a.period.start + Duration::days(i64::from(a.period.days) - 1) - o.start)
                            .num_days()
                            .max(0)
                    })
                    .min();
                if let Some(d) = first {
                    delays.push(d as f64);
                }
            }
            let false_alarms = mine
                .iter()
                .filter(|a| {
                    in_outbreak(
                        &a.region,
                        a.category,
                        a.period.start,
                        i64::from(a.period.days),
                    )
                    .is_none()
                })
                .count() as f64;
            delays.sort_by(f64::total_cmp);
            MethodScore {
                method,
                outbreaks: scored.len(),
                detected: delays.len(),
                sensitivity: delays.len() as f64 / scored.len().max(1) as f64,
                false_positive_rate: false_alarms / n_series_days(days_per).max(1.0),
                median_days_to_detection: delays.get(delays.len() / 2).copied().unwrap_or(f64::NAN),
            }
        })
        .collect()
}
