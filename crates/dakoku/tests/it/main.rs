//! Integration tests: one binary, every test against a real database on both backends, over
//! real HTTP on loopback (see `helpers`).

mod helpers;

mod api;
mod authz;
mod bad_input;
mod browser;
mod corpus;
mod dingtalk;
mod jobs;
mod lineworks;
mod process;
mod scenarios;
pub mod security;
mod web;
mod wecom;
mod workflow;
