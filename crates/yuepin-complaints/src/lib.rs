//! 12315 complaint analytics for measure 22 of 粤市监〔2023〕74号 ("加强12315投诉举报大数据分析运用,
//! 聚焦投诉举报高发的行业和领域发布消费提示和警示"): ingest parsing, text classification,
//! integer-coded aggregation, surge detection (the pooled ratio scan as default; R-matching EARS
//! C1–C3, Farrington-flexible, Poisson CUSUM; calibrated count p-values; Benjamini–Hochberg;
//! a labelled-set evaluation harness), a seeded synthetic generator with outbreak ground truth,
//! and masking of
//! complainants' personal data. No I/O except reading a caller-supplied `io::Read`.

// `!(x > 0.0)` is deliberate throughout: it also rejects NaN, like R's argument checks.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod calibrate;
pub mod config;
pub use config::{
    ConfigError, CusumConfig, DetectorConfig, EarsConfig, FarringtonConfig, PooledConfig,
    PooledOverrides,
};
pub mod ears;
pub mod pooled;
pub use pooled::{pooled_scan, PooledParams};
pub mod farrington;
pub mod model;
pub mod stats;
pub mod surveillance;

pub use ears::{ears, ears_c1, ears_c2, ears_c3, EarsMethod, EarsParams};
pub use farrington::{farrington_flexible, FarringtonParams};
pub use model::{
    categories, Category, CategoryInfo, Channel, Complainant, Complaint, ComplaintId,
    ComplaintKind, ProblemType, ValueError,
};
pub use surveillance::{
    adjust_day_of_week, benjamini_hochberg, bh_reject, cusum, CusumParams, Outcome,
};
pub mod privacy;
pub use privacy::{
    mask_address, mask_complainant, mask_id_number, mask_name, mask_phone, scrub_text,
};
pub mod ingest;
pub use ingest::{
    excel_serial_to_datetime, parse_datetime, parse_datetime_checked, ComplaintParser, Format,
    IngestError, RowError, Rows, TextEncoding,
};
pub mod classify;
pub use classify::{
    accuracy, labelled_set, Accuracy, Classification, Classifier, Target, TermOverride,
};
pub mod cube;
pub use cube::{
    city_population, daily_to_weekly, trend, CellKey, CodedComplaint, Cube, CubeError, Dim,
    TimeGrain, Trend,
};
pub mod detect;
pub use detect::{
    detect_all, roll_up, Alarm, CityRollup, DetectParams, DivisionRollup, Level, Method, Period,
};
pub mod evaluation;
pub use evaluation::{
    evaluate_sets, evaluation_table, markdown_table, score_alarms, score_config, EvaluationRow,
    LabelledSet, LabelledSetParams, MeasuredOperatingPoint, Score, Shape, SurgeOutbreak,
    DEFAULT_MEASURED,
};
pub mod generate;
pub use generate::{evaluate, generate, Generated, GeneratorParams, MethodScore, Outbreak};
