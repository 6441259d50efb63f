//! Simulators of the chat platforms, written from their public documentation: they check
//! what dakoku sends the way the platform would and answer the way it does, errors and rate
//! limits included. They share no code with dakoku's adapters, so a test passes only when
//! both sides agree on the protocol.

pub mod dingtalk;
pub mod lineworks;
pub mod wecom;
