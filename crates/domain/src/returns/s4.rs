//! The S4 six-monthly anonymised report's minimum items, S4.5.1–S4.5.7 (S4 §5;
//! docs/kpis.md §4). One function per item, beside its definition.

use crate::referrals::ReferralClosureReason;
use crate::returns::KpiFn;
use crate::returns::cut::Cut;
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::period::Period;

/// The report's items, in order.
pub const LINES: &[KpiFn] = &[s4_5_1, s4_5_6];

/// S4.5.1: "The number of referrals into the service." — each `referral_made` by
/// `referred_on`, from every source, except those closed as duplicates (docs/kpis.md
/// S4.5.1).
pub fn s4_5_1(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut items = Vec::new();
    for p in cut.people.values() {
        for r in &p.case.referrals {
            let duplicate = matches!(r.closed, Some((_, ReferralClosureReason::Duplicate)));
            if !duplicate && period.contains(r.referral.referred_on) {
                items.push(Item::event(
                    &r.establishment,
                    p.person,
                    r.id,
                    r.referral.referred_on,
                ));
            }
        }
    }
    vec![LineFigure::new(
        "S4.5.1",
        "The number of referrals into the service.",
        "events",
        Figure::Count {
            measure: Measure::Events,
            items,
        },
    )]
}

/// S4.5.6: "Recovery work outcomes to be developed between the Service Provider and
/// the Prison Offender Management" — not yet defined: the specification leaves these
/// outcomes to be agreed, so nothing is reported (docs/kpis.md S4.5.6).
pub fn s4_5_6(_: &Cut<'_>, _: &Period) -> Vec<LineFigure> {
    vec![LineFigure::new(
        "S4.5.6",
        "Recovery work outcomes to be developed between the Service Provider and the Prison Offender Management",
        "",
        Figure::NotDefined,
    )]
}
