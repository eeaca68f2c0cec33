//! The black-box test binary: drives the real router against a fresh database per test, on
//! SQLite by default or on PostgreSQL when `YUEPIN_TEST_DATABASE_URL` names a server.

mod helpers;

mod access_matrix;
mod audit;
mod auth;
mod browser;
mod codes;
mod complaint_alarms;
mod complaint_detect;
mod complaints;
mod credit;
mod declared;
mod enterprises;
mod errors;
mod existence;
mod exports;
mod headers;
mod hospital;
mod identity;
mod input_limits;
mod labs;
mod openapi;
mod ops;
mod pages;
mod phone;
mod policy;
mod routes_src;
mod scan_limits;
mod second_factor;
mod signin;
mod throttle;
mod tokens;
