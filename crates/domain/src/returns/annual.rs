//! The annual report (S4 §6, §9–10; KM 4.18–4.24; docs/annual-report.md): over the
//! service's year (the profile's `obligations.year_starts_month`), the S4 §5 lines
//! for the core service and, separately, for the structured psychosocial
//! intervention service (S4 §10); the satisfaction survey results (S4 §6); and the
//! equality breakdown of access and outcomes by each protected characteristic and
//! each KM 4.10 under-represented group (KM 4.18–4.24). Every line is a
//! [`LineFigure`] built from the existing line functions' items, so the rows, the
//! drill-down and disclosure control work as for every other return.
//!
//! Codes: `Core S4.5.1`, `SPI S4.5.1` (the activity lines), `EQ assessed sex female`
//! (an equality category; `EQ assessed total` is the total it sums to), `Survey
//! satisfaction responses` (surveys). [`section_of`] names each code's section.

use crate::people::{
    Answer, Ethnicity, PersonDetails, PriorityGroups, Religion, Sex, SexualOrientation,
};
use crate::record_ids::PersonId;
use crate::returns::KpiFn;
use crate::returns::cut::{Cut, PersonRecord};
use crate::returns::figure::{Figure, Item, LineFigure, Measure};
use crate::returns::km_activity::kpi_1_4;
use crate::returns::km_activity_spans::course_spans;
use crate::returns::km_outcomes::{kpi_3_1, kpi_3_2};
use crate::returns::period::Period;
use crate::returns::s4;
use crate::returns::shared::structured_starts;
use crate::surveys::{SurveyKind, results_in};
use std::collections::BTreeSet;

/// The report's lines, in order: core, SPI, equality, surveys.
pub const LINES: &[KpiFn] = &[core, spi, equality, surveys];

/// The sections of the annual report, as the outputs lay them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// The S4 §5 lines for the core service and the SPI service (S4 §10).
    Activity,
    /// The equality breakdown (KM 4.18–4.24).
    Equality,
    /// The satisfaction survey results (S4 §6).
    Surveys,
}

impl Section {
    /// The section's heading (and its XLSX sheet's name).
    pub fn title(self) -> &'static str {
        match self {
            Section::Activity => "Activity and outcomes",
            Section::Equality => "Equality",
            Section::Surveys => "Surveys",
        }
    }
}

/// The section a line of the annual report belongs to, by its code.
pub fn section_of(code: &str) -> Section {
    if code.starts_with("EQ ") {
        Section::Equality
    } else if code.starts_with("Survey ") {
        Section::Surveys
    } else {
        Section::Activity
    }
}

/// The S4 §5 lines over the year for the core service: everyone in each line (S4
/// §10). Codes `Core S4.5.n`.
pub fn core(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    s4::LINES
        .iter()
        .flat_map(|f| f(cut, period))
        .map(|mut l| {
            l.code = format!("Core {}", l.code);
            l
        })
        .collect()
}

/// The people who received a structured psychosocial intervention in the year (S4
/// §10): a course of an intervention whose catalogue entry is
/// `structured_psychosocial`, in receipt during the period (D6: started by its last
/// day and not ended before its first).
pub fn spi_people(cut: &Cut<'_>, period: &Period) -> BTreeSet<PersonId> {
    cut.people
        .values()
        .filter(|p| {
            course_spans(p).iter().any(|span| {
                cut.profile
                    .intervention(span.course.code)
                    .is_some_and(|d| d.structured_psychosocial)
                    && span.days_in(period).is_some()
            })
        })
        .map(|p| p.person)
        .collect()
}

/// The S4 §5 lines over the year for the structured psychosocial intervention
/// service (S4 §10): each core line's items restricted to [`spi_people`]. S4.5.7
/// counts anonymous responses, which cannot be told apart by service, so it is
/// reported as not recorded. Codes `SPI S4.5.n`.
pub fn spi(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let people = spi_people(cut, period);
    s4::LINES
        .iter()
        .flat_map(|f| f(cut, period))
        .map(|mut l| {
            l.code = format!("SPI {}", l.code);
            l.label = format!("{} (structured psychosocial intervention service)", l.label);
            l.figure = if l.code.starts_with("SPI S4.5.7") || l.figure.has_anonymous_items() {
                Figure::NotRecorded {
                    reason: "the responses are anonymous, so they cannot be split by service"
                        .into(),
                }
            } else {
                l.figure.restricted(&people)
            };
            l
        })
        .collect()
}

/// One measure the equality tables break down (KM 4.18–4.24).
struct Measured {
    /// Its code in the line codes.
    code: &'static str,
    /// Words.
    label: &'static str,
    /// The items: one or more per person who counts.
    items: Vec<Item>,
}

/// The three measures: access (people assessed, KM 1.4's comprehensive
/// assessments; people starting structured treatment, D3) and outcomes (people
/// completing treatment successfully, KM 3.1 and 3.2).
fn measures(cut: &Cut<'_>, period: &Period) -> Vec<Measured> {
    let items_of = |lines: Vec<LineFigure>| -> Vec<Item> {
        lines
            .into_iter()
            .flat_map(|l| match l.figure {
                Figure::Count { items, .. } => items,
                _ => Vec::new(),
            })
            .collect()
    };
    let starts: Vec<Item> = cut
        .people
        .values()
        .flat_map(|p| {
            structured_starts(cut.profile, p)
                .into_iter()
                .filter(|s| period.contains(s.on))
                .map(|s| Item::event(&s.event.establishment, p.person, s.event.id, s.on))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut completed = items_of(kpi_3_1(cut, period));
    completed.extend(items_of(kpi_3_2(cut, period)));
    vec![
        Measured {
            code: "assessed",
            label: "People assessed (comprehensive assessment, KM 1.4)",
            items: items_of(kpi_1_4(cut, period)),
        },
        Measured {
            code: "started",
            label: "People starting structured treatment (D3)",
            items: starts,
        },
        Measured {
            code: "completed",
            label: "People completing treatment successfully (KM 3.1–3.2)",
            items: completed,
        },
    ]
}

/// What a category is judged from: the person's registration as the cut holds it,
/// and the case.
struct Subject<'a> {
    details: Option<&'a PersonDetails>,
    record: &'a PersonRecord,
}

/// "Not recorded": its own category in every breakdown, never dropped.
const NOT_RECORDED: (&str, &str) = ("not_recorded", "Not recorded");

/// One breakdown: its code, words, categories in order, and the person's category.
struct Dimension {
    code: &'static str,
    label: &'static str,
    categories: &'static [(&'static str, &'static str)],
    of: fn(&Subject<'_>, &Period) -> &'static str,
}

fn answer(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::NotStated => NOT_RECORDED.0,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

const YES_NO: &[(&str, &str)] = &[("yes", "Yes"), ("no", "No"), NOT_RECORDED];

/// The KM 4.10 groups on the period's first day (age), with the reception and
/// expected release of the case as the cut holds them.
fn groups(s: &Subject<'_>, period: &Period) -> Option<PriorityGroups> {
    let d = s.details?;
    let (received, expected) = match &s.record.case.custody {
        crate::custody::CustodyStatus::InCustody { received_on, .. } => {
            (Some(*received_on), s.record.case.expected_release)
        }
        _ => (None, None),
    };
    Some(PriorityGroups::of(d, period.first, received, expected))
}

/// Every breakdown of the equality tables, in order (KM 4.18–4.24, 4.10).
const DIMENSIONS: &[Dimension] = &[
    Dimension {
        code: "age",
        label: "Age at the start of the year",
        categories: &[
            ("under_18", "Under 18"),
            ("18_24", "18–24"),
            ("25_34", "25–34"),
            ("35_49", "35–49"),
            ("50_plus", "50 and over"),
            NOT_RECORDED,
        ],
        of: |s, period| match s.details.map(|d| d.age_on(period.first)) {
            None => NOT_RECORDED.0,
            Some(0..=17) => "under_18",
            Some(18..=24) => "18_24",
            Some(25..=34) => "25_34",
            Some(35..=49) => "35_49",
            Some(_) => "50_plus",
        },
    },
    Dimension {
        code: "sex",
        label: "Sex",
        categories: &[("female", "Female"), ("male", "Male"), NOT_RECORDED],
        of: |s, _| match s.details.map(|d| d.equality.sex) {
            Some(Sex::Female) => "female",
            Some(Sex::Male) => "male",
            _ => NOT_RECORDED.0,
        },
    },
    Dimension {
        code: "gender_identity",
        label: "Gender identity the same as the sex registered at birth",
        categories: YES_NO,
        of: |s, _| {
            s.details.map_or(NOT_RECORDED.0, |d| {
                answer(d.equality.gender_identity_same_as_birth)
            })
        },
    },
    Dimension {
        code: "ethnicity",
        label: "Ethnic group",
        categories: &[
            ("white", "White"),
            ("mixed", "Mixed or multiple ethnic groups"),
            ("asian", "Asian or Asian British"),
            ("black", "Black, Black British, Caribbean or African"),
            ("other", "Other ethnic group (including Arab)"),
            NOT_RECORDED,
        ],
        of: |s, _| match s.details.map(|d| d.equality.ethnicity) {
            Some(
                Ethnicity::WhiteBritish
                | Ethnicity::WhiteIrish
                | Ethnicity::WhiteGypsyTravellerRoma
                | Ethnicity::WhiteOther,
            ) => "white",
            Some(Ethnicity::Mixed) => "mixed",
            Some(Ethnicity::Asian) => "asian",
            Some(Ethnicity::Black) => "black",
            Some(Ethnicity::Arab | Ethnicity::Other) => "other",
            Some(Ethnicity::NotStated) | None => NOT_RECORDED.0,
        },
    },
    Dimension {
        code: "religion",
        label: "Religion or belief",
        categories: &[
            ("no_religion", "No religion"),
            ("christian", "Christian"),
            ("muslim", "Muslim"),
            ("hindu", "Hindu"),
            ("sikh", "Sikh"),
            ("jewish", "Jewish"),
            ("buddhist", "Buddhist"),
            ("other", "Any other religion or belief"),
            NOT_RECORDED,
        ],
        of: |s, _| match s.details.map(|d| d.equality.religion) {
            Some(Religion::NoReligion) => "no_religion",
            Some(Religion::Christian) => "christian",
            Some(Religion::Muslim) => "muslim",
            Some(Religion::Hindu) => "hindu",
            Some(Religion::Sikh) => "sikh",
            Some(Religion::Jewish) => "jewish",
            Some(Religion::Buddhist) => "buddhist",
            Some(Religion::Other) => "other",
            Some(Religion::NotStated) | None => NOT_RECORDED.0,
        },
    },
    Dimension {
        code: "sexual_orientation",
        label: "Sexual orientation",
        categories: &[
            ("heterosexual", "Heterosexual or straight"),
            ("gay_or_lesbian", "Gay or lesbian"),
            ("bisexual", "Bisexual"),
            ("other", "Another orientation"),
            NOT_RECORDED,
        ],
        of: |s, _| match s.details.map(|d| d.equality.sexual_orientation) {
            Some(SexualOrientation::Heterosexual) => "heterosexual",
            Some(SexualOrientation::GayOrLesbian) => "gay_or_lesbian",
            Some(SexualOrientation::Bisexual) => "bisexual",
            Some(SexualOrientation::Other) => "other",
            Some(SexualOrientation::NotStated) | None => NOT_RECORDED.0,
        },
    },
    Dimension {
        code: "disability",
        label: "Disability (including mental health)",
        categories: YES_NO,
        of: |s, _| {
            s.details
                .map_or(NOT_RECORDED.0, |d| answer(d.equality.disability))
        },
    },
    Dimension {
        code: "pregnancy",
        label: "Pregnant",
        categories: YES_NO,
        of: |s, _| {
            s.details
                .map_or(NOT_RECORDED.0, |d| answer(d.equality.pregnant))
        },
    },
    Dimension {
        code: "km_4_10_1_prolific_offender",
        label: "KM 4.10.1 prolific offender",
        categories: YES_NO,
        of: |s, p| groups(s, p).map_or(NOT_RECORDED.0, |g| yes_no(g.prolific_offender)),
    },
    Dimension {
        code: "km_4_10_2_young_adult",
        label: "KM 4.10.2 young adult (18 to 25 at the start of the year)",
        categories: YES_NO,
        of: |s, p| groups(s, p).map_or(NOT_RECORDED.0, |g| yes_no(g.young_adult)),
    },
    Dimension {
        code: "km_4_10_3_minority_ethnic",
        label: "KM 4.10.3 black and minority ethnic",
        categories: YES_NO,
        of: |s, p| match s.details.map(|d| d.equality.ethnicity) {
            Some(Ethnicity::NotStated) | None => NOT_RECORDED.0,
            Some(_) => groups(s, p).map_or(NOT_RECORDED.0, |g| yes_no(g.minority_ethnic)),
        },
    },
    Dimension {
        code: "km_4_10_4_dual_diagnosis",
        label: "KM 4.10.4 dual diagnosis",
        categories: YES_NO,
        of: |s, p| groups(s, p).map_or(NOT_RECORDED.0, |g| yes_no(g.dual_diagnosis)),
    },
    Dimension {
        code: "km_4_10_5_woman_or_pregnant",
        label: "KM 4.10.5 women, particularly pregnant women",
        categories: YES_NO,
        of: |s, p| match groups(s, p) {
            Some(g) if g.woman_or_pregnant => "yes",
            Some(_) if s.details.is_some_and(|d| d.equality.sex == Sex::Male) => "no",
            _ => NOT_RECORDED.0,
        },
    },
    Dimension {
        code: "km_4_10_6_short_sentence",
        label: "KM 4.10.6 short sentence (release expected within 6 months of reception)",
        categories: YES_NO,
        of: |s, p| match groups(s, p) {
            Some(g) if s.record.case.expected_release.is_some() => yes_no(g.short_sentence),
            _ => NOT_RECORDED.0,
        },
    },
];

/// The equality breakdown (KM 4.18–4.24): for each measure (people assessed,
/// people starting structured treatment, people completing treatment
/// successfully), a total line `EQ {measure} total`, then for each breakdown a line
/// per category, `EQ {measure} {breakdown} {category}`, whose people sum to the
/// total in every row (each person has one category of each; "not recorded" is a
/// category). A person counts once per row, at each establishment where they have
/// an item of the measure.
pub fn equality(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let mut out = Vec::new();
    for m in measures(cut, period) {
        let total_code = format!("EQ {} total", m.code);
        out.push(LineFigure::new(
            &total_code,
            &format!("{}: all", m.label),
            "people",
            Figure::Count {
                measure: Measure::People,
                items: m.items.clone(),
            },
        ));
        for dim in DIMENSIONS {
            for (cat, words) in dim.categories {
                let items: Vec<Item> = m
                    .items
                    .iter()
                    .filter(|i| {
                        i.person
                            .and_then(|p| cut.people.get(&p))
                            .is_some_and(|record| {
                                let s = Subject {
                                    details: record.case.details.as_ref(),
                                    record,
                                };
                                (dim.of)(&s, period) == *cat
                            })
                    })
                    .cloned()
                    .collect();
                let mut line = LineFigure::new(
                    &format!("EQ {} {} {}", m.code, dim.code, cat),
                    &format!("{} — {}: {}", m.label, dim.label, words),
                    "people",
                    Figure::Count {
                        measure: Measure::People,
                        items,
                    },
                );
                line.sums_to = Some(total_code.clone());
                out.push(line);
            }
        }
    }
    out
}

/// The satisfaction survey results for the year (S4 §6; KPI 2.19), from
/// [`crate::surveys::results_in`] for each establishment: per survey (each asks one
/// question) the responses received in the year and the % satisfied or very
/// satisfied; and the before/after change over the pairs whose after questionnaire
/// was received in the year (pairs, improved, the same, worse, and the mean change
/// in points). The responses are anonymous: each item names only its establishment.
pub fn surveys(cut: &Cut<'_>, period: &Period) -> Vec<LineFigure> {
    let within = Some((period.first, period.last));
    let mut responses: Vec<Vec<Item>> = vec![Vec::new(); SurveyKind::ALL.len()];
    let mut satisfied: Vec<Vec<Item>> = vec![Vec::new(); SurveyKind::ALL.len()];
    let (mut pairs, mut improved, mut same, mut worse) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut changes = Vec::new();
    for e in &cut.profile.establishments {
        let r = results_in(&cut.service, Some(&e.code), within);
        let item = || Item {
            establishment: e.code.clone(),
            person: None,
            event: None,
            on: None,
        };
        let n = |k: u32| (0..k).map(|_| item()).collect::<Vec<_>>();
        for (i, kind) in SurveyKind::ALL.iter().enumerate() {
            for q in r.quarters.iter().filter(|q| q.survey == *kind) {
                responses[i].extend(n(q.total()));
                satisfied[i].extend(n(q.satisfied()));
            }
        }
        pairs.extend(n(r.change.pairs));
        improved.extend(n(r.change.improved));
        same.extend(n(r.change.same));
        worse.extend(n(r.change.worse));
        changes.extend(r.change.changes.iter().map(|&c| (item(), i64::from(c))));
    }
    let mut out = Vec::new();
    for (i, kind) in SurveyKind::ALL.iter().enumerate() {
        out.push(LineFigure::new(
            &format!("Survey {} responses", kind.code()),
            &format!("{}: responses received — {}", kind.label(), kind.question()),
            "responses",
            Figure::Count {
                measure: Measure::Events,
                items: responses[i].clone(),
            },
        ));
        out.push(LineFigure::new(
            &format!("Survey {} satisfied", kind.code()),
            &format!("{}: % satisfied or very satisfied", kind.label()),
            "%",
            Figure::Proportion {
                measure: Measure::Events,
                numerator: satisfied[i].clone(),
                denominator: responses[i].clone(),
            },
        ));
    }
    let count = |code: &str, label: &str, items: Vec<Item>| {
        LineFigure::new(
            code,
            label,
            "responses",
            Figure::Count {
                measure: Measure::Events,
                items,
            },
        )
    };
    out.push(count(
        "Survey change pairs",
        "Before and after questionnaires paired (after received in the year)",
        pairs,
    ));
    out.push(count(
        "Survey change improved",
        "Pairs where the after score is higher",
        improved,
    ));
    out.push(count(
        "Survey change same",
        "Pairs with the same score",
        same,
    ));
    out.push(count(
        "Survey change worse",
        "Pairs where the after score is lower",
        worse,
    ));
    out.push(LineFigure::new(
        "Survey change mean",
        "Mean change from before to after, in points (5 very satisfied to 1)",
        "points",
        Figure::Mean {
            values: changes,
            latest_per_person: false,
        },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{
        Assessment, AssessmentKind, ComprehensiveItems, FamilyIssues, RiskLevel,
    };
    use crate::custody::{Reception, ReceptionType};
    use crate::events::EventKind;
    use crate::interventions::{InterventionStatus, InterventionTarget, InterventionUpdate};
    use crate::people::PersonDetails;
    use crate::profile::Profile;
    use crate::returns::disclosure::{Cell, DisclosureRule};
    use crate::returns::figure::{RowKey, Value};
    use crate::returns::testkit::{count, record_at, value};
    use crate::returns::{Return, ReturnKind};
    use crate::testkit::{Log, at, d, details, midday};

    /// A log for the single-prison profile (its year is the calendar year), with
    /// every fact appended on 10 January 2026.
    fn prison_log() -> Log {
        let mut log = Log::new();
        log.profile = Profile::builtin("single-prison").unwrap();
        log.calendar = log.profile.calendar();
        log.establishment = log.profile.establishments[0].code.clone();
        log.now = at("2026-01-10T10:00:00Z");
        log
    }

    /// The annual report for 2025 as at 15 January 2026.
    fn annual(log: &Log) -> Return {
        let year = Period::annual(2025, log.profile.obligations.year_starts_month).unwrap();
        assert_eq!(year.name, "2025");
        Return::compute(
            ReturnKind::Annual,
            &log.profile,
            &log.events,
            at("2026-01-15T10:00:00Z"),
            &year,
        )
    }

    fn prison(log: &Log) -> RowKey {
        RowKey::Establishment(log.establishment.clone())
    }

    /// Registers the nth person with `edit` applied to their details, and receives
    /// them on 2 January 2024.
    fn person(log: &mut Log, n: u64, edit: impl FnOnce(&mut PersonDetails)) -> PersonId {
        let p = PersonId(uuid::Uuid::from_u64_pair(7, n));
        let mut x = details(&format!("A{n:04}BC"));
        edit(&mut x);
        record_at(log, p, midday("2024-01-02"), EventKind::PersonRegistered(x));
        record_at(
            log,
            p,
            midday("2024-01-02"),
            EventKind::Received(Reception {
                reception_type: ReceptionType::Sentenced,
                source_ref: None,
            }),
        );
        p
    }

    fn comprehensive(on: &str) -> EventKind {
        EventKind::AssessmentCompleted(Assessment {
            kind: AssessmentKind::Comprehensive,
            assessed_on: d(on),
            referral: None,
            summary: "Comprehensive assessment".into(),
            structured_treatment_needed: true,
            comprehensive: Some(ComprehensiveItems {
                needs_and_goals: "Stay off heroin".into(),
                family: FamilyIssues::default(),
                other_agencies: vec![],
                onward_referrals: vec![],
                information_handling_explained: true,
                ndtms_consent: true,
                risk_of_self_harm: RiskLevel::Low,
                risk_to_others: RiskLevel::None,
                existing_risk_management_plans: false,
                risk_management_plan: "None needed".into(),
                complex_needs: false,
            }),
        })
    }

    fn started(code: &str, on: &str) -> EventKind {
        EventKind::InterventionUpdated(InterventionUpdate {
            intervention: code.into(),
            target: InterventionTarget::Opiates,
            status: InterventionStatus::Started,
            on: d(on),
            course: None,
            language: None,
            note: None,
        })
    }

    #[test]
    fn core_and_spi_lines_equality_categories_and_a_km_4_10_group() {
        let mut log = prison_log();
        // A: female, black, born 1 June 2003 (21 on 1 January 2025: 18–24, a young
        // adult); assessed 1 February 2025; the structured psychosocial course
        // `spi` started 1 March 2025.
        let a = person(&mut log, 1, |x| {
            x.equality.sex = Sex::Female;
            x.equality.ethnicity = Ethnicity::Black;
            x.date_of_birth = d("2003-06-01");
        });
        log.record(a, comprehensive("2025-02-01")).unwrap();
        log.record(a, started("spi", "2025-03-01")).unwrap();
        // B: nothing recorded but the date of birth (1 April 1990: 34, 25–34);
        // assessed 1 May 2025; keyworking (not SPI) started 1 April 2025.
        let b = person(&mut log, 2, |_| {});
        log.record(b, comprehensive("2025-05-01")).unwrap();
        log.record(b, started("keyworking", "2025-04-01")).unwrap();
        // C: male, assessed 15 December 2024 and 2 January 2026: outside the year.
        let c = person(&mut log, 3, |x| x.equality.sex = Sex::Male);
        log.record(c, comprehensive("2024-12-15")).unwrap();
        log.now = at("2026-01-12T10:00:00Z");
        log.record(c, comprehensive("2026-01-02")).unwrap();

        let r = annual(&log);
        let row = prison(&log);
        // Offered (S4.5.2; a course's first step is an offer): core {A, B} = 2; SPI:
        // only A received a structured psychosocial intervention = 1.
        assert_eq!(count(&r, "Core S4.5.2", &row), 2);
        assert_eq!(count(&r, "SPI S4.5.2", &row), 1);
        // Engaged (S4.5.3; the started step): core 2 of 2, SPI 1 of 1.
        assert_eq!(value(&r, "Core S4.5.3", &row).parts(), Some((2, 2)));
        assert_eq!(value(&r, "SPI S4.5.3", &row).parts(), Some((1, 1)));
        // S4.5.7 is anonymous: not split by service.
        assert!(matches!(
            value(&r, "SPI S4.5.7 pre", &row),
            Value::NotRecorded(_)
        ));
        assert_eq!(section_of("SPI S4.5.1"), Section::Activity);

        // People assessed in 2025: {A, B} = 2 (C's assessments are outside it).
        assert_eq!(count(&r, "EQ assessed total", &row), 2);
        // Sex: female A = 1, male 0 (C does not count), not recorded B = 1.
        assert_eq!(count(&r, "EQ assessed sex female", &row), 1);
        assert_eq!(count(&r, "EQ assessed sex male", &row), 0);
        assert_eq!(count(&r, "EQ assessed sex not_recorded", &row), 1);
        // Age at 1 January 2025: A 21, B 34.
        assert_eq!(count(&r, "EQ assessed age 18_24", &row), 1);
        assert_eq!(count(&r, "EQ assessed age 25_34", &row), 1);
        assert_eq!(count(&r, "EQ assessed age 50_plus", &row), 0);
        // Ethnic group: black A; B not recorded.
        assert_eq!(count(&r, "EQ assessed ethnicity black", &row), 1);
        assert_eq!(count(&r, "EQ assessed ethnicity not_recorded", &row), 1);
        // KM 4.10.2 young adult: A yes, B no; KM 4.10.3: A yes, B not recorded.
        assert_eq!(count(&r, "EQ assessed km_4_10_2_young_adult yes", &row), 1);
        assert_eq!(count(&r, "EQ assessed km_4_10_2_young_adult no", &row), 1);
        assert_eq!(
            count(&r, "EQ assessed km_4_10_3_minority_ethnic yes", &row),
            1
        );
        assert_eq!(
            count(
                &r,
                "EQ assessed km_4_10_3_minority_ethnic not_recorded",
                &row
            ),
            1
        );
        // Structured starts in 2025: A's `spi` and B's keyworking (both structured
        // in the single-prison catalogue) = 2; completions: none.
        assert_eq!(count(&r, "EQ started total", &row), 2);
        assert_eq!(count(&r, "EQ completed total", &row), 0);
        // Every breakdown's categories sum to its total.
        for dim in DIMENSIONS {
            let sum: i64 = dim
                .categories
                .iter()
                .map(|(c, _)| count(&r, &format!("EQ assessed {} {c}", dim.code), &row))
                .sum();
            assert_eq!(sum, 2, "{}", dim.code);
        }
    }

    #[test]
    fn survey_lines_count_the_years_responses_and_the_change_over_its_pairs() {
        use crate::surveys::{
            Rating, SurveyCode, SurveyCodeIssued, SurveyKind, SurveyResponse, pair_key,
        };
        let mut log = prison_log();
        // One code per answer: (code, survey, pair, issued and answered on, rating).
        let answers = [
            // Satisfaction: two in 2025 (one satisfied), one in 2024 that must not count.
            (
                "AAA-AAA-AAA",
                SurveyKind::Satisfaction,
                None,
                "2025-03-01",
                Rating::VerySatisfied,
            ),
            (
                "MMM-MMM-MMM",
                SurveyKind::Satisfaction,
                None,
                "2025-06-01",
                Rating::Dissatisfied,
            ),
            (
                "CCC-CCC-CCC",
                SurveyKind::Satisfaction,
                None,
                "2024-11-01",
                Rating::Satisfied,
            ),
            // Pair k1: dissatisfied (2) → satisfied (4): +2.
            (
                "DDD-DDD-DDD",
                SurveyKind::ExperiencePre,
                Some(1),
                "2025-02-01",
                Rating::Dissatisfied,
            ),
            (
                "EEE-EEE-EEE",
                SurveyKind::ExperiencePost,
                Some(1),
                "2025-08-01",
                Rating::Satisfied,
            ),
            // Pair k2: satisfied (4) → neither (3): −1.
            (
                "FFF-FFF-FFF",
                SurveyKind::ExperiencePre,
                Some(2),
                "2025-02-02",
                Rating::Satisfied,
            ),
            (
                "NNN-NNN-NNN",
                SurveyKind::ExperiencePost,
                Some(2),
                "2025-09-02",
                Rating::Neither,
            ),
            // Pair k3: its after answer came in 2026, so it is not a pair of 2025.
            (
                "HHH-HHH-HHH",
                SurveyKind::ExperiencePre,
                Some(3),
                "2025-10-01",
                Rating::Neither,
            ),
            (
                "KKK-KKK-KKK",
                SurveyKind::ExperiencePost,
                Some(3),
                "2026-01-05",
                Rating::VerySatisfied,
            ),
        ];
        for (code, survey, pair, on, rating) in answers {
            let code_hash = SurveyCode::parse(code).unwrap().hash();
            log.record_service(EventKind::SurveyCodeIssued(SurveyCodeIssued {
                code_hash: code_hash.clone(),
                survey,
                issued_on: d(on),
                pair: pair.map(|n| pair_key(PersonId(uuid::Uuid::from_u64_pair(9, n)), 1)),
            }))
            .unwrap();
            log.record_service(EventKind::SurveyResponseRecorded(SurveyResponse {
                code_hash: Some(code_hash),
                survey,
                received_on: d(on),
                rating,
                comments: None,
            }))
            .unwrap();
        }
        let r = annual(&log);
        let here = prison(&log);
        assert_eq!(count(&r, "Survey satisfaction responses", &here), 2);
        assert_eq!(
            value(&r, "Survey satisfaction satisfied", &here),
            Value::Percent {
                numerator: 1,
                denominator: 2
            }
        );
        assert_eq!(count(&r, "Survey experience_post responses", &here), 2);
        assert_eq!(count(&r, "Survey change pairs", &here), 2);
        assert_eq!(count(&r, "Survey change improved", &here), 1);
        assert_eq!(count(&r, "Survey change worse", &here), 1);
        // (+2 − 1) / 2 = 0.5 points.
        assert_eq!(
            value(&r, "Survey change mean", &here),
            Value::Mean { sum: 1, count: 2 }
        );
    }

    #[test]
    fn a_single_small_equality_cell_is_joined_by_a_second_suppressed_one() {
        let mut log = prison_log();
        // Twelve people assessed in 2025: 3 women and 9 men, all born 1 April 1990.
        for n in 1..=12 {
            let sex = if n <= 3 { Sex::Female } else { Sex::Male };
            let p = person(&mut log, n, |x| x.equality.sex = sex);
            log.record(p, comprehensive("2025-06-01")).unwrap();
        }
        let r = annual(&log);
        let table = DisclosureRule::default().apply(&r);
        let cell = |code: &str| -> Cell {
            table
                .iter()
                .find(|(c, _)| c == code)
                .unwrap_or_else(|| panic!("no {code}"))
                .1[&prison(&log)]
                .clone()
        };
        // Total 12 → 10 (shown). Women 3 → suppressed; men 9 → 10 would give the
        // women away (10 − 10 = 0 is wrong, but 12 − 9 = 3 from exact figures of
        // other tables), so the smallest shown non-zero category, men, goes too.
        assert_eq!(cell("EQ assessed total"), Cell::Rounded(10));
        assert_eq!(cell("EQ assessed sex female"), Cell::Suppressed);
        assert_eq!(cell("EQ assessed sex male"), Cell::SecondarySuppressed);
        assert_eq!(cell("EQ assessed sex not_recorded"), Cell::Rounded(0));
        // The age breakdown has no small cell: 12 → 10 in 25–34, nothing suppressed.
        assert_eq!(cell("EQ assessed age 25_34"), Cell::Rounded(10));
        assert_eq!(cell("EQ assessed age 18_24"), Cell::Rounded(0));
        // Without secondary suppression, only the small cell goes.
        let plain = DisclosureRule {
            secondary: false,
            ..DisclosureRule::default()
        }
        .apply(&r);
        let male = plain
            .iter()
            .find(|(c, _)| c == "EQ assessed sex male")
            .unwrap();
        assert_eq!(male.1[&prison(&log)], Cell::Rounded(10));
    }
}
