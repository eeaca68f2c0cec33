//! API request bodies as users send them (strings as typed), parsed into domain values with
//! every bad field reported at once (the JSON extractor itself is `crate::json_body`).

use crate::error::{FieldError, WebError};
use serde::Deserialize;
use yuepin_domain::{
    parse_date, Designation, Division, Enterprise, Financials, Gtin, Product, RegionCode,
    StandardCode, Uscc, Yuan,
};

pub use crate::json_body::ApiJson;

/// Collects field errors so a form reports every problem at once.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn take<T>(&mut self, field: &str, r: Result<T, yuepin_domain::DomainError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(FieldError {
                    field: field.to_string(),
                    message: e.reason,
                });
                None
            }
        }
    }
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
    pub fn finish(self) -> Result<(), WebError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WebError::Invalid(self.0))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DesignationInput {
    pub kind: String,
    pub awarded_on: String,
    #[serde(default)]
    pub expires_on: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FinancialsInput {
    pub year: i32,
    pub revenue_china: String,
    #[serde(default)]
    pub revenue_world: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EnterpriseInput {
    pub uscc: String,
    pub name: String,
    pub region: String,
    pub division: String,
    pub registered_capital: String,
    pub employees: i64,
    pub founded_on: String,
    #[serde(default)]
    pub listing: Option<String>,
    #[serde(default)]
    pub designations: Vec<DesignationInput>,
    #[serde(default)]
    pub financials: Vec<FinancialsInput>,
    /// Why the name or region changes (an enterprise user's change goes to review with it).
    #[serde(default)]
    pub change_reason: Option<String>,
}

impl EnterpriseInput {
    pub fn parse(self) -> Result<Enterprise, WebError> {
        let mut errs = Errors::default();
        let uscc = errs.take("uscc", Uscc::parse(&self.uscc));
        let name = errs.take("name", Enterprise::check_name(&self.name));
        let region = errs.take("region", RegionCode::parse(&self.region));
        let division = errs.take("division", Division::parse(&self.division));
        let capital = errs.take("registered_capital", Yuan::parse(&self.registered_capital));
        let founded = errs.take("founded_on", parse_date("founded_on", &self.founded_on));
        let listing = errs.take("listing", self.listing.as_deref().unwrap_or("").parse());
        if !(0..=10_000_000).contains(&self.employees) {
            errs.push("employees", "从业人数应在0到1000万之间 (0 to 10,000,000)");
        }
        let mut designations = Vec::new();
        for (i, d) in self.designations.iter().enumerate() {
            let f = |s: &str| format!("designations[{i}].{s}");
            let kind = errs.take(&f("kind"), d.kind.parse());
            let awarded = errs.take(&f("awarded_on"), parse_date("awarded_on", &d.awarded_on));
            let expires = match d.expires_on.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(s) => errs
                    .take(&f("expires_on"), parse_date("expires_on", s))
                    .map(Some),
                None => Some(None),
            };
            if let (Some(kind), Some(awarded_on), Some(expires_on)) = (kind, awarded, expires) {
                designations.push(Designation {
                    kind,
                    awarded_on,
                    expires_on,
                });
            }
        }
        let mut financials = Vec::new();
        for (i, f) in self.financials.iter().enumerate() {
            let name = |s: &str| format!("financials[{i}].{s}");
            if !(1949..=2100).contains(&f.year) {
                errs.push(&name("year"), "年份无效 (invalid year)");
            }
            let china = errs.take(&name("revenue_china"), Yuan::parse(&f.revenue_china));
            let world = match f.revenue_world.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(s) => errs.take(&name("revenue_world"), Yuan::parse(s)).map(Some),
                None => Some(None),
            };
            if let (Some(revenue_china), Some(revenue_world)) = (china, world) {
                financials.push(Financials {
                    year: f.year,
                    revenue_china,
                    revenue_world,
                });
            }
        }
        errs.finish()?;
        match (uscc, name, region, division, capital, founded, listing) {
            (
                Some(uscc),
                Some(name),
                Some(region),
                Some(division),
                Some(registered_capital),
                Some(founded_on),
                Some(listing),
            ) => Ok(Enterprise {
                uscc,
                name,
                region,
                division,
                registered_capital,
                employees: self.employees as u32,
                founded_on,
                listing,
                designations,
                financials,
            }),
            _ => Err(WebError::BadRequest("invalid enterprise".into())),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProductInput {
    pub name: String,
    #[serde(default)]
    pub brand: String,
    pub model: String,
    #[serde(default)]
    pub gtin: Option<String>,
    pub category: String,
    #[serde(default)]
    pub standard: Option<String>,
}

impl ProductInput {
    pub fn parse(self, enterprise: Uscc) -> Result<Product, WebError> {
        use yuepin_domain::product::{optional_text, required_text};
        let mut errs = Errors::default();
        let name = errs.take("name", required_text("name", &self.name, 100));
        let brand = errs.take("brand", optional_text("brand", &self.brand, 50));
        let model = errs.take("model", required_text("model", &self.model, 60));
        let category = errs.take("category", required_text("category", &self.category, 50));
        let gtin = match self.gtin.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(g) => errs.take("gtin", Gtin::parse(g)).map(Some),
            None => Some(None),
        };
        let standard = match self.standard.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => errs.take("standard", StandardCode::parse(s)).map(Some),
            None => Some(None),
        };
        errs.finish()?;
        match (name, brand, model, category, gtin, standard) {
            (Some(name), Some(brand), Some(model), Some(category), Some(gtin), Some(standard)) => {
                Ok(Product {
                    enterprise,
                    name,
                    brand,
                    model,
                    gtin,
                    category,
                    standard,
                })
            }
            _ => Err(WebError::BadRequest("invalid product".into())),
        }
    }
}
