//! Time: the virtual clock's arithmetic, RFC 3339, ISO 8601 periods and Google durations.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the epoch, real time.
pub fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the epoch, real time.
pub fn real_now_secs() -> i64 {
    real_now_ms() / 1000
}

/// RFC 3339 (`2026-11-22T15:30:00.123Z`) from epoch milliseconds, as Google formats datetimes.
pub fn rfc3339(ms: i64) -> String {
    datetime(ms)
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The instant of epoch milliseconds (`None` out of range), for typed resources' datetimes.
pub fn datetime(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()
}

/// Epoch milliseconds from RFC 3339.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A Google `google-duration` (`"86400s"`, `"1.5s"`) in milliseconds.
pub fn parse_google_duration(s: &str) -> Option<i64> {
    let secs = s.strip_suffix('s')?;
    let (int, frac) = secs.split_once('.').unwrap_or((secs, ""));
    if int.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    let frac_ms: i64 = if frac.is_empty() {
        0
    } else {
        format!("{:0<3}", &frac[..frac.len().min(3)]).parse().ok()?
    };
    int.checked_mul(1000)?.checked_add(frac_ms)
}

/// An ISO 8601 period (`P1M`, `P1Y`, `P7D`, `P1W`, `PT5M`): calendar years and months, plus days
/// and seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    /// Calendar months (years × 12 included).
    pub months: i64,
    /// Days (weeks × 7 included).
    pub days: i64,
    /// Seconds (the time part).
    pub seconds: i64,
}

impl Period {
    /// Parses `PnYnMnWnDTnHnMnS`; a zero or malformed period is `None`.
    pub fn parse(s: &str) -> Option<Period> {
        let rest = s.strip_prefix('P')?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        let mut p = Period::default();
        let mut num = String::new();
        for c in date.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: i64 = num.parse().ok()?;
            num.clear();
            match c {
                'Y' => p.months += n * 12,
                'M' => p.months += n,
                'W' => p.days += n * 7,
                'D' => p.days += n,
                _ => return None,
            }
        }
        if !num.is_empty() {
            return None;
        }
        if let Some(time) = time {
            if time.is_empty() {
                return None;
            }
            for c in time.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    continue;
                }
                let n: i64 = num.parse().ok()?;
                num.clear();
                match c {
                    'H' => p.seconds += n * 3600,
                    'M' => p.seconds += n * 60,
                    'S' => p.seconds += n,
                    _ => return None,
                }
            }
            if !num.is_empty() {
                return None;
            }
        }
        if p == Period::default() {
            return None;
        }
        Some(p)
    }

    /// `ms` plus this period, months added on the calendar (the day clamped to the month's end).
    pub fn add_to(&self, ms: i64) -> i64 {
        let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000) else {
            return ms;
        };
        let mut t = t;
        if self.months != 0 {
            let total = t.year() as i64 * 12 + (t.month() as i64 - 1) + self.months;
            let year = total.div_euclid(12) as i32;
            let month = time::Month::try_from((total.rem_euclid(12) + 1) as u8)
                .unwrap_or(time::Month::January);
            let last = time::util::days_in_month(month, year);
            let day = t.day().min(last);
            if let Ok(date) = time::Date::from_calendar_date(year, month, day) {
                t = t.replace_date(date);
            }
        }
        t += time::Duration::days(self.days) + time::Duration::seconds(self.seconds);
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let jan31 = parse_rfc3339("2026-01-31T10:00:00Z").unwrap();
        assert_eq!(
            rfc3339(Period::parse("P1M").unwrap().add_to(jan31)),
            "2026-02-28T10:00:00Z"
        );
        assert_eq!(
            rfc3339(Period::parse("P1Y").unwrap().add_to(jan31)),
            "2027-01-31T10:00:00Z"
        );
        assert_eq!(
            rfc3339(Period::parse("P1W").unwrap().add_to(jan31)),
            "2026-02-07T10:00:00Z"
        );
        assert_eq!(
            rfc3339(Period::parse("PT5M").unwrap().add_to(jan31)),
            "2026-01-31T10:05:00Z"
        );
        assert!(Period::parse("P").is_none());
        assert!(Period::parse("P0D").is_none());
        assert!(Period::parse("1M").is_none());
        assert_eq!(parse_google_duration("86400s"), Some(86_400_000));
        assert_eq!(parse_google_duration("1.5s"), Some(1500));
        assert_eq!(parse_google_duration("10"), None);
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
