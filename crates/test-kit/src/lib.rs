//! What the server's and the emulator's tests, `pwa-billing-bench` and the reliability suite
//! share for running processes on 127.0.0.1: a free port, waiting with a timeout until a
//! process says where it listens or answers, and what Linux's `/proc` says about a process
//! (peak resident memory, CPU time), and a new PostgreSQL database for each run.
#![deny(missing_docs)]

mod postgres;
mod proc_stat;
mod ready;

pub use postgres::fresh_postgres_database;
pub use proc_stat::{cpu_seconds, peak_rss_kib, peak_rss_mib, CpuClock, Pid};
pub use ready::{announced_url, wait_healthy};

/// A free TCP port on 127.0.0.1 (bound, read, released), for a process that must be told
/// its port (`listen = "127.0.0.1:PORT"`) rather than binding port 0 itself.
pub fn free_port() -> anyhow::Result<u16> {
    use anyhow::Context;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_free_port_can_be_bound_again() {
        let port = super::free_port().unwrap();
        assert_ne!(port, 0);
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    }
}
