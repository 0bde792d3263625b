//! The periods each return covers (KM 6.4: quarterly; S4 §5: six-monthly; S4 §10 and
//! KM 4.24: annual): the period of a return holding a day, the last complete one (the
//! default on the return page, the one due on the submissions page), the periods a
//! chart runs over, and reading a period's name for a given return. A service year
//! starts in the profile's `obligations.year_starts_month` (April for KM, January for
//! the single-prison profile); quarters and half-years are calendar ones.

use super::ReturnKind;
use super::period::Period;
use chrono::{Datelike, NaiveDate};

impl ReturnKind {
    /// The period of this return holding `day`.
    pub fn period_of(self, day: NaiveDate, year_starts: u32) -> Period {
        match self {
            ReturnKind::KmQuarterly => Period::quarter_of(day),
            ReturnKind::S4SixMonthly => {
                let h = if day.month() <= 6 { 1 } else { 2 };
                Period::half_year(day.year(), h).unwrap_or_else(|| Period::quarter_of(day))
            }
            ReturnKind::Annual => {
                let year = if day.month() >= year_starts {
                    day.year()
                } else {
                    day.year() - 1
                };
                Period::annual(year, year_starts).unwrap_or_else(|| Period::quarter_of(day))
            }
        }
    }

    /// The last period of this return that ended before `today`.
    pub fn last_complete(self, today: NaiveDate, year_starts: u32) -> Period {
        let current = self.period_of(today, year_starts);
        self.period_of(
            current.first.pred_opt().unwrap_or(current.first),
            year_starts,
        )
    }

    /// The `n` periods of this return ending with `period`, oldest first (a chart's
    /// axis).
    pub fn periods_to(self, period: &Period, n: usize, year_starts: u32) -> Vec<Period> {
        let mut out = vec![period.clone()];
        while out.len() < n {
            let Some(before) = out[0].first.pred_opt() else {
                break;
            };
            out.insert(0, self.period_of(before, year_starts));
        }
        out
    }

    /// Reads the name of one of this return's periods (`2026Q3` for the quarterly
    /// return, `2026H1` for the six-monthly report, `2025` or `2025-26` for the annual
    /// report); a message saying what to write when it is not one.
    pub fn parse_period(self, text: &str, year_starts: u32) -> Result<Period, String> {
        let parsed = match self {
            ReturnKind::Annual => Period::parse_year(text, year_starts),
            _ => Period::parse(text),
        }
        .map_err(|e| e.to_string())?;
        if self.period_of(parsed.first, year_starts) != parsed {
            return Err(match self {
                ReturnKind::KmQuarterly => "This return covers a quarter: write it like 2026Q3",
                ReturnKind::S4SixMonthly => "This return covers a half-year: write it like 2026H1",
                ReturnKind::Annual => "This return covers a service year: write it like 2025",
            }
            .into());
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_last_complete_period_is_a_quarter_half_year_or_service_year() {
        let last = |k: ReturnKind, on: &str, starts: u32| k.last_complete(d(on), starts).name;
        assert_eq!(last(ReturnKind::KmQuarterly, "2026-01-15", 4), "2025Q4");
        assert_eq!(last(ReturnKind::KmQuarterly, "2026-09-30", 4), "2026Q2");
        assert_eq!(last(ReturnKind::KmQuarterly, "2026-11-20", 4), "2026Q3");
        assert_eq!(last(ReturnKind::S4SixMonthly, "2026-03-01", 1), "2025H2");
        assert_eq!(last(ReturnKind::S4SixMonthly, "2026-07-01", 1), "2026H1");
        assert_eq!(last(ReturnKind::S4SixMonthly, "2026-06-30", 1), "2025H2");
        // The annual report: the last complete service year.
        assert_eq!(last(ReturnKind::Annual, "2026-03-31", 4), "2024-25");
        assert_eq!(last(ReturnKind::Annual, "2026-04-01", 4), "2025-26");
        assert_eq!(last(ReturnKind::Annual, "2026-04-01", 1), "2025");
    }

    #[test]
    fn a_period_is_read_for_its_return_only() {
        let km = ReturnKind::KmQuarterly;
        assert_eq!(km.parse_period("2026Q3", 4).unwrap().name, "2026Q3");
        assert!(
            km.parse_period("2026H1", 4)
                .unwrap_err()
                .contains("quarter")
        );
        assert!(
            km.parse_period("2026Q5", 4)
                .unwrap_err()
                .contains("is not a period")
        );
        let s4 = ReturnKind::S4SixMonthly;
        assert!(
            s4.parse_period("2026Q1", 1)
                .unwrap_err()
                .contains("half-year")
        );
        let annual = ReturnKind::Annual;
        assert_eq!(
            annual.parse_period("2025-26", 4).unwrap().first,
            d("2025-04-01")
        );
        assert_eq!(
            annual.parse_period("2025", 1).unwrap().last,
            d("2025-12-31")
        );
        assert!(annual.parse_period("2025Q1", 4).is_err());
    }

    #[test]
    fn a_chart_runs_over_periods_of_the_returns_own_length() {
        let h = Period::parse("2026H1").unwrap();
        let names: Vec<String> = ReturnKind::S4SixMonthly
            .periods_to(&h, 4, 1)
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["2024H2", "2025H1", "2025H2", "2026H1"]);
    }
}
