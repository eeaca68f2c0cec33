//! OpenAPI schemas for the types that travel as strings (behind the `openapi` feature of the
//! crate that invokes the macro): a validated newtype says it is a string, with a pattern and
//! an example, instead of exposing its Rust fields.

/// Implements `utoipa::PartialSchema` and `utoipa::ToSchema` for `$ty` as a JSON string, when
/// the invoking crate's `openapi` feature is on (so that crate must have `utoipa` optional).
#[macro_export]
macro_rules! openapi_string {
    ($ty:ident, $desc:expr, $example:expr $(, pattern = $pat:expr)?) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($desc))
                    .examples([$example])
                    $(.pattern(Some($pat)))?
                    .into()
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}
    };
}
