//! Black-box tests of the policy module.
