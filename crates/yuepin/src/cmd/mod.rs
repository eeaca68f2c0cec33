//! One module per subcommand.

pub mod admin;
pub mod audit;
pub mod bench;
pub mod codes;
pub mod complaints;
pub mod credit;
pub mod demo;
pub mod hospital;
pub mod import;
pub mod labs;
pub mod policy;
pub mod serve;
