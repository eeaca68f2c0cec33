//! Storage of the complaints module (filled in by its issue).

#[allow(unused_imports)]
use crate::{Result, Store};
