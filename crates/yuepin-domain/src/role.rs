//! The roles a signed-in account can have. The public (consumers) needs no account.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Market regulator staff (市场监管局): administers everything.
    Regulator,
    /// A user bound to one enterprise.
    Enterprise,
    /// A bank reading credit files under consent.
    Bank,
    /// A testing laboratory.
    Lab,
    /// A product-hospital expert.
    Expert,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Regulator,
        Role::Enterprise,
        Role::Bank,
        Role::Lab,
        Role::Expert,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Regulator => "regulator",
            Role::Enterprise => "enterprise",
            Role::Bank => "bank",
            Role::Lab => "lab",
            Role::Expert => "expert",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Regulator => "监管部门",
            Role::Enterprise => "企业用户",
            Role::Bank => "金融机构",
            Role::Lab => "检验检测机构",
            Role::Expert => "质量专家",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| crate::DomainError::new("role", format!("unknown role {s:?}")))
    }
}
