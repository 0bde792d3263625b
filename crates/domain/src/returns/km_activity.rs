//! The KM quarterly return's activity lines, KPIs 1.1–1.32 (KM 6.7; docs/kpis.md §3,
//! "1. Activity"). One function per line, beside its definition.

use crate::events::EventKind;
use crate::returns::KpiFn;
use crate::returns::cut::Cut;
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::period::Period;
use crate::screening::ScreeningSetting;

/// The activity lines, in the return's order.
pub const LINES: &[KpiFn] = &[kpi_1_1, kpi_1_2];

/// Every screening in the period, with whether it was at reception.
fn screenings<'a>(cut: &'a Cut<'_>, period: &'a Period) -> impl Iterator<Item = (Item, bool)> + 'a {
    cut.people.values().flat_map(move |p| {
        p.of(|k| match k {
            EventKind::ScreeningCompleted(s) => Some((s.screened_on, s.setting)),
            _ => None,
        })
        .filter(|(_, (on, _))| period.contains(*on))
        .map(|(e, (on, setting))| {
            (
                Item::event(&e.establishment, p.person, e.id, on),
                setting == ScreeningSetting::Reception,
            )
        })
    })
}

/// KPI 1.1: "Number of substance misuse screenings completed at reception" — each
/// `screening_completed` with `setting: reception`, by `screened_on`, at the event's
/// establishment (docs/kpis.md 1.1).
pub fn kpi_1_1(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = screenings(cut, period)
        .filter(|(_, reception)| *reception)
        .map(|(i, _)| i)
        .collect();
    vec![LineFigure::new(
        "1.1",
        "Number of substance misuse screenings completed at reception",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// KPI 1.2: "Total number of substance misuse screenings completed" — every
/// `screening_completed`, by `screened_on` (docs/kpis.md 1.2).
pub fn kpi_1_2(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = screenings(cut, period).map(|(i, _)| i).collect();
    vec![LineFigure::new(
        "1.2",
        "Total number of substance misuse screenings completed",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

#[cfg(test)]
mod tests {
    use crate::decide::Command;
    use crate::events::EventKind;
    use crate::returns::figure::RowKey;
    use crate::returns::testkit::{count, km, row};
    use crate::screening::{InjectingStatus, Screening, ScreeningSetting};
    use crate::testkit::{Log, at, code, d};

    fn screening(on: &str, setting: ScreeningSetting) -> EventKind {
        EventKind::ScreeningCompleted(Screening {
            setting,
            screened_on: d(on),
            audit: None,
            audit_c: None,
            problem_substances: vec![],
            injecting: InjectingStatus::Never,
            offending_linked: false,
            structured_treatment_needed: false,
        })
    }

    #[test]
    fn screenings_at_reception_and_in_total_by_establishment_and_quarter() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        // MDI: two at reception and one on referral in Q3 2026; one at reception in Q2.
        let a = log.prisoner("A1111AA");
        log.record(a, screening("2026-07-01", ScreeningSetting::Reception))
            .unwrap();
        log.record(a, screening("2026-09-30", ScreeningSetting::OnReferral))
            .unwrap();
        log.record(a, screening("2026-06-30", ScreeningSetting::Reception))
            .unwrap();
        let b = log.prisoner("A2222BB");
        log.record(b, screening("2026-08-12", ScreeningSetting::Reception))
            .unwrap();
        // EYI: one at reception in Q3.
        log.establishment = code("EYI");
        let c = log.prisoner("A3333CC");
        log.record(c, screening("2026-09-01", ScreeningSetting::Reception))
            .unwrap();

        let r = km(&log, "2026Q3", "2026-10-05T10:00:00Z");
        assert_eq!(count(&r, "1.1", &row("MDI")), 2);
        assert_eq!(count(&r, "1.2", &row("MDI")), 3);
        assert_eq!(count(&r, "1.1", &row("EYI")), 1);
        assert_eq!(count(&r, "1.1", &RowKey::All), 3);
        assert_eq!(count(&r, "1.2", &RowKey::All), 4);
        assert_eq!(count(&r, "1.1", &row("DVI")), 0);
    }

    #[test]
    fn a_correction_after_the_as_at_instant_leaves_that_return_unchanged() {
        let mut log = Log::new();
        log.now = at("2026-10-05T10:00:00Z");
        let a = log.prisoner("A1111AA");
        let ids = log
            .record(a, screening("2026-07-01", ScreeningSetting::Reception))
            .unwrap();
        let as_at = "2026-10-06T09:00:00Z";
        let before = km(&log, "2026Q3", as_at);
        // On 7 October the screening is corrected: it was on referral.
        log.now = at("2026-10-07T10:00:00Z");
        log.try_command(
            a,
            Command::Correct {
                target: ids[0],
                reason: "Screened after a referral, not at reception".into(),
                kind: screening("2026-07-01", ScreeningSetting::OnReferral),
            },
        )
        .unwrap();
        let again = km(&log, "2026Q3", as_at);
        assert_eq!(before, again, "the same return, byte for byte");
        assert_eq!(count(&again, "1.1", &row("MDI")), 1);
        let now = km(&log, "2026Q3", "2026-10-08T09:00:00Z");
        assert_eq!(count(&now, "1.1", &row("MDI")), 0);
        assert_eq!(count(&now, "1.2", &row("MDI")), 1);
    }
}
