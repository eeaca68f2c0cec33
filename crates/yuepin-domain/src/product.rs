//! Products an enterprise makes: what a 粤品通 code is issued for and inspections are made on.

use crate::{DomainError, Gtin, StandardCode, Uscc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub enterprise: Uscc,
    pub name: String,
    pub brand: String,
    pub model: String,
    pub gtin: Option<Gtin>,
    /// Product category as the regulator's catalogue names it (e.g. 电冰箱, 儿童玩具).
    pub category: String,
    /// The standard the product is made to (执行标准).
    pub standard: Option<StandardCode>,
}

/// Trims a required free-text field and bounds its length.
pub fn required_text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::new(field, "不能为空 (required)"));
    }
    if v.chars().count() > max_chars {
        return Err(DomainError::new(
            field,
            format!("超过{max_chars}个字符 (longer than {max_chars} characters)"),
        ));
    }
    Ok(v.to_string())
}

/// Like [`required_text`] but empty is allowed.
pub fn optional_text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, DomainError> {
    let v = value.trim();
    if v.chars().count() > max_chars {
        return Err(DomainError::new(
            field,
            format!("超过{max_chars}个字符 (longer than {max_chars} characters)"),
        ));
    }
    Ok(v.to_string())
}
