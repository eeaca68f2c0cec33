//! The registry's SQL: single reads and audited writes, the bulk imports (native SQLite and
//! PostgreSQL COPY, pooled), and name search over the bigram index.

pub mod bulk;
mod copy;
pub mod enterprises;
pub mod import;
pub mod rows;
pub mod search;
