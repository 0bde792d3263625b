//! The KM quarterly return's quality lines, KPIs 2.1–2.19 (KM 6.7; docs/kpis.md §3,
//! "2. Quality"). One function per line, beside its definition.

use crate::returns::KpiFn;
use crate::returns::cut::Cut;
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::period::Period;

/// The quality lines, in the return's order.
pub const LINES: &[KpiFn] = &[kpi_2_1, kpi_2_2];

/// The days of the period counted for clinical cover: up to and including the as-at
/// date (docs/kpis.md 2.1).
fn cover_days(cut: &Cut<'_>, period: &Period) -> impl Iterator<Item = chrono::NaiveDate> {
    let last = period.last.min(cut.today());
    period.first.iter_days().take_while(move |d| *d <= last)
}

/// KPI 2.1: "24/7 Clinical Cover - Number of days in each Quarter" — the calendar
/// days of the period up to the as-at date, per establishment; the all-establishments
/// row sums establishment-days (docs/kpis.md 2.1).
pub fn kpi_2_1(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = cut
        .profile
        .establishments
        .iter()
        .flat_map(|e| {
            cover_days(cut, period).map(|on| Item {
                establishment: e.code.clone(),
                person: None,
                event: None,
                on: Some(on),
            })
        })
        .collect();
    vec![LineFigure::new(
        "2.1",
        "24/7 Clinical Cover - Number of days in each Quarter",
        "days",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// KPI 2.2: "24/7 Clinical Cover - Number of days in each quarter where cover was
/// provided" — the days of 2.1 whose latest `clinical_cover_recorded` says provided; a
/// day with no record counts as without cover (docs/kpis.md 2.2).
pub fn kpi_2_2(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut items = Vec::new();
    for e in &cut.profile.establishments {
        for on in cover_days(cut, period) {
            if cut.service.cover.get(&(e.code.clone(), on)) == Some(&true) {
                items.push(Item {
                    establishment: e.code.clone(),
                    person: None,
                    event: None,
                    on: Some(on),
                });
            }
        }
    }
    vec![LineFigure::new(
        "2.2",
        "24/7 Clinical Cover - Number of days in each quarter where cover was provided",
        "days",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

#[cfg(test)]
mod tests {
    use crate::events::EventKind;
    use crate::governance::ClinicalCoverDay;
    use crate::returns::figure::RowKey;
    use crate::returns::testkit::{count, km, row};
    use crate::testkit::{Log, at, code, d};

    fn cover(on: &str, provided: bool) -> EventKind {
        EventKind::ClinicalCoverRecorded(ClinicalCoverDay {
            on: d(on),
            provided,
            note: (!provided).then(|| "No GP overnight".to_string()),
        })
    }

    #[test]
    fn cover_days_count_the_quarter_and_the_days_recorded_as_covered() {
        let mut log = Log::new();
        log.now = at("2026-10-02T10:00:00Z");
        log.record_service(cover("2026-07-01", true)).unwrap();
        log.record_service(cover("2026-07-02", false)).unwrap();
        log.record_service(cover("2026-09-30", true)).unwrap();
        // Recorded again: the latest record of a day counts.
        log.record_service(cover("2026-07-02", true)).unwrap();
        // Outside the quarter, and at another establishment.
        log.record_service(cover("2026-06-30", true)).unwrap();
        log.establishment = code("EYI");
        log.record_service(cover("2026-07-01", true)).unwrap();

        let r = km(&log, "2026Q3", "2026-10-02T10:00:00Z");
        assert_eq!(count(&r, "2.1", &row("MDI")), 92);
        assert_eq!(count(&r, "2.2", &row("MDI")), 3);
        assert_eq!(count(&r, "2.2", &row("EYI")), 1);
        assert_eq!(count(&r, "2.2", &row("BHI")), 0, "no record is no cover");
        let establishments = log.profile.establishments.len() as i64;
        assert_eq!(count(&r, "2.1", &RowKey::All), 92 * establishments);
        assert_eq!(count(&r, "2.2", &RowKey::All), 4);
        // As at mid-quarter, only the days so far count.
        let mid = km(&log, "2026Q3", "2026-07-10T12:00:00Z");
        assert_eq!(count(&mid, "2.1", &row("MDI")), 10);
        assert_eq!(
            count(&mid, "2.2", &row("MDI")),
            0,
            "nothing appended by then"
        );
    }
}
