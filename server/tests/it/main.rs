//! The server's integration tests: one binary (`cargo test -p pwa-billing-server --test it`),
//! one module per area. `common` is the harness (embedded emulator, fresh database, server on
//! 127.0.0.1:0) and `rtdn_support` wires the emulator's signed pushes to the server.
//! Filter by module: `cargo test -p pwa-billing-server --test it reports::`.

mod common;
mod rtdn_support;

mod api;
mod catalog;
mod cli;
mod console;
mod docs;
mod durability;
mod external_transactions;
mod google_calls;
mod lifecycle;
mod production_graph;
mod quota;
mod reports;
mod rtdn;
mod webhooks;
