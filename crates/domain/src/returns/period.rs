//! Reporting periods (docs/kpis.md §1.4): a first and a last local date, both
//! inclusive — a calendar quarter for the KM return (KM 6.4), six months for the S4
//! report (S4 §5), a year for the annual report (S4 §6, §9–10).

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A reporting period.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period {
    /// Its first day.
    pub first: NaiveDate,
    /// Its last day (inclusive).
    pub last: NaiveDate,
    /// Its name (`2025Q3`, `2025H2`, `2025`).
    pub name: String,
}

/// Why a period could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not `YYYYQn`, `YYYYHn` or `YYYY`.
    #[error(
        "{0:?} is not a period: write a quarter like 2025Q3, a half-year like 2025H2, or a year like 2025"
    )]
    Malformed(String),
    /// Not a service year (`2025`, or `2025-26` for a year starting after January).
    #[error(
        "{0:?} is not a year: write the year it starts in, like 2025 (or 2025-26 for a year starting after January)"
    )]
    NotAYear(String),
}

impl Period {
    /// Calendar quarter `q` (1–4) of `year`, if it exists.
    pub fn quarter(year: i32, q: u32) -> Option<Period> {
        if !(1..=4).contains(&q) {
            return None;
        }
        Period::months(year, 3 * (q - 1) + 1, 3, format!("{year}Q{q}"))
    }

    /// Half-year `h` (1: January–June, 2: July–December) of `year`.
    pub fn half_year(year: i32, h: u32) -> Option<Period> {
        if !(1..=2).contains(&h) {
            return None;
        }
        Period::months(year, 6 * (h - 1) + 1, 6, format!("{year}H{h}"))
    }

    /// Calendar year `year`.
    pub fn year(year: i32) -> Option<Period> {
        Period::months(year, 1, 12, year.to_string())
    }

    /// The service's year that begins in `year` (S4 §6, §9–10; KM 4.24): twelve
    /// months from the first of `starts_month` (the profile's
    /// `obligations.year_starts_month`). A year starting in January is the calendar
    /// year, named `2025`; one starting later is named for both years, `2025-26`.
    pub fn annual(year: i32, starts_month: u32) -> Option<Period> {
        if starts_month == 1 {
            return Period::year(year);
        }
        let name = format!("{year}-{:02}", (year + 1).rem_euclid(100));
        Period::months(year, starts_month, 12, name)
    }

    /// Reads a service year (see [`Period::annual`]): `2025`, or `2025-26` when the
    /// year starts after January (the second year must follow the first).
    pub fn parse_year(text: &str, starts_month: u32) -> Result<Period, PeriodError> {
        let t = text.trim();
        let bad = || PeriodError::NotAYear(t.chars().take(40).collect());
        let (first, second) = match t.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (t, None),
        };
        if first.len() != 4 || !first.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = first.parse().map_err(|_| bad())?;
        if let Some(b) = second {
            let next = format!("{:02}", (year + 1).rem_euclid(100));
            if starts_month == 1 || b != next {
                return Err(bad());
            }
        }
        Period::annual(year, starts_month).ok_or_else(bad)
    }

    fn months(year: i32, first_month: u32, months: u32, name: String) -> Option<Period> {
        let first = NaiveDate::from_ymd_opt(year, first_month, 1)?;
        let last = first.checked_add_months(Months::new(months))?.pred_opt()?;
        Some(Period { first, last, name })
    }

    /// Reads `2025Q3`, `2025H2` or `2025`.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let t = text.trim().to_ascii_uppercase();
        let bad = || PeriodError::Malformed(text.chars().take(40).collect());
        let year = |s: &str| -> Result<i32, PeriodError> {
            if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) {
                s.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let n = |s: &str| s.parse::<u32>().map_err(|_| bad());
        let p = if let Some((y, q)) = t.split_once('Q') {
            Period::quarter(year(y)?, n(q)?)
        } else if let Some((y, h)) = t.split_once('H') {
            Period::half_year(year(y)?, n(h)?)
        } else {
            Period::year(year(&t)?)
        };
        p.ok_or_else(bad)
    }

    /// The quarter holding `day`.
    pub fn quarter_of(day: NaiveDate) -> Period {
        let q = (day.month() - 1) / 3 + 1;
        Period::quarter(day.year(), q).unwrap_or(Period {
            first: day,
            last: day,
            name: day.to_string(),
        })
    }

    /// The `n` quarters ending with this one's quarter, oldest first.
    pub fn quarters_to(&self, n: usize) -> Vec<Period> {
        let mut out = vec![Period::quarter_of(self.last)];
        while out.len() < n {
            let Some(prev) = out[0].first.pred_opt() else {
                break;
            };
            out.insert(0, Period::quarter_of(prev));
        }
        out
    }

    /// Whether `day` falls in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.first <= day && day <= self.last
    }

    /// How many days the period has.
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} to {})", self.name, self.first, self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn quarters_half_years_and_years_parse_with_their_days() {
        let q = Period::parse("2025q3").unwrap();
        assert_eq!(
            (q.first, q.last, q.days()),
            (d("2025-07-01"), d("2025-09-30"), 92)
        );
        let q1 = Period::parse("2024Q1").unwrap();
        assert_eq!(q1.days(), 91, "a leap year's first quarter");
        assert_eq!(Period::parse("2025Q1").unwrap().days(), 90);
        let h = Period::parse("2025H2").unwrap();
        assert_eq!((h.first, h.last), (d("2025-07-01"), d("2025-12-31")));
        assert_eq!(Period::parse("2026").unwrap().days(), 365);
        for bad in ["2025Q5", "2025Q0", "25Q1", "2025H3", "Q3", "", "2025-07"] {
            let e = Period::parse(bad).unwrap_err();
            assert!(e.to_string().contains("is not a period"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_service_year_starts_in_the_profiles_month() {
        let calendar = Period::annual(2025, 1).unwrap();
        assert_eq!(
            (calendar.first, calendar.last, calendar.name.as_str()),
            (d("2025-01-01"), d("2025-12-31"), "2025")
        );
        let km = Period::annual(2025, 4).unwrap();
        assert_eq!(
            (km.first, km.last, km.name.as_str()),
            (d("2025-04-01"), d("2026-03-31"), "2025-26")
        );
        assert_eq!(Period::annual(2099, 4).unwrap().name, "2099-00");
        assert_eq!(Period::parse_year("2025", 4).unwrap(), km);
        assert_eq!(Period::parse_year(" 2025-26 ", 4).unwrap(), km);
        assert_eq!(Period::parse_year("2025", 1).unwrap(), calendar);
        for (bad, start) in [
            ("2025-27", 4),
            ("2025-26", 1),
            ("25", 4),
            ("2025Q1", 1),
            ("", 1),
        ] {
            let e = Period::parse_year(bad, start).unwrap_err();
            assert!(e.to_string().contains("is not a year"), "{bad}: {e}");
        }
    }

    #[test]
    fn eight_quarters_to_a_quarter_run_oldest_first() {
        let q = Period::parse("2026Q2").unwrap();
        let names: Vec<String> = q.quarters_to(8).into_iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"
            ]
        );
        assert!(q.contains(d("2026-06-30")) && !q.contains(d("2026-07-01")));
    }
}
