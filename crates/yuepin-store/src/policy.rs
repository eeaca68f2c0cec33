//! Storage of the policy module (filled in by its issue).

#[allow(unused_imports)]
use crate::{Result, Store};
