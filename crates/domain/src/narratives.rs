//! Report narratives (S4 §5: the six-monthly report gives "developments in
//! provision" and "emerging trends"; S4 §9: the annual review forms part of the
//! annual report; KM 4.23–4.24: the equality actions of the annual report). A
//! manager writes the text of a fixed section of a return for a period; it is a fact
//! about the service (no person), and the latest one for (return, period, section)
//! in a return's cut is the one printed — so a narrative is as-at reproducible like
//! every figure (docs/events.md `report_narrative_recorded`; docs/annual-report.md).

use crate::error::{DomainError, Problems};
use crate::events::{EventKind, RecordedEvent};
use crate::labelled_enum;
use crate::profile::Profile;
use crate::record_ids::EventId;
use crate::returns::period::Period;
use serde::{Deserialize, Serialize};

/// The longest narrative, in characters.
pub const MAX_TEXT: usize = 5000;

labelled_enum! {
    /// The returns that carry narratives (S4 §5, §9; KM 4.24).
    pub enum NarrativeReturn {
        /// The S4 six-monthly anonymised report (S4 §5).
        S4SixMonthly = ("s4-six-monthly", "Six-monthly report (S4 §5)"),
        /// The annual report (S4 §6, §9–10; KM 4.18–4.24).
        Annual = ("annual", "Annual report (S4 §6, §9–10; KM 4.24)"),
    }
}

labelled_enum! {
    /// A narrative section of a return (S4 §5, §9; KM 4.24).
    pub enum NarrativeSection {
        /// "developments in provision" (S4 §5).
        DevelopmentsInProvision = ("developments_in_provision", "Developments in provision"),
        /// "emerging trends" (S4 §5).
        EmergingTrends = ("emerging_trends", "Emerging trends"),
        /// The annual review of the service (S4 §9).
        AnnualReview = ("annual_review", "Annual review"),
        /// Actions taken on the equality findings (KM 4.18–4.24).
        EqualityActions = ("equality_actions", "Equality actions"),
    }
}

impl NarrativeReturn {
    /// The sections of this return, in the order they are printed.
    pub fn sections(self) -> &'static [NarrativeSection] {
        match self {
            NarrativeReturn::S4SixMonthly => &[
                NarrativeSection::DevelopmentsInProvision,
                NarrativeSection::EmergingTrends,
            ],
            NarrativeReturn::Annual => NarrativeSection::ALL,
        }
    }

    /// Reads the period's name as this return writes it (a half-year like `2026H1`;
    /// a year like `2025`, or `2025-26` for a profile whose year starts after
    /// January), or says what to write.
    pub fn period(self, text: &str, profile: &Profile) -> Result<Period, String> {
        match self {
            NarrativeReturn::S4SixMonthly => match Period::parse(text) {
                Ok(p) if p.name.contains('H') && p.name == text.trim() => Ok(p),
                _ => Err("This report covers a half-year: write it like 2026H1".into()),
            },
            NarrativeReturn::Annual => {
                let start = profile.obligations.year_starts_month;
                match Period::parse_year(text, start) {
                    Ok(p) if p.name == text.trim() => Ok(p),
                    Ok(p) => Err(format!("Write the year as {}", p.name)),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }
}

/// The text of one narrative section of a return for a period (S4 §5, §9; KM 4.24).
/// A fact about the service: no person, and never about one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportNarrative {
    /// Which return.
    #[serde(rename = "return")]
    pub report: NarrativeReturn,
    /// The period's name (`2026H1`, `2025`, `2025-26`).
    pub period: String,
    /// Which section.
    pub section: NarrativeSection,
    /// The text: 1 to 5,000 characters, stored trimmed.
    pub text: String,
}

/// Checks a narrative against the profile: the profile owes the return; the period
/// is written as the return names its periods; the section is one of the return's;
/// the text is not blank and at most 5,000 characters once trimmed.
pub fn validate(n: &ReportNarrative, profile: &Profile) -> Result<(), DomainError> {
    let mut p = Problems::new();
    let code = n.report.code();
    if !profile.returns.iter().any(|r| r.id == code) {
        p.add(
            "return",
            format!("This service's profile owes no {code} return"),
        );
    } else if let Err(e) = n.report.period(&n.period, profile) {
        p.add("period", e);
    }
    if !n.report.sections().contains(&n.section) {
        p.add(
            "section",
            format!(
                "The {code} return has no section {}: choose one of {}",
                n.section.code(),
                n.report
                    .sections()
                    .iter()
                    .map(|s| s.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let text = n.text.trim();
    p.check(text.is_empty(), "text", "Enter the text of the section");
    p.check(
        text.chars().count() > MAX_TEXT,
        "text",
        "The text must be 5,000 characters or fewer",
    );
    p.into_result()
}

/// One narrative as a return prints it: the section, its text and the event that
/// recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrative {
    /// The section.
    pub section: NarrativeSection,
    /// Its text.
    pub text: String,
    /// The event that recorded this version.
    pub event: EventId,
}

/// The narratives of `report` for the period named `period`, in section order:
/// for each section the latest `report_narrative_recorded` among `service_events`
/// (a cut's effective service events, in log order); sections never written are left
/// out (S4 §5, §9).
pub fn latest(
    service_events: &[RecordedEvent],
    report: NarrativeReturn,
    period: &str,
) -> Vec<Narrative> {
    report
        .sections()
        .iter()
        .filter_map(|section| {
            service_events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::ReportNarrativeRecorded(n)
                        if n.report == report && n.period == period && n.section == *section =>
                    {
                        Some((e.seq, e.id, n))
                    }
                    _ => None,
                })
                .max_by_key(|(seq, _, _)| *seq)
                .map(|(_, id, n)| Narrative {
                    section: *section,
                    text: n.text.clone(),
                    event: id,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::returns::testkit::period;
    use crate::returns::{Return, ReturnKind};
    use crate::testkit::{Log, at, problem_fields, service_record_with};

    fn prison_log() -> Log {
        let mut log = Log::new();
        log.profile = Profile::builtin("single-prison").unwrap();
        log.calendar = log.profile.calendar();
        log.establishment = log.profile.establishments[0].code.clone();
        log
    }

    fn narrative(
        report: NarrativeReturn,
        period: &str,
        section: NarrativeSection,
        text: &str,
    ) -> EventKind {
        EventKind::ReportNarrativeRecorded(ReportNarrative {
            report,
            period: period.into(),
            section,
            text: text.into(),
        })
    }

    #[test]
    fn the_latest_narrative_by_the_as_at_instant_is_the_one_printed() {
        let mut log = prison_log();
        let trends = NarrativeSection::EmergingTrends;
        log.now = at("2026-07-03T10:00:00Z");
        log.record_service(narrative(
            NarrativeReturn::S4SixMonthly,
            "2026H1",
            trends,
            "  First draft  ",
        ))
        .unwrap();
        log.now = at("2026-07-06T10:00:00Z");
        log.record_service(narrative(
            NarrativeReturn::S4SixMonthly,
            "2026H1",
            trends,
            "Spice use fell",
        ))
        .unwrap();
        // Another period's text and the annual report's do not mix in.
        log.record_service(narrative(
            NarrativeReturn::S4SixMonthly,
            "2025H2",
            trends,
            "Older",
        ))
        .unwrap();
        log.now = at("2026-07-20T10:00:00Z");
        log.record_service(narrative(
            NarrativeReturn::S4SixMonthly,
            "2026H1",
            trends,
            "Rewritten later",
        ))
        .unwrap();
        let s4 = |as_at: &str| {
            Return::compute(
                ReturnKind::S4SixMonthly,
                &log.profile,
                &log.events,
                at(as_at),
                &period("2026H1"),
            )
        };
        // As at 4 July: the first draft, stored trimmed.
        let r = s4("2026-07-04T00:00:00Z");
        assert_eq!(r.narratives.len(), 1);
        assert_eq!(r.narratives[0].text, "First draft");
        // As at 10 July: the latest before then wins; the one written on 20 July
        // (after the as-at instant) does not appear.
        let r = s4("2026-07-10T00:00:00Z");
        assert_eq!(r.narratives.len(), 1);
        assert_eq!(r.narratives[0].section, trends);
        assert_eq!(r.narratives[0].text, "Spice use fell");
        assert_eq!(
            s4("2026-07-21T00:00:00Z").narratives[0].text,
            "Rewritten later"
        );
        // As at 1 July nothing was written.
        assert!(s4("2026-07-01T00:00:00Z").narratives.is_empty());
    }

    #[test]
    fn a_narrative_names_a_return_the_profile_owes_its_period_and_one_of_its_sections() {
        let profile = Profile::builtin("single-prison").unwrap();
        let est = profile.establishments[0].code.clone();
        let fields = |k: EventKind| {
            problem_fields(
                service_record_with(&profile, &est, "2026-07-10T10:00:00Z", vec![k]).unwrap_err(),
            )
        };
        let ok = service_record_with(
            &profile,
            &est,
            "2026-07-10T10:00:00Z",
            vec![narrative(
                NarrativeReturn::Annual,
                "2025",
                NarrativeSection::AnnualReview,
                "A year of steady growth",
            )],
        );
        assert!(ok.is_ok(), "{ok:?}");
        assert_eq!(
            fields(narrative(
                NarrativeReturn::S4SixMonthly,
                "2026H1",
                NarrativeSection::AnnualReview,
                "x"
            )),
            ["section"]
        );
        assert_eq!(
            fields(narrative(
                NarrativeReturn::S4SixMonthly,
                "2026Q1",
                NarrativeSection::EmergingTrends,
                "   "
            )),
            ["period", "text"]
        );
        assert_eq!(
            fields(narrative(
                NarrativeReturn::Annual,
                "2025-26",
                NarrativeSection::EqualityActions,
                &"x".repeat(5001)
            )),
            ["period", "text"],
            "the single-prison year is a calendar year"
        );
        let km = Profile::builtin("kent-medway").unwrap();
        let n = ReportNarrative {
            report: NarrativeReturn::Annual,
            period: "2025-26".into(),
            section: NarrativeSection::EqualityActions,
            text: "x".repeat(5000),
        };
        assert!(validate(&n, &km).is_ok());
        let six = ReportNarrative {
            report: NarrativeReturn::S4SixMonthly,
            period: "2026H1".into(),
            section: NarrativeSection::EmergingTrends,
            text: "x".into(),
        };
        assert_eq!(
            problem_fields(validate(&six, &km).unwrap_err()),
            ["return"],
            "the KM profile owes no six-monthly report"
        );
    }
}
