//! Words for the timeline: what each event says, in one line, with no more
//! personal data than the person page already shows.

use throughcare_domain::case::Case;
use throughcare_domain::clinical::NaloxoneRecipient;
use throughcare_domain::consent::ConsentDecision;
use throughcare_domain::custody::ReleaseKind;
use throughcare_domain::events::{EventKind, RecordedEvent};
use throughcare_domain::interventions::SessionKind;
use throughcare_domain::service_records::FeedbackFrom;
use throughcare_domain::time::local_date;

/// One line describing an event.
pub fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::PersonRegistered(d) => {
            format!("Registered as {} ({})", d.display_name(), d.prison_number)
        }
        EventKind::PeopleMerged(m) => {
            format!("Record {} merged into this one", m.merged_prison_number)
        }
        EventKind::Received(r) => format!(
            "Received into custody ({})",
            r.reception_type.label().to_lowercase()
        ),
        EventKind::Transferred(t) => match &t.break_glass {
            Some(why) => format!(
                "Transferred from {} to {} by break-glass: {why}",
                t.from, t.to
            ),
            None => format!("Transferred from {} to {}", t.from, t.to),
        },
        EventKind::TransferRequested(r) => {
            format!("Transfer of the record to {} requested: {}", r.to, r.reason)
        }
        EventKind::TransferRequestAnswered(a) => match (a.accepted, &a.note) {
            (true, _) => "Transfer request accepted".into(),
            (false, Some(why)) => format!("Transfer request declined: {why}"),
            (false, None) => "Transfer request declined".into(),
        },
        EventKind::ExpectedReleaseSet(x) => match x.date {
            Some(d) => format!("Expected release date set to {}", d.format("%-d %B %Y")),
            None => "Expected release date cleared".into(),
        },
        EventKind::Released(r) => match r.kind {
            ReleaseKind::Released => "Released".into(),
            ReleaseKind::Deported => "Deported".into(),
        },
        EventKind::ReferralMade(r) => format!("Referral: {}", r.source.label()),
        EventKind::ReferralClosed(c) => format!("Referral closed: {}", c.reason.label()),
        EventKind::AppointmentOffered(a) => format!(
            "Appointment offered for {}",
            a.at.with_timezone(&chrono_tz::Europe::London)
                .format("%-d %B %Y at %H:%M")
        ),
        EventKind::AppointmentOutcomeRecorded(o) => {
            format!("Appointment outcome: {}", o.outcome.label())
        }
        EventKind::DrugTestResulted(t) => format!(
            "Drug test {}: {}",
            t.test_ref,
            if t.positive { "positive" } else { "negative" }
        ),
        EventKind::InformationShared(s) => format!("Shared: {}", s.summary),
        EventKind::OnwardReferralMade(r) => format!("Onward referral to {}", r.to.label()),
        EventKind::ScreeningCompleted(s) => {
            let mut line = "Screening completed".to_string();
            if let Some(a) = &s.audit {
                line.push_str(&format!(", AUDIT {} ({})", a.score(), a.zone().label()));
            }
            if let Some(a) = &s.audit_c {
                line.push_str(&format!(
                    ", AUDIT-C {}{}",
                    a.score(),
                    if a.is_positive() { " (positive)" } else { "" }
                ));
            }
            line
        }
        EventKind::AssessmentCompleted(a) => match a.kind {
            throughcare_domain::assessment::AssessmentKind::Initial => {
                "Initial assessment completed".into()
            }
            throughcare_domain::assessment::AssessmentKind::Comprehensive => {
                "Comprehensive assessment completed".into()
            }
        },
        EventKind::ConsentRecorded(c) => format!(
            "Consent {}: {}",
            match c.decision {
                ConsentDecision::Given => "given",
                ConsentDecision::Refused => "refused",
            },
            c.purpose.label()
        ),
        EventKind::ConsentWithdrawn(w) => format!("Consent withdrawn: {}", w.purpose.label()),
        EventKind::EnteredInError(_) => "Entry marked as entered in error".into(),
        EventKind::AppointmentRescheduled(r) => format!("Appointment moved to {}", when(r.at)),
        EventKind::CarePlanAgreed(p) => format!(
            "Recovery care plan agreed: {} goal{}, review by {}",
            p.goals.len(),
            if p.goals.len() == 1 { "" } else { "s" },
            long(p.review_on)
        ),
        EventKind::CarePlanReviewed(r) => format!(
            "Care plan reviewed{}; next review {}",
            if r.goals.is_some() {
                ", goals changed"
            } else {
                ""
            },
            long(r.next_review_on)
        ),
        EventKind::InductionRecorded(i) => {
            format!("Induction: {} of 7 items covered", i.items.len())
        }
        EventKind::TopCompleted(t) => format!(
            "Treatment Outcomes Profile ({}): psychological {}, physical {}, quality of life {}",
            t.stage.label().to_lowercase(),
            t.psychological_health,
            t.physical_health,
            t.quality_of_life
        ),
        EventKind::InterventionUpdated(u) => format!(
            "{}: {} ({}){}",
            u.status.label(),
            u.intervention,
            u.target.label().to_lowercase(),
            u.language
                .as_deref()
                .map(|l| format!(", in {l}"))
                .unwrap_or_default()
        ),
        EventKind::SessionAttended(x) => format!("Attended: {}", x.session.label()),
        EventKind::ClinicalEventRecorded(c) => {
            format!("{} at {}", c.step.label(), when(c.at))
        }
        EventKind::BloodBorneVirusRecorded(b) => format!(
            "{} {}{}{}",
            b.virus.label(),
            b.step.label().to_lowercase(),
            b.dose.map(|d| format!(" (dose {d})")).unwrap_or_default(),
            b.result
                .map(|r| format!(": {}", r.label().to_lowercase()))
                .unwrap_or_default()
        ),
        EventKind::NaloxoneSupplied(n) => format!(
            "Naloxone{}{} for {}",
            if n.kit_supplied { " kit supplied" } else { "" },
            if n.training_given {
                " with overdose training"
            } else {
                " training"
            },
            match &n.to {
                NaloxoneRecipient::Person => "the person".to_string(),
                NaloxoneRecipient::FamilyOrCarer { relationship, .. } => {
                    format!("a family member or carer ({relationship})")
                }
            }
        ),
        EventKind::DrugIntelligenceRecorded(d) => format!(
            "Drug intelligence ({}): {}",
            d.concern.label().to_lowercase(),
            d.action.label()
        ),
        EventKind::SentencePlanContributed(_) => "Contribution to the sentence plan".into(),
        EventKind::KeyworkerAllocated(k) => format!("Keyworker allocated: {}", k.worker),
        EventKind::ReleasePlanAgreed(p) => format!(
            "Release plan agreed{}",
            p.community_provider
                .as_deref()
                .map(|c| format!(": community provider {c}"))
                .unwrap_or_default()
        ),
        EventKind::TreatmentExited(x) => format!("Treatment exit: {}", x.reason.label()),
        EventKind::CommunityEngagementRecorded(e) => match &e.provider {
            Some(p) => format!("{}: {p}", e.outcome.label()),
            None => e.outcome.label().to_string(),
        },
        EventKind::ContactRecorded(c) => format!(
            "Contact: {} – {}",
            c.purpose.label(),
            c.outcome.label().to_lowercase()
        ),
        EventKind::DeathRecorded(d) => format!("Died ({})", d.cause.label().to_lowercase()),
        EventKind::ReoffenceRecorded(_) => "Reoffence after release recorded".into(),
        EventKind::FollowUpClosed(f) => {
            format!("12-month follow-up closed: {}", f.outcome.label())
        }
        EventKind::IncidentRecorded(i) => format!(
            "Serious incident {}: {} ({})",
            i.incident_ref,
            i.category.label(),
            i.investigation.label().to_lowercase()
        ),
        EventKind::LearningActionRecorded(a) => {
            format!(
                "Learning action {}: {} (owner {})",
                a.action_ref, a.action, a.owner
            )
        }
        EventKind::DeathReviewRecorded(d) => format!("Death review {}", d.review_ref),
        EventKind::SurveyCodeIssued(c) => format!("Survey code issued: {}", c.survey.label()),
        EventKind::SurveyResponseRecorded(x) => format!("Survey response: {}", x.survey.label()),
        EventKind::StaffRecorded(s) => format!("Staff record: {} ({})", s.name, s.role.label()),
        EventKind::TraineeSignedOff(s) => format!("Trainee signed off: {}", s.username),
        EventKind::CompetenceRecorded(c) => {
            format!("Competence evidenced: {} in {}", c.username, c.unit)
        }
        EventKind::TrainingRecorded(t) => format!(
            "Training {}: {} ({})",
            t.status.label().to_lowercase(),
            t.course.label(),
            t.username
        ),
        EventKind::TrainingNeedsAnalysisRecorded(a) => {
            format!("Training needs analysis for {}", a.year)
        }
        EventKind::VacancyRecorded(v) => format!("Vacancy: {} ({})", v.post, v.post_ref),
        EventKind::MeetingAttended(m) => format!(
            "Meeting attended: {}{}",
            m.kind.label(),
            m.title
                .as_deref()
                .map(|t| format!(" – {t}"))
                .unwrap_or_default()
        ),
        EventKind::FeedbackRecorded(f) => format!(
            "{} {} from {}{}",
            f.kind.label(),
            f.feedback_ref,
            match f.from {
                FeedbackFrom::Other => "someone else".to_string(),
                from => format!("a {}", from.label().to_lowercase()),
            },
            if f.responded_on.is_some() {
                " (answered)"
            } else {
                ""
            }
        ),
        EventKind::InvolvementRecorded(i) => format!("Involvement: {}", i.kind.label()),
        EventKind::ActivityRecorded(a) => format!("{}: {}", a.kind.label(), a.title),
        EventKind::CommissionerIssueRecorded(i) => format!(
            "Issue {} raised with the commissioner: {}{}",
            i.issue_ref,
            i.kind.label().to_lowercase(),
            if i.resolved_on.is_some() {
                " (resolved)"
            } else {
                ""
            }
        ),
        EventKind::SubcontractorRecorded(s) => format!("Sub-contractor: {}", s.name),
        EventKind::ObligationCompleted(c) => format!(
            "Obligation {} done for the period from {}",
            c.obligation,
            c.period.format("%-d %B %Y")
        ),
        EventKind::InformationRequestMade(r) => format!(
            "Information request {} by {}: {} at {}, {} to {} (KM 5.14)",
            r.request_ref,
            r.requested_by,
            r.cohort.label(),
            r.establishments
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            r.period_from.format("%-d %B %Y"),
            r.period_to.format("%-d %B %Y")
        ),
        EventKind::InformationRequestDecided(r) => format!(
            "Information request {} {} on {}",
            r.request_ref,
            r.decision.code(),
            r.decided_on.format("%-d %B %Y")
        ),
        EventKind::ReportNarrativeRecorded(n) => format!(
            "Report narrative: {} {}, {} ({} characters)",
            n.report.code(),
            n.period,
            n.section.label(),
            n.text.chars().count()
        ),
        EventKind::ReturnSubmitted(s) => format!(
            "Return submitted: {} {} as at {} ({}, SHA-256 {})",
            s.submitted_return.code(),
            s.period,
            throughcare_domain::time::canonical_instant(s.as_at),
            s.format.code(),
            s.sha256.get(..12).unwrap_or(&s.sha256)
        ),
        EventKind::ClinicalCoverRecorded(c) => format!(
            "Clinical cover on {}: {}",
            c.on.format("%-d %B %Y"),
            if c.provided {
                "provided"
            } else {
                "not provided"
            }
        ),
        EventKind::ServiceExclusionRecorded(x) => {
            format!("Excluded from the service: {}", x.grounds.label())
        }
    }
}

fn long(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y at %H:%M")
        .to_string()
}

/// One timeline entry as the person page shows it.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    /// The event id.
    pub id: String,
    /// When it happened (local date).
    pub date: String,
    /// What it says.
    pub text: String,
    /// Who recorded it and when.
    pub recorded: String,
    /// "Corrected", "Correction", "Entered in error" or "".
    pub status: String,
    /// Why it was corrected or marked in error.
    pub reason: String,
    /// The form that corrects it, if it can be corrected from the web.
    pub correct_form: String,
}

/// The form that records events of this kind.
pub fn form_for(kind: &EventKind) -> Option<&'static str> {
    Some(match kind {
        EventKind::ReferralMade(_) => "referral",
        EventKind::ReferralClosed(_) => "close-referral",
        EventKind::AppointmentOutcomeRecorded(_) => "appointment-outcome",
        EventKind::ScreeningCompleted(_) => "screening",
        EventKind::AssessmentCompleted(_) => "assessment",
        EventKind::ConsentRecorded(_) => "consent",
        EventKind::ConsentWithdrawn(_) => "withdraw-consent",
        EventKind::OnwardReferralMade(_) => "onward-referral",
        EventKind::ExpectedReleaseSet(_) => "expected-release",
        EventKind::DrugTestResulted(_) => "drug-test",
        EventKind::AppointmentRescheduled(_) => "reschedule-appointment",
        EventKind::CarePlanAgreed(_) => "care-plan",
        EventKind::CarePlanReviewed(_) => "care-plan-review",
        EventKind::InductionRecorded(_) => "induction",
        EventKind::TopCompleted(_) => "top",
        EventKind::InterventionUpdated(_) => "intervention",
        // A group session is corrected on its register, which keeps the session id.
        EventKind::SessionAttended(x) if matches!(x.session, SessionKind::Group { .. }) => {
            return None;
        }
        EventKind::SessionAttended(_) => "session",
        EventKind::ClinicalEventRecorded(_) => "clinical",
        EventKind::BloodBorneVirusRecorded(_) => "bbv",
        EventKind::NaloxoneSupplied(_) => "naloxone",
        EventKind::DrugIntelligenceRecorded(_) => "drug-intelligence",
        EventKind::SentencePlanContributed(_) => "sentence-plan",
        EventKind::KeyworkerAllocated(_) => "keyworker",
        EventKind::ServiceExclusionRecorded(_) => "exclusion",
        EventKind::ReleasePlanAgreed(_) => "release-plan",
        EventKind::TreatmentExited(_) => "treatment-exit",
        EventKind::CommunityEngagementRecorded(_) => "community-engagement",
        EventKind::ContactRecorded(_) => "contact",
        EventKind::DeathRecorded(_) => "death",
        EventKind::ReoffenceRecorded(_) => "reoffence",
        EventKind::FollowUpClosed(_) => "follow-up",
        _ => return None,
    })
}

/// The whole timeline, newest first, corrections and errors visible.
pub fn timeline(case: &Case) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = case
        .history
        .iter()
        .map(|e: &RecordedEvent| {
            let status = if case.in_error.contains(&e.id) {
                "Entered in error"
            } else if case.superseded.contains(&e.id) {
                "Corrected"
            } else if e.supersedes.is_some() {
                "Correction"
            } else {
                ""
            };
            TimelineEntry {
                id: e.id.to_string(),
                date: local_date(e.occurred_at).format("%-d %B %Y").to_string(),
                text: describe(&e.kind),
                recorded: format!(
                    "Recorded by {} on {}",
                    e.recorded_by,
                    e.recorded_at
                        .with_timezone(&chrono_tz::Europe::London)
                        .format("%-d %B %Y at %H:%M")
                ),
                status: status.to_string(),
                reason: e.reason.clone().unwrap_or_default(),
                correct_form: if case.is_effective(e) {
                    form_for(&e.kind).unwrap_or("").to_string()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    out.reverse();
    out
}
