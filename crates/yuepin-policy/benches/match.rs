//! Placeholder until the real benchmark lands.
fn main() {}
