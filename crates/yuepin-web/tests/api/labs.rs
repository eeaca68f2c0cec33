//! Black-box tests of the labs module.
