//! Storage of the codes module (filled in by its issue).

#[allow(unused_imports)]
use crate::{Result, Store};
