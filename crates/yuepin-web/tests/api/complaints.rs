//! Black-box tests of the complaints module.
