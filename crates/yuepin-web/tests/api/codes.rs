//! Black-box tests of the codes module.
