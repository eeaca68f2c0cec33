//! Yuepin's domain model: the parsed, always-valid types that every other crate passes around
//! (credit codes, GTINs, regions, industries, yuan amounts, enterprises, products, quality events)
//! and the reference tables compiled into the binary. No I/O happens here.

pub mod caller;
pub mod date;
pub mod enterprise;
pub mod error;
pub mod gtin;
pub mod industry;
pub mod money;
pub mod openapi;
pub mod percent;
pub mod product;
pub mod quality;
pub mod reference;
pub mod region;
pub mod role;
pub mod standard;
pub mod text;
pub mod uscc;

pub use caller::{Caller, CallerKind, Denied};
pub use date::{china_now, china_today, parse_date, to_china};
pub use enterprise::{Designation, DesignationKind, Enterprise, Financials, Listing};
pub use error::DomainError;
pub use gtin::Gtin;
pub use industry::Division;
pub use money::Yuan;
pub use product::Product;
pub use quality::{
    Certification, InspectionResult, QualityEvent, QualityEventKind, StandardLevel, StandardRole,
};
pub use region::RegionCode;
pub use role::Role;
pub use standard::StandardCode;
pub use uscc::Uscc;
