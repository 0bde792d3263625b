//! The first-night clock (KM 4.17): "Prisoners identified as having a first night
//! prescribing need should be seen and prescribed within 4 hours during the hours of
//! 8am–10pm. Those requiring clinical interventions between the hours of 10pm–8am
//! should be given symptomatic relief until GP cover is available."
//!
//! The clock starts when the need is recorded at reception and runs only between
//! 08:00 and 22:00 local (Europe/London) time, so it stops overnight; whenever it
//! stops overnight, symptomatic relief is due.

use crate::time::{local_date, local_instant};
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Europe::London;

/// Running time the clock allows: four hours.
pub const ALLOWED: Duration = Duration::hours(4);

fn opens() -> NaiveTime {
    NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN)
}

fn closes() -> NaiveTime {
    NaiveTime::from_hms_opt(22, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// When the person must have been seen and prescribed, for a need recorded at
/// `recorded_at`: four hours of clock time counted only between 08:00 and 22:00 local.
pub fn first_night_due(recorded_at: DateTime<Utc>) -> DateTime<Utc> {
    let mut left = ALLOWED;
    let mut at = recorded_at;
    // At most three days are ever needed; the bound keeps any input from looping.
    for _ in 0..4 {
        let day = local_date(at);
        let (open, close) = (local_instant(day, opens()), local_instant(day, closes()));
        let start = at.max(open);
        if start < close {
            let available = close - start;
            if left <= available {
                return start + left;
            }
            left -= available;
        }
        at = local_instant(day.succ_opt().unwrap_or(day), opens());
    }
    at
}

/// Whether the clock stops overnight for a need recorded at `recorded_at` (recorded
/// outside 08:00–22:00, or too late to finish by 22:00): symptomatic relief is then
/// due until GP cover (KM 4.17).
pub fn stops_overnight(recorded_at: DateTime<Utc>) -> bool {
    let local = recorded_at.with_timezone(&London);
    let t = local.time().with_nanosecond(0).unwrap_or(local.time());
    t < opens() || first_night_due(recorded_at) > local_instant(local_date(recorded_at), closes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    /// A local (London) wall-clock time as an instant.
    fn local(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        local_instant(naive.date(), naive.time())
    }

    fn due_local(s: &str) -> String {
        first_night_due(local(s))
            .with_timezone(&London)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn arrival_at_ten_is_due_at_two() {
        assert_eq!(due_local("2026-11-18 10:00"), "2026-11-18 14:00");
        assert!(!stops_overnight(local("2026-11-18 10:00")));
    }

    #[test]
    fn arrival_at_nine_pm_is_due_at_eleven_next_morning() {
        assert_eq!(due_local("2026-11-18 21:00"), "2026-11-19 11:00");
        assert!(stops_overnight(local("2026-11-18 21:00")));
    }

    #[test]
    fn arrival_at_half_past_eleven_is_due_at_noon_next_day() {
        assert_eq!(due_local("2026-11-18 23:30"), "2026-11-19 12:00");
        assert!(stops_overnight(local("2026-11-18 23:30")));
    }

    #[test]
    fn boundaries_around_eight_in_the_morning() {
        assert_eq!(due_local("2026-11-18 07:59"), "2026-11-18 12:00");
        assert!(stops_overnight(local("2026-11-18 07:59")));
        assert_eq!(due_local("2026-11-18 08:00"), "2026-11-18 12:00");
        assert!(!stops_overnight(local("2026-11-18 08:00")));
    }

    #[test]
    fn boundaries_around_six_in_the_evening() {
        assert_eq!(due_local("2026-11-18 17:59"), "2026-11-18 21:59");
        assert!(!stops_overnight(local("2026-11-18 17:59")));
        assert_eq!(due_local("2026-11-18 18:00"), "2026-11-18 22:00");
        assert!(!stops_overnight(local("2026-11-18 18:00")));
        assert_eq!(due_local("2026-11-18 18:01"), "2026-11-19 08:01");
        assert!(stops_overnight(local("2026-11-18 18:01")));
    }

    #[test]
    fn boundaries_around_ten_at_night() {
        // 21:59: one minute today, three hours fifty-nine tomorrow from 08:00.
        assert_eq!(due_local("2026-11-18 21:59"), "2026-11-19 11:59");
        assert_eq!(due_local("2026-11-18 22:00"), "2026-11-19 12:00");
        assert!(stops_overnight(local("2026-11-18 22:00")));
    }

    #[test]
    fn spring_forward_night_keeps_local_times() {
        // Clocks go forward at 01:00 GMT on Sunday 29 March 2026.
        assert_eq!(due_local("2026-03-28 21:00"), "2026-03-29 11:00");
        assert_eq!(
            first_night_due(local("2026-03-28 21:00")),
            parse_instant("2026-03-29T10:00:00Z").unwrap()
        );
        assert_eq!(due_local("2026-03-29 10:00"), "2026-03-29 14:00");
        assert_eq!(
            first_night_due(local("2026-03-29 10:00")),
            parse_instant("2026-03-29T13:00:00Z").unwrap()
        );
    }

    #[test]
    fn autumn_back_night_keeps_local_times() {
        // Clocks go back at 02:00 BST on Sunday 25 October 2026.
        assert_eq!(due_local("2026-10-24 21:00"), "2026-10-25 11:00");
        assert_eq!(
            first_night_due(local("2026-10-24 21:00")),
            parse_instant("2026-10-25T11:00:00Z").unwrap()
        );
        assert_eq!(due_local("2026-10-25 01:30"), "2026-10-25 12:00");
        assert_eq!(due_local("2026-10-25 19:00"), "2026-10-26 09:00");
    }
}
