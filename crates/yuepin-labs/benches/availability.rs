//! Placeholder until the real target lands.
fn main() {}
