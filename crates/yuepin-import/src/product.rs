//! Product rows: the enterprise's USCC, name, brand, model, optional GTIN, category and standard.

use crate::columns::{product as c, Binding};
use crate::error::FileError;
use crate::rows::{Cells, Record};
use yuepin_domain::product::{optional_text, required_text};
use yuepin_domain::{Gtin, Product, StandardCode, Uscc};

impl Record for Product {
    const DATASET: &'static str = "products";

    fn bind(headers: &[String]) -> Result<Binding, FileError> {
        Binding::bind(Self::DATASET, c::SPECS, false, headers)
    }

    fn parse(cells: &mut Cells<'_>) -> Option<Self> {
        let enterprise = cells.parse_with(c::USCC, Uscc::parse);
        let name = cells.parse_with(c::NAME, |s| required_text("name", s, 100));
        let brand = cells.parse_with(c::BRAND, |s| optional_text("brand", s, 50));
        let model = cells.parse_with(c::MODEL, |s| required_text("model", s, 100));
        let gtin = cells.parse_with(c::GTIN, |s| {
            (!s.is_empty()).then(|| Gtin::parse(s)).transpose()
        });
        let category = cells.parse_with(c::CATEGORY, |s| required_text("category", s, 50));
        let standard = cells.parse_with(c::STANDARD, |s| {
            (!s.is_empty()).then(|| StandardCode::parse(s)).transpose()
        });
        Some(Product {
            enterprise: enterprise?,
            name: name?,
            brand: brand?,
            model: model?,
            gtin: gtin?,
            category: category?,
            standard: standard?,
        })
    }

    /// An enterprise's model number identifies its product.
    fn natural_key(&self) -> String {
        format!("{}|{}", self.enterprise, self.model)
    }

    fn key_column(&self) -> usize {
        c::MODEL
    }
}
