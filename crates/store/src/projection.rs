//! Projections computed from a folded case, written in the append transaction.

use crate::model::CaseRow;
use throughcare_domain::calendar::Calendar;
use throughcare_domain::case::Case;
use throughcare_domain::clocks::next_assessment_due;
use throughcare_domain::custody::{CustodyStatus, ReleaseKind};

/// The case index row of a case, if the person is registered.
pub fn case_row(case: &Case, calendar: &Calendar, working_days: Option<u32>) -> Option<CaseRow> {
    let d = case.details.as_ref()?;
    let establishment = case.establishment()?.to_string();
    let (custody, in_custody) = match &case.custody {
        CustodyStatus::NotYetReceived => ("Not yet received".to_string(), false),
        CustodyStatus::InCustody { reception_type, .. } => (
            match &case.transferred_in {
                Some((from, on)) => format!(
                    "In custody ({}); transferred in from {from} on {}{}",
                    reception_type.label().to_lowercase(),
                    on.format("%-d %B %Y"),
                    if case.transferred_by_break_glass.is_some() {
                        " by break-glass (to review)"
                    } else {
                        ""
                    }
                ),
                None => format!("In custody ({})", reception_type.label().to_lowercase()),
            },
            true,
        ),
        CustodyStatus::Left { kind, on, .. } => (
            format!(
                "{} {}",
                match kind {
                    ReleaseKind::Released => "Released",
                    ReleaseKind::Deported => "Deported",
                },
                on.format("%-d %B %Y")
            ),
            false,
        ),
    };
    // Issue 14: the holding establishment sees that another has asked for the record.
    let asked: Vec<String> = case
        .transfer_requests
        .iter()
        .filter(|r| r.is_open())
        .map(|r| r.to.to_string())
        .collect();
    let custody = if asked.is_empty() || !in_custody {
        custody
    } else {
        format!("{custody}; transfer requested by {}", asked.join(", "))
    };
    Some(CaseRow {
        person: case.person,
        prison_number: d.prison_number.to_string(),
        family_name: d.family_name.clone(),
        given_name: d.given_name.clone(),
        date_of_birth: d.date_of_birth,
        establishment,
        custody,
        in_custody,
        open_referrals: case.referrals.iter().filter(|r| r.is_open()).count() as u32,
        assessment_due: next_assessment_due(case, calendar, working_days),
        offending_linked: case.offending_linked(),
        last_seq: case.history.iter().map(|e| e.seq).max().unwrap_or(0),
    })
}
