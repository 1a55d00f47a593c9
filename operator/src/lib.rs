//! dynastream's Kubernetes operator: runs an emulator in every namespace that holds `Table`, `Function` or
//! `EventSourceMapping` resources, and applies those resources to it through its AWS API.

pub mod aws;
pub mod conditions;
pub mod config;
pub mod controller;
pub mod crd;
pub mod emulator;
pub mod esm;
pub mod function;
pub mod table;
