//! The KM quarterly return's outcome lines, KPIs 3.1–3.8 (KM 6.7; docs/kpis.md §3,
//! "3. Outcomes"). One function per line, beside its definition.

use crate::returns::KpiFn;
use crate::returns::cut::Cut;
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::period::Period;

/// The outcome lines, in the return's order.
pub const LINES: &[KpiFn] = &[kpi_3_8];

/// KPI 3.8: "Number of drug or alcohol related serious incidents within the prison" —
/// distinct incident references whose latest version in the cut is drug or alcohol
/// related and occurred in the period, at that version's establishment (docs/kpis.md
/// 3.8).
pub fn kpi_3_8(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let items = cut
        .service
        .incidents
        .values()
        .filter(|(_, _, i)| i.drug_or_alcohol_related && period.contains(i.occurred_on))
        .map(|(id, at, i)| Item {
            establishment: at.clone(),
            person: None,
            event: Some(*id),
            on: Some(i.occurred_on),
        })
        .collect();
    vec![LineFigure::new(
        "3.8",
        "Number of drug or alcohol related serious incidents within the prison",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}
