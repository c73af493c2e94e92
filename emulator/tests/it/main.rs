//! The emulator's integration tests: one binary (`cargo test -p play-emulator --test it`),
//! one module per area. `support` starts an emulator and checks every Google-side body
//! against the discovery document (`support::contract`).
//! Filter by module: `cargo test -p play-emulator --test it storage::`.

mod support;

mod catalog;
mod config;
mod contract;
mod control;
mod device;
mod external_transactions;
mod library;
mod lifecycle;
mod oauth;
mod orders;
mod purchases;
mod quotas;
mod rtdn;
mod storage;
