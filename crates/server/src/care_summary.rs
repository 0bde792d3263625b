//! The recovery-care part of a person's page: plan, goals, induction, outcomes,
//! courses of interventions and the person's own queue items, in words.

use chrono::{DateTime, NaiveDate, Utc};
use throughcare_domain::calendar::Calendar;
use throughcare_domain::case::Case;
use throughcare_domain::interventions::InterventionStatus;
use throughcare_domain::outcomes::wellbeing_change;
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::EventId;
use throughcare_domain::work_queues::work_items;

fn long(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// Summary rows of the person's recovery care.
pub fn summary(case: &Case, profile: &Profile) -> Vec<(String, String)> {
    let mut rows = vec![(
        "Keyworker".to_string(),
        case.keyworker
            .as_ref()
            .map(|k| format!("{} since {}", k.worker, long(k.allocated_on)))
            .unwrap_or_else(|| "Not allocated".into()),
    )];
    match case.care_plan() {
        None => rows.push(("Recovery care plan".into(), "None agreed".into())),
        Some((_, plan)) => {
            rows.push((
                "Recovery care plan".into(),
                format!(
                    "Agreed {} (version {}); next review {}",
                    long(plan.agreed_on),
                    case.care_plans.len(),
                    case.next_plan_review().map(long).unwrap_or_default()
                ),
            ));
            rows.push(("Goals".into(), case.current_goals().join("; ")));
            let names: Vec<String> = plan
                .interventions
                .iter()
                .map(|c| {
                    profile
                        .intervention(c)
                        .map(|d| d.name.clone())
                        .unwrap_or_else(|| c.clone())
                })
                .collect();
            rows.push(("Chosen interventions".into(), names.join("; ")));
        }
    }
    rows.push((
        "Induction".into(),
        match case.induction_completed_on() {
            Some(d) => format!("All seven items covered by {}", long(d)),
            None if case.induction.is_empty() => "Not started".into(),
            None => format!("{} of 7 items covered", case.induction.len()),
        },
    ));
    if let Some(t) = case.latest_top() {
        rows.push((
            "Latest Treatment Outcomes Profile".into(),
            format!(
                "{} ({}): psychological health {}, physical health {}, quality of life {}",
                long(t.completed_on),
                t.stage.label().to_lowercase(),
                t.psychological_health,
                t.physical_health,
                t.quality_of_life
            ),
        ));
    }
    let tops: Vec<_> = case.tops.iter().map(|(_, t)| t.clone()).collect();
    if let Some(c) = wellbeing_change(&tops) {
        rows.push((
            "Change since the start profile".into(),
            format!(
                "psychological health {:+}, physical health {:+}, quality of life {:+}",
                c.psychological_health, c.physical_health, c.quality_of_life
            ),
        ));
    }
    let waits = throughcare_domain::waits::waits(case, profile);
    if !waits.is_empty() {
        rows.push((
            "Wait from referral to start".into(),
            waits
                .iter()
                .map(|w| {
                    format!(
                        "{} {} day{}",
                        w.family.label(),
                        w.days,
                        if w.days == 1 { "" } else { "s" }
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    if let Some((_, plan)) = throughcare_domain::throughcare::release_plan(case) {
        let gaps = throughcare_domain::throughcare::plan_gaps(case);
        rows.push((
            "Release plan".into(),
            format!(
                "Agreed {}{}; {}",
                long(plan.agreed_on),
                plan.community_provider
                    .as_deref()
                    .map(|p| format!(", community provider {p}"))
                    .unwrap_or_default(),
                if gaps.is_empty() {
                    "complete".to_string()
                } else {
                    format!(
                        "lacks: {}",
                        gaps.iter()
                            .map(|g| g.label().to_lowercase())
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                }
            ),
        ));
    }
    if let Some((_, x)) = case.exits.iter().max_by_key(|(_, x)| x.exited_on) {
        rows.push((
            "Treatment exit".into(),
            format!("{}: {}", long(x.exited_on), x.reason.label()),
        ));
    }
    if let Some(c) = throughcare_domain::throughcare::continuity(case) {
        rows.push((
            "After release".into(),
            match (c.engaged_on, c.not_engaged_on) {
                (Some(on), _) => format!(
                    "Released {}; engaged with {} on {} (day {}, {} 21 days)",
                    long(c.released_on),
                    c.provider.clone().unwrap_or_default(),
                    long(on),
                    (on - c.released_on).num_days(),
                    if c.within_21_days == Some(true) {
                        "within"
                    } else {
                        "not within"
                    }
                ),
                (None, Some(on)) => format!(
                    "Released {}; not engaged with community treatment (recorded {})",
                    long(c.released_on),
                    long(on)
                ),
                (None, None) => format!(
                    "Released {}; community engagement not yet known",
                    long(c.released_on)
                ),
            },
        ));
    }
    for f in throughcare_domain::throughcare::follow_ups(case, profile) {
        rows.push((
            "12-month follow-up".into(),
            format!(
                "Released {}, window ends {}: {}",
                long(f.released_on),
                long(f.ends_on),
                f.outcome.map(|o| o.label()).unwrap_or("open")
            ),
        ));
    }
    if let Some((_, d)) = case.deaths.first() {
        rows.push((
            "Died".into(),
            format!("{} ({})", long(d.died_on), d.cause.label().to_lowercase()),
        ));
    }
    if let Some((_, x)) = &case.exclusion {
        rows.push((
            "Excluded from the service".into(),
            format!(
                "From {}: {} (commissioner consent {})",
                long(x.excluded_on),
                x.grounds.label(),
                x.commissioner_consent_ref
            ),
        ));
    }
    rows
}

/// One course of an intervention on the person page.
pub struct CourseRow {
    /// The course's first event.
    pub id: EventId,
    /// The intervention's name.
    pub name: String,
    /// What it targets.
    pub target: String,
    /// The latest step.
    pub status: String,
    /// The steps, in words with dates.
    pub steps: String,
}

/// The person's courses of interventions, newest first.
pub fn courses(case: &Case, profile: &Profile) -> Vec<CourseRow> {
    let mut rows: Vec<CourseRow> = case
        .courses
        .iter()
        .map(|c| CourseRow {
            id: c.id,
            name: profile
                .intervention(&c.intervention)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| c.intervention.clone()),
            target: c.target.label().to_string(),
            status: c
                .status()
                .map(InterventionStatus::label)
                .unwrap_or_default()
                .to_string(),
            steps: c
                .steps
                .iter()
                .map(|(s, d)| format!("{} {}", s.label(), d.format("%-d %b %Y")))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    rows.reverse();
    rows
}

/// One of the person's own queue items.
pub struct PersonWorkRow {
    /// The queue.
    pub queue: String,
    /// When due, local time.
    pub due: String,
    /// Due, Overdue or Waiting.
    pub status: String,
    /// What is due.
    pub detail: String,
    /// Whether overdue.
    pub overdue: bool,
}

/// The person's items in every work queue, overdue first.
pub fn work(
    case: &Case,
    profile: &Profile,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Vec<PersonWorkRow> {
    let mut items = work_items(case, profile, calendar, now);
    items.sort_by_key(|i| (!i.overdue, i.due));
    items
        .into_iter()
        .map(|i| PersonWorkRow {
            queue: i.queue.label().to_string(),
            due: i
                .due
                .with_timezone(&chrono_tz::Europe::London)
                .format("%-d %b %Y %H:%M")
                .to_string(),
            status: if !i.has_deadline {
                "Waiting".into()
            } else if i.overdue {
                "Overdue".into()
            } else {
                "Due".into()
            },
            detail: i.detail,
            overdue: i.overdue,
        })
        .collect()
}
