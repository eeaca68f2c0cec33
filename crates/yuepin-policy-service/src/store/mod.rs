//! The policy module's SQL, moved out of the store core: enterprise facts for evaluation
//! (`facts`), reads of runs, offers, notifications, applications and grants (`queries`), and
//! the audited writes (`writes`). Shared SQL keeps to the common subset of both backends;
//! the one difference (joining a group's text) goes through `Dialect::comma_list_sql`.

pub mod facts;
pub(crate) mod queries;
pub(crate) mod writes;
