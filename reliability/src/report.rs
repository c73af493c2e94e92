//! The suite's one table: scenario, load, faults injected, expected, observed, pass.

/// One checked line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The scenario and the check, e.g. `secrets: logs`.
    pub scenario: String,
    /// What was driven (requests, purchases, clients).
    pub load: String,
    /// What went wrong on purpose.
    pub faults: String,
    /// What must hold.
    pub expected: String,
    /// What was seen.
    pub observed: String,
    /// Whether it held.
    pub pass: bool,
}

impl Row {
    /// A row; `pass` decides its verdict.
    pub fn new(
        scenario: &str,
        load: impl Into<String>,
        faults: impl Into<String>,
        expected: impl Into<String>,
        observed: impl Into<String>,
        pass: bool,
    ) -> Self {
        Self {
            scenario: scenario.into(),
            load: load.into(),
            faults: faults.into(),
            expected: expected.into(),
            observed: observed.into(),
            pass,
        }
    }

    /// A row for a scenario that could not run to its end: a miss, with the error.
    pub fn error(scenario: &str, error: &anyhow::Error) -> Self {
        Self::new(
            scenario,
            "-",
            "-",
            "runs to its end",
            format!("error: {error:#}"),
            false,
        )
    }
}

/// The table as text (Markdown, so it can go into `docs/measured.md` as it is).
pub fn table(rows: &[Row]) -> String {
    let header = [
        "scenario",
        "load",
        "faults injected",
        "expected",
        "observed",
        "pass",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.clone(),
                r.load.clone(),
                r.faults.clone(),
                r.expected.clone(),
                r.observed.replace('\n', " "),
                if r.pass { "ok" } else { "MISS" }.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: Vec<String>| {
        let padded: Vec<String> = cols
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out += &line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for row in cells {
        out += &line(row.to_vec());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_columns_and_marks_misses() {
        let rows = [
            Row::new("a", "1 request", "none", "x", "x", true),
            Row::new("bb", "2", "kill", "y", "z", false),
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines
            .iter()
            .all(|l| l.chars().count() == lines[0].chars().count()));
        assert!(lines[2].ends_with("| ok   |"), "{text}");
        assert!(lines[3].ends_with("| MISS |"), "{text}");
    }
}
