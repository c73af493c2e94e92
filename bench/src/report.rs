//! The report: each figure, its target, its ratio to the `/healthz` floor of the same run,
//! the load generator's own CPU share, and whether it met its target.

use crate::load::Stats;

/// A figure's target.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Requests per second, at least.
    AtLeast(f64),
    /// A share of the floor's requests per second, at least.
    RatioAtLeast(f64),
    /// A p99 latency in ms, at most.
    AtMostMs(f64),
    /// A count or size, at most.
    AtMost(f64),
    /// A share (0–1) of another figure of the same run, or of a quota, at least.
    ShareAtLeast(f64),
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Figure {
    name: String,
    /// The figure (req/s, ms, count).
    value: f64,
    unit: &'static str,
    /// value / floor for throughputs, floor / value for latencies.
    ratio: Option<f64>,
    detail: Option<String>,
    target: Target,
}

fn latencies(s: &Stats) -> String {
    format!(
        "p50 {:.2} p99 {:.2} p99.9 {:.2} ms, server CPU {:.0} %, client CPU {:.0} %",
        s.percentile_ms(50.0),
        s.percentile_ms(99.0),
        s.percentile_ms(99.9),
        s.server_cpu * 100.0,
        s.client_cpu * 100.0
    )
}

impl Figure {
    /// Throughput with an absolute target.
    pub fn rate(name: &str, s: &Stats, floor: &Stats, target: Target) -> Self {
        Self {
            name: name.into(),
            value: s.rate(),
            unit: "req/s",
            ratio: Some(s.rate() / floor.rate()),
            detail: Some(latencies(s)),
            target,
        }
    }

    /// Throughput with a target relative to the floor.
    pub fn ratio(name: &str, s: &Stats, floor: &Stats, target: Target) -> Self {
        Self::rate(name, s, floor, target)
    }

    /// The p99 latency of an open loop.
    pub fn p99(name: &str, s: &Stats, floor: &Stats, target: Target) -> Self {
        let p99 = s.percentile_ms(99.0);
        Self {
            name: name.into(),
            value: p99,
            unit: "ms",
            ratio: Some(floor.percentile_ms(99.0) / p99),
            detail: Some(format!("{:.0} req/s sent, {}", s.rate(), latencies(s))),
            target,
        }
    }

    /// A plain figure (calls, MiB).
    pub fn count(name: &str, value: f64, target: Target) -> Self {
        Self {
            name: name.into(),
            value,
            unit: "",
            ratio: None,
            detail: None,
            target,
        }
    }

    /// Whether its target is a speed (throughput, ratio, latency), not a count.
    fn is_speed(&self) -> bool {
        !matches!(self.target, Target::AtMost(_) | Target::ShareAtLeast(_))
    }

    /// Whether the figure meets its target.
    pub fn met(&self) -> bool {
        match self.target {
            Target::AtLeast(t) | Target::ShareAtLeast(t) => self.value >= t,
            Target::RatioAtLeast(t) => self.ratio.is_some_and(|r| r >= t),
            Target::AtMostMs(t) | Target::AtMost(t) => self.value <= t,
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::AtLeast(t) => format!("≥ {t} req/s"),
            Target::RatioAtLeast(t) => format!("≥ {:.0} % of floor", t * 100.0),
            Target::AtMostMs(t) => format!("≤ {t} ms"),
            Target::AtMost(t) => format!("≤ {t}"),
            Target::ShareAtLeast(t) => format!("≥ {:.0} %", t * 100.0),
        }
    }
}

/// The report of one run.
#[derive(Debug)]
pub struct Report {
    title: String,
    lines: Vec<String>,
    missed: usize,
    speed_binds: bool,
}

impl Report {
    /// An empty report. `speed_binds`: whether a missed speed target fails the run (the
    /// targets are set for SQLite; PostgreSQL's speeds are reported beside them, while its
    /// counts, Google calls and memory, still bind).
    pub fn new(title: String, speed_binds: bool) -> Self {
        Self {
            title,
            lines: Vec::new(),
            missed: 0,
            speed_binds,
        }
    }

    /// A floor measurement (no target).
    pub fn floor(&mut self, name: &str, s: &Stats) {
        self.lines.push(format!(
            "     {name:<44} {:>9.1} req/s                        ({})",
            s.rate(),
            latencies(s)
        ));
    }

    /// A figure with its target.
    pub fn figure(&mut self, f: Figure) {
        let met = f.met();
        let binds = self.speed_binds || !f.is_speed();
        self.missed += usize::from(binds && !met);
        let ratio = f
            .ratio
            .map_or(String::new(), |r| format!("{:>5.0} % of floor", r * 100.0));
        let mut line = format!(
            "{} {:<44} {:>9.3} {:<5} {:<20} {:<15}",
            match (met, binds) {
                (true, _) => "ok  ",
                (false, true) => "MISS",
                (false, false) => "less",
            },
            f.name,
            f.value,
            f.unit,
            f.target_text(),
            ratio
        );
        if let Some(detail) = &f.detail {
            line.push_str(&format!(" ({detail})"));
        }
        self.lines.push(line);
    }

    /// A line of context.
    pub fn note(&mut self, text: String) {
        self.lines.push(format!("     {text}"));
    }

    /// Prints the report; true if every target was met.
    pub fn print(&self) -> bool {
        println!("{}", self.title);
        for line in &self.lines {
            println!("{line}");
        }
        if self.missed > 0 {
            println!("{} target(s) missed", self.missed);
        }
        self.missed == 0
    }
}
