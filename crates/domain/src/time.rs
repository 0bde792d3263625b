//! Time: instants are stored in UTC; clocks are computed in the establishment's
//! local time (Europe/London); dates that are dates stay dates (DESIGN "Rules").

use chrono::{DateTime, NaiveDate, NaiveTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Europe::London;

/// The text form of an instant in the log: UTC, microseconds, `Z` — fixed width, so
/// that text order is time order and both databases store it identically.
pub fn canonical_instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses the canonical text form of an instant.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// An instant truncated to the microsecond, as the log keeps it.
pub fn to_log_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// The local (Europe/London) calendar date of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

/// The instant of a local (Europe/London) date and time. On the autumn change the
/// earlier of the two instants is taken; in the spring gap, the time just after it.
pub fn local_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    match London.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => {
            let later = naive + chrono::Duration::hours(1);
            London
                .from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
        }
    }
}

/// The instant used for a fact that has only a date: midday local time.
pub fn local_midday(date: NaiveDate) -> DateTime<Utc> {
    local_instant(
        date,
        NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_instant_is_fixed_width_utc() {
        let t = parse_instant("2026-07-01T10:00:00.5+01:00").unwrap();
        assert_eq!(canonical_instant(t), "2026-07-01T09:00:00.500000Z");
        assert_eq!(parse_instant(&canonical_instant(t)), Some(t));
    }

    #[test]
    fn local_date_follows_british_summer_time() {
        let t = parse_instant("2026-06-30T23:30:00Z").unwrap();
        assert_eq!(local_date(t), "2026-07-01".parse::<NaiveDate>().unwrap());
        let w = parse_instant("2026-12-31T23:30:00Z").unwrap();
        assert_eq!(local_date(w), "2026-12-31".parse::<NaiveDate>().unwrap());
    }

    #[test]
    fn local_midday_in_summer_is_eleven_utc() {
        let d: NaiveDate = "2026-07-01".parse().unwrap();
        assert_eq!(
            canonical_instant(local_midday(d)),
            "2026-07-01T11:00:00.000000Z"
        );
    }
}
