//! Work queues: every clock of a person's care as an item due at an instant, so a
//! worker's or an establishment's list can put overdue first and, within that,
//! people whose offending is linked to their substance use (S4 §1). REQUIREMENTS
//! "Clocks, exactly" defines each clock; the paragraph is on each queue below.

use crate::calendar::Calendar;
use crate::case::Case;
use crate::clinical::ClinicalStep;
use crate::clocks::open_assessment_clocks;
use crate::custody::CustodyStatus;
use crate::first_night::{first_night_due, stops_overnight};
use crate::instruments::AuditZone;
use crate::interventions::InterventionStatus;
use crate::labelled_enum;
use crate::outcomes::{TopStage, next_top_due};
use crate::profile::Profile;
use crate::recovery::induction_revisit_due;
use crate::referrals::ReferralClosureReason;
use crate::time::{local_date, local_instant};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

/// How far ahead a date-based item appears in a queue before it is due.
pub const QUEUE_HORIZON_DAYS: i64 = 14;

labelled_enum! {
    /// The work queues (REQUIREMENTS §12).
    pub enum QueueKind {
        /// KM 4.17: seen and prescribed within 4 hours (08:00–22:00).
        FirstNight = ("first_night", "First-night prescribing (4 hours, KM 4.17)"),
        /// KM 4.17: symptomatic relief while the clock is stopped overnight.
        SymptomaticRelief = ("symptomatic_relief", "Symptomatic relief overnight (KM 4.17)"),
        /// S4 §3: first assessment within five working days of referral.
        Assessment = ("assessment", "First assessment (S4 §3)"),
        /// KM 4.29: a treatment start recorded within 24 hours of the triage date.
        TreatmentStart = ("treatment_start", "Treatment start to record (KM 4.29)"),
        /// KM 3.7: TOP at treatment start, then at least every 26 weeks.
        Top = ("top", "Treatment Outcomes Profile (KM 3.7)"),
        /// KM 3.5–3.6: induction at planning, revisited at least every 3 months.
        Induction = ("induction", "Induction or revisit (KM 3.5–3.6)"),
        /// KM 3.7: recovery care plan reviews at set intervals.
        CarePlanReview = ("care_plan_review", "Care plan review (KM 3.7)"),
        /// KM 3.7: the comprehensive assessment updated at regular intervals.
        Reassessment = ("reassessment", "Reassessment (KM 3.7)"),
        /// KM 4.8.3: a need found at screening and nothing offered yet.
        NeedNotOffered = ("need_not_offered", "Need found, nothing offered (KM 4.8.3)"),
        /// S4 §4: drinking at increasing or higher risk, no structured advice given.
        AlcoholAdvice = ("alcohol_advice", "No structured alcohol advice yet (S4 §4)"),
        /// S4 §1: people who declined, dropped out or never engaged, until they re-engage.
        ReEngagement = ("re_engagement", "Re-engagement (S4 §1)"),
        /// KPIs 3.4–3.7: each release's 12-month follow-up, closed with an outcome.
        FollowUp = ("follow_up", "12-month follow-up after release (KPIs 3.4–3.7)"),
        /// S4 §3: a summary to the offender manager after each episode of intervention.
        OffenderManagerSummary = ("offender_manager_summary", "Summary to the offender manager (S4 §3)"),
    }
}

/// One thing to do for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem {
    /// Which queue.
    pub queue: QueueKind,
    /// When it is due (for a date, the end of that day, local time).
    pub due: DateTime<Utc>,
    /// Whether the clock has run out.
    pub overdue: bool,
    /// Whether the item has a deadline at all: the waiting lists (KM 4.8.3, S4 §4)
    /// have none in the specifications and show the date the need was found.
    pub has_deadline: bool,
    /// What is due, in words.
    pub detail: String,
}

impl WorkItem {
    /// Whole minutes left until due (negative once overdue): the live first-night clock.
    pub fn minutes_left(&self, now: DateTime<Utc>) -> i64 {
        (self.due - now).num_minutes()
    }
}

/// The end of a local day: the instant a date-based clock runs out.
pub fn end_of_day(d: NaiveDate) -> DateTime<Utc> {
    local_instant(d + Duration::days(1), NaiveTime::MIN)
}

fn dated(queue: QueueKind, due_on: NaiveDate, now: DateTime<Utc>, detail: String) -> WorkItem {
    let due = end_of_day(due_on);
    WorkItem {
        queue,
        due,
        overdue: now >= due,
        has_deadline: true,
        detail,
    }
}

fn waiting(queue: QueueKind, since: NaiveDate, detail: String) -> WorkItem {
    WorkItem {
        queue,
        due: end_of_day(since),
        overdue: false,
        has_deadline: false,
        detail,
    }
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// A treatment episode: from its first structured start to its exit, if it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Episode {
    /// The first structured start of the episode.
    pub started_on: NaiveDate,
    /// When it ended (`treatment_exited`), if it has.
    pub exited_on: Option<NaiveDate>,
}

/// The person's latest treatment episode: open when a structured start follows the
/// latest exit (or there is no exit); otherwise the episode that exit ended.
pub fn current_episode(case: &Case, profile: &Profile) -> Option<Episode> {
    let mut exits: Vec<NaiveDate> = case.exits.iter().map(|(_, e)| e.exited_on).collect();
    exits.sort();
    let last_exit = exits.last().copied();
    if let Some(started_on) = treatment_starts(case, profile)
        .filter(|s| last_exit.is_none_or(|x| *s > x))
        .min()
    {
        return Some(Episode {
            started_on,
            exited_on: None,
        });
    }
    let exit = last_exit?;
    let before = exits.iter().rev().nth(1).copied();
    let started_on = treatment_starts(case, profile)
        .filter(|s| *s <= exit && before.is_none_or(|b| *s > b))
        .min()?;
    Some(Episode {
        started_on,
        exited_on: Some(exit),
    })
}

/// The date structured treatment started in the latest episode: the first start of
/// a catalogue intervention that counts as structured treatment, or of prescribing
/// or a detoxification (KM 4.29; the TOP clock).
pub fn treatment_started_on(case: &Case, profile: &Profile) -> Option<NaiveDate> {
    current_episode(case, profile).map(|e| e.started_on)
}

/// Every date structured treatment was started: the start of a catalogue
/// intervention that counts as structured treatment, or of prescribing or a
/// detoxification (KM 4.29).
fn treatment_starts<'a>(
    case: &'a Case,
    profile: &'a Profile,
) -> impl Iterator<Item = NaiveDate> + 'a {
    let courses = case.courses.iter().filter_map(|c| {
        let def = profile.intervention(&c.intervention)?;
        if def.structured_treatment {
            c.date_of(InterventionStatus::Started)
        } else {
            None
        }
    });
    let clinical = case
        .clinical
        .iter()
        .filter(|(_, c)| c.step.starts_treatment())
        .map(|(_, c)| local_date(c.at));
    courses.chain(clinical)
}

/// Every queue item for one person as at `now`: overdue items, items due within
/// [`QUEUE_HORIZON_DAYS`], live first-night clocks and the waiting lists. People
/// excluded from the service (KM 4.9) have none beyond their first-assessment
/// clocks; people who have left custody have those, the exit TOP, re-engagement and
/// follow-up; people who have died have only their open follow-ups.
///
/// This is [`items_in_force`] on `now`'s day, with `overdue` and the horizon
/// applied at `now`: the same definition the queue projection stores by
/// [`queue_segments`] (issue 15), so the two cannot differ.
pub fn work_items(
    case: &Case,
    profile: &Profile,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Vec<WorkItem> {
    let today = local_date(now);
    let mut items = items_in_force(case, profile, calendar, today);
    for i in &mut items {
        i.overdue = is_overdue(i, now);
    }
    items.retain(|i| in_horizon(i, today));
    items
}

/// Whether an item's clock has run out at `now` (waiting lists never do).
pub fn is_overdue(item: &WorkItem, now: DateTime<Utc>) -> bool {
    item.has_deadline && now >= item.due
}

/// The last instant an item with a deadline is shown ahead of being due, on `today`.
pub fn horizon_end(today: NaiveDate) -> DateTime<Utc> {
    end_of_day(today + Duration::days(QUEUE_HORIZON_DAYS))
}

/// Whether an item is in a queue on `today`: overdue or due within
/// [`QUEUE_HORIZON_DAYS`], a live first-night clock, or a waiting list.
pub fn in_horizon(item: &WorkItem, today: NaiveDate) -> bool {
    !item.has_deadline || item.due <= horizon_end(today) || item.queue == QueueKind::FirstNight
}

/// Every obligation open for one person on `today`, whatever its due date, with
/// `overdue` unset: what [`work_items`] shows, before the horizon and the clock.
/// It changes from one day to the next only on the days [`changes_on`] lists (a
/// test holds it to that), which is what lets it be stored.
pub fn items_in_force(
    case: &Case,
    profile: &Profile,
    calendar: &Calendar,
    today: NaiveDate,
) -> Vec<WorkItem> {
    let now = local_instant(today, NaiveTime::MIN);
    let mut items = if !case.deaths.is_empty() {
        // A death stops every clock but the follow-up of each release, due at once
        // when the death is within its window, until it is closed (KPI 3.7).
        let mut items = Vec::new();
        follow_up_items(case, profile, now, &mut items);
        items
    } else {
        live_items(case, profile, calendar, today, now)
    };
    for i in &mut items {
        i.overdue = false;
    }
    items
}

fn live_items(
    case: &Case,
    profile: &Profile,
    calendar: &Calendar,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<WorkItem> {
    let mut items: Vec<WorkItem> = open_assessment_clocks(
        case,
        calendar,
        profile.clocks.first_assessment_working_days,
        today,
    )
    .into_iter()
    // A referral made in custody lapses with release: the prison team can no longer
    // assess the person (one made after release, in the community, still counts).
    .filter(|c| match case.custody {
        CustodyStatus::Left { on, .. } => c.referred_on > on,
        _ => true,
    })
    .map(|c| {
        dated(
            QueueKind::Assessment,
            c.due_on,
            now,
            format!(
                "Referral of {} ({})",
                long_date(c.referred_on),
                c.source.label()
            ),
        )
    })
    .collect();
    if case.exclusion_on(today).is_some() {
        return items;
    }
    match case.custody {
        CustodyStatus::InCustody { .. } => {
            first_night(case, now, &mut items);
            care_clocks(case, profile, now, &mut items);
            waiting_lists(case, profile, &mut items);
        }
        CustodyStatus::Left { .. } => top_clock(case, profile, now, &mut items),
        CustodyStatus::NotYetReceived => {}
    }
    after_treatment(case, profile, now, &mut items);
    items
}

/// The days on which [`items_in_force`] may change without a new event: an
/// exclusion starting and ending (KM 4.9), consent to offender-manager summaries
/// taking effect (S4 §3), and the day after the 21-day continuity window when no
/// community treatment was recorded (S4 §1 re-engagement).
pub fn changes_on(case: &Case) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    if let Some((_, x)) = &case.exclusion {
        days.push(x.excluded_on);
        if let Some(until) = x.until {
            days.push(until + Duration::days(1));
        }
    }
    if let Some(crate::consent::ConsentState::Given { on }) = case
        .consents
        .state(crate::consent::ConsentPurpose::OffenderManagementSummaries)
    {
        days.push(on);
    }
    if let Some(c) = crate::throughcare::continuity(case) {
        days.push(c.released_on + Duration::days(crate::release::CONTINUITY_DAYS + 1));
    }
    days.sort();
    days.dedup();
    days
}

/// The items in force over one span of days (issue 15: a queue projection row
/// set): from `from` (or always, when `None`) until the day before `until` (or for
/// good, when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSegment {
    /// The first day the items are in force, if they have a start.
    pub from: Option<NaiveDate>,
    /// The first day they are no longer in force, if they end.
    pub until: Option<NaiveDate>,
    /// The items, `overdue` unset.
    pub items: Vec<WorkItem>,
}

/// A person's queue items over all time, as spans of days between the days of
/// [`changes_on`], adjacent equal spans joined and empty ones dropped. The queue on
/// a day is the span holding that day, with the horizon and the clock applied
/// ([`in_horizon`], [`is_overdue`]); a test holds this equal to [`work_items`].
pub fn queue_segments(case: &Case, profile: &Profile, calendar: &Calendar) -> Vec<QueueSegment> {
    let days = changes_on(case);
    let mut spans: Vec<QueueSegment> = Vec::new();
    let mut starts: Vec<Option<NaiveDate>> = vec![None];
    starts.extend(days.iter().copied().map(Some));
    for (i, from) in starts.iter().enumerate() {
        let until = days.get(i).copied();
        let probe = match (from, until) {
            (Some(f), _) => *f,
            (None, Some(u)) => u - Duration::days(1),
            // No day changes anything: any day will do.
            (None, None) => NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
        };
        let items = items_in_force(case, profile, calendar, probe);
        match spans.last_mut() {
            Some(last) if last.items == items => last.until = until,
            _ => spans.push(QueueSegment {
                from: *from,
                until,
                items,
            }),
        }
    }
    spans.retain(|s| !s.items.is_empty());
    spans
}

/// S4 §1: the re-engagement list; KPIs 3.4–3.7: each release's 12-month follow-up,
/// due when the window ends (or at once when a death or reoffence in it is known).
/// Days after a course ends by which its summary to the offender manager is due (the
/// specs set no time: a week, so it is sent while the episode is fresh).
pub const SUMMARY_DUE_DAYS: i64 = 7;

/// S4 §3: after each episode of intervention (a course completed or dropped out), a
/// summary to the offender manager — where the person consents to such summaries
/// (without consent nothing may be shared, so nothing is due).
fn summaries_due(case: &Case, profile: &Profile, now: DateTime<Utc>, items: &mut Vec<WorkItem>) {
    let today = local_date(now);
    if !case.consents.is_live(
        crate::consent::ConsentPurpose::OffenderManagementSummaries,
        today,
    ) {
        return;
    }
    for c in &case.courses {
        let Some((status, ended)) = c.steps.last().copied() else {
            continue;
        };
        if !matches!(
            status,
            InterventionStatus::Completed | InterventionStatus::DroppedOut
        ) {
            continue;
        }
        let sent = case.disclosures.iter().any(|(_, d)| {
            d.recipient == crate::sharing::Recipient::OffenderManagement
                && (d.about.map(|a| case.identity(a)) == Some(c.id) || d.shared_on >= ended)
        });
        if !sent {
            let name = profile
                .intervention(&c.intervention)
                .map(|d| d.name.as_str())
                .unwrap_or(c.intervention.as_str());
            items.push(dated(
                QueueKind::OffenderManagerSummary,
                ended + Duration::days(SUMMARY_DUE_DAYS),
                now,
                format!(
                    "{name}: {} {}",
                    status.label().to_lowercase(),
                    long_date(ended)
                ),
            ));
        }
    }
}

fn after_treatment(case: &Case, profile: &Profile, now: DateTime<Utc>, items: &mut Vec<WorkItem>) {
    summaries_due(case, profile, now, items);
    if let Some(r) = crate::throughcare::re_engagement(case, local_date(now)) {
        items.push(dated(
            QueueKind::ReEngagement,
            r.next_due,
            now,
            format!(
                "{} on {}; {} attempt{} since",
                r.why,
                long_date(r.since),
                r.attempts,
                if r.attempts == 1 { "" } else { "s" }
            ),
        ));
    }
    follow_up_items(case, profile, now, items);
}

/// KPIs 3.4–3.7: each open follow-up window, due when it ends, or at once (on the
/// day) when a death or reoffence within it is known.
fn follow_up_items(case: &Case, profile: &Profile, now: DateTime<Utc>, items: &mut Vec<WorkItem>) {
    for f in crate::throughcare::follow_ups(case, profile) {
        if f.outcome.is_some() {
            continue;
        }
        let in_window = |d: NaiveDate| d >= f.released_on && d <= f.ends_on;
        // Due at once when the outcome is already known: a death or reoffence in
        // the window, or a deportation (no follow-up is possible).
        let deported = case
            .releases
            .iter()
            .any(|r| r.id == f.release && r.kind == crate::custody::ReleaseKind::Deported);
        let known = case
            .deaths
            .iter()
            .map(|(_, d)| d.died_on)
            .chain(case.reoffences.iter().map(|(_, r)| r.offended_on))
            .filter(|d| in_window(*d))
            .chain(deported.then_some(f.released_on))
            .min();
        items.push(dated(
            QueueKind::FollowUp,
            known.unwrap_or(f.ends_on),
            now,
            format!(
                "Released {}: 12 months end {}",
                long_date(f.released_on),
                long_date(f.ends_on)
            ),
        ));
    }
}

/// KM 4.17: each first-night need not yet answered by a doctor or a prescription
/// is a live clock; if the clock stops overnight, symptomatic relief is due until
/// it is recorded.
fn first_night(case: &Case, now: DateTime<Utc>, items: &mut Vec<WorkItem>) {
    for (_, need) in case
        .clinical
        .iter()
        .filter(|(_, c)| c.step == ClinicalStep::FirstNightNeed)
    {
        let answered = |pred: &dyn Fn(&ClinicalStep) -> bool| {
            case.clinical
                .iter()
                .any(|(_, c)| c.at >= need.at && pred(&c.step))
        };
        if answered(&|s| s.stops_first_night_clock()) {
            continue;
        }
        let due = first_night_due(need.at);
        let at = need
            .at
            .with_timezone(&chrono_tz::Europe::London)
            .format("%H:%M on %-d %B");
        items.push(WorkItem {
            queue: QueueKind::FirstNight,
            due,
            overdue: now >= due,
            has_deadline: true,
            detail: format!("Need recorded at {at}"),
        });
        if stops_overnight(need.at) && !answered(&|s| *s == ClinicalStep::SymptomaticRelief) {
            let ten_pm = local_instant(
                local_date(need.at),
                NaiveTime::from_hms_opt(22, 0, 0).unwrap_or(NaiveTime::MIN),
            );
            // Recorded within hours, the clock stops at 22:00; recorded overnight,
            // it is stopped from the start.
            let eight_am = local_instant(
                local_date(need.at),
                NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
            );
            let stops_at = if need.at >= eight_am && need.at < ten_pm {
                ten_pm
            } else {
                need.at
            };
            items.push(WorkItem {
                queue: QueueKind::SymptomaticRelief,
                due: stops_at,
                overdue: now >= stops_at,
                has_deadline: true,
                detail: format!("Clock stops overnight; need recorded at {at}"),
            });
        }
    }
}

/// KM 3.7: a TOP at treatment start, then no more than 26 weeks after the last;
/// and at exit (REQUIREMENTS "Clocks"), after which the clock stops until a new start.
fn top_clock(case: &Case, profile: &Profile, now: DateTime<Utc>, items: &mut Vec<WorkItem>) {
    let Some(episode) = current_episode(case, profile) else {
        return;
    };
    let start = episode.started_on;
    let tops: Vec<_> = case
        .tops
        .iter()
        .map(|(_, t)| t)
        .filter(|t| t.completed_on >= start)
        .collect();
    if let Some(exit) = episode.exited_on {
        if !tops.iter().any(|t| t.stage == TopStage::Exit) {
            items.push(dated(
                QueueKind::Top,
                exit,
                now,
                format!("Treatment ended {}: exit profile due", long_date(exit)),
            ));
        }
        return;
    }
    match tops.iter().map(|t| t.completed_on).max() {
        None => items.push(dated(
            QueueKind::Top,
            start,
            now,
            format!("Treatment started {}: start profile due", long_date(start)),
        )),
        Some(last) => items.push(dated(
            QueueKind::Top,
            next_top_due(last, profile.clocks.top_interval_weeks),
            now,
            format!("Last profile {}", long_date(last)),
        )),
    }
}

fn care_clocks(case: &Case, profile: &Profile, now: DateTime<Utc>, items: &mut Vec<WorkItem>) {
    let clocks = &profile.clocks;
    // KM 4.29: the latest triage that found a need for structured treatment, until
    // a start that answers it: one on or after the triage, or one earlier in the
    // same stay in custody (prescribing on the first night, before the triage, is
    // already treatment). A start in an earlier stay does not answer it.
    if let Some(triage) = case
        .assessments
        .iter()
        .filter(|(_, a)| a.structured_treatment_needed)
        .map(|(_, a)| a.assessed_on)
        .max()
        && !treatment_starts(case, profile)
            .any(|s| s >= case.received_on().map_or(triage, |r| r.min(triage)))
    {
        items.push(dated(
            QueueKind::TreatmentStart,
            triage + Duration::days(1),
            now,
            format!("Triaged on {}", long_date(triage)),
        ));
    }
    top_clock(case, profile, now, items);
    // KM 3.7: the comprehensive assessment updated at regular intervals, whether or
    // not a plan has been agreed yet.
    if let Some(last) = case
        .assessments
        .iter()
        .filter(|(_, a)| a.comprehensive.is_some())
        .map(|(_, a)| a.assessed_on)
        .max()
    {
        items.push(dated(
            QueueKind::Reassessment,
            last + Duration::weeks(i64::from(clocks.reassessment_weeks)),
            now,
            format!("Comprehensive assessment {}", long_date(last)),
        ));
    }
    let Some((_, plan)) = case.care_plan() else {
        return;
    };
    // KM 3.5–3.6.
    let first_plan = case
        .care_plans
        .iter()
        .map(|(_, p)| p.agreed_on)
        .min()
        .unwrap_or(plan.agreed_on);
    match case.induction_completed_on() {
        None => items.push(dated(
            QueueKind::Induction,
            first_plan,
            now,
            format!(
                "Induction at recovery planning: {} of 7 items covered",
                case.induction.len()
            ),
        )),
        Some(done) => items.push(dated(
            QueueKind::Induction,
            induction_revisit_due(done, clocks.induction_revisit_months),
            now,
            format!("Revisit: induction last completed {}", long_date(done)),
        )),
    }
    if let Some(review) = case.next_plan_review() {
        items.push(dated(
            QueueKind::CarePlanReview,
            review,
            now,
            format!("Plan agreed {}", long_date(plan.agreed_on)),
        ));
    }
}

fn waiting_lists(case: &Case, profile: &Profile, items: &mut Vec<WorkItem>) {
    let Some((_, screening)) = case.screenings.iter().max_by_key(|(_, s)| s.screened_on) else {
        return;
    };
    let since = screening.screened_on;
    let declined = case
        .referrals
        .iter()
        .any(|r| matches!(r.closed, Some((on, ReferralClosureReason::Declined)) if on >= since));
    if declined {
        return;
    }
    let offered_since = |pred: &dyn Fn(&str) -> bool| {
        case.courses
            .iter()
            .any(|c| pred(&c.intervention) && c.steps.iter().any(|(_, on)| *on >= since))
    };
    // KM 4.8.3: anyone screened as having a need is offered structured interventions:
    // an offer of something else (brief advice, mutual aid) does not answer it.
    let structured = |code: &str| {
        profile
            .intervention(code)
            .is_some_and(|d| d.structured_treatment)
    };
    let clinical_since = case
        .clinical
        .iter()
        .any(|(_, c)| c.step.starts_treatment() && local_date(c.at) >= since);
    if screening.structured_treatment_needed && !offered_since(&structured) && !clinical_since {
        items.push(waiting(
            QueueKind::NeedNotOffered,
            since,
            format!("Need found at screening on {}", long_date(since)),
        ));
    }
    // S4 §4: structured advice for increasing risk, higher risk or possibly dependent drinkers.
    let zone = screening
        .audit
        .as_ref()
        .map(|a| a.zone() >= AuditZone::IncreasingRisk)
        .or_else(|| screening.audit_c.as_ref().map(|c| c.is_positive()))
        .unwrap_or(false);
    let advice = |code: &str| profile.intervention(code).is_some_and(|d| d.alcohol_advice);
    // S4 §4 asks for advice *delivered*: an offer alone does not clear the list.
    let advice_given = case.courses.iter().any(|c| {
        advice(&c.intervention)
            && c.steps.iter().any(|(st, on)| {
                *on >= since
                    && matches!(
                        st,
                        InterventionStatus::Started | InterventionStatus::Completed
                    )
            })
    });
    if zone && !advice_given {
        items.push(waiting(
            QueueKind::AlcoholAdvice,
            since,
            format!("Alcohol screening on {}", long_date(since)),
        ));
    }
}

/// The queue items at `now` from a person's [`queue_segments`]: the span holding
/// `now`'s day, the clock and the horizon applied. What a store's queue projection
/// answers; equal to [`work_items`] at every instant (a property test).
pub fn items_on(segments: &[QueueSegment], now: DateTime<Utc>) -> Vec<WorkItem> {
    let today = local_date(now);
    segments
        .iter()
        .filter(|s| s.from.is_none_or(|f| f <= today) && s.until.is_none_or(|u| today < u))
        .flat_map(|s| s.items.iter().cloned())
        .map(|mut i| {
            i.overdue = is_overdue(&i, now);
            i
        })
        .filter(|i| in_horizon(i, today))
        .collect()
}

/// The order within a queue: overdue first, then people whose offending is linked to
/// their substance use (S4 §1), then the earliest due. Sort ascending by this key.
pub fn item_key(item: &WorkItem, offending_linked: bool) -> (bool, bool, DateTime<Utc>) {
    (!item.overdue, !offending_linked, item.due)
}
