//! Release, throughcare and continuity of care (REQUIREMENTS §10–11; S4 §1, §4–5;
//! KM 3.1.5, 3.9.13–3.9.19, 5.18–5.22): the release plan and what it still lacks,
//! treatment exit, engagement with community treatment after release (and the
//! 21-day indicator), contacts after treatment and attempts to re-engage, deaths,
//! reoffending, and the 12-month follow-up that closes each release with an outcome.

use crate::labelled_enum;
use crate::record_ids::EventId;
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// Medication to help stay free of dependence after release.
    pub enum ReleaseMedication {
        /// KM 3.9.13: for people leaving custody opiate free.
        Naltrexone = ("naltrexone", "Naltrexone (KM 3.9.13)"),
        /// KM 3.9.14: for people leaving custody alcohol free.
        Disulfiram = ("disulfiram", "Disulfiram (KM 3.9.14)"),
    }
}

/// A release plan agreed with the person (S4 §4; KM 3.9.19, 5.18–5.22). Each
/// agreement is a new version; the latest by date is current. The prison's single
/// point of contact for an unexpected release comes from the profile (KM 5.21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleasePlan {
    /// When it was agreed.
    pub agreed_on: NaiveDate,
    /// The community treatment provider the person goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_provider: Option<String>,
    /// The first community appointment (date and time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_appointment: Option<DateTime<Utc>>,
    /// The local provider to contact if release is unexpected or early (KM 5.21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unexpected_release_contact: Option<String>,
    /// Whether the person needs housing on release.
    pub housing_need: bool,
    /// The housing referral made, if any (to whom, when).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub housing_referral: Option<String>,
    /// Mutual aid arranged for after release (S4 §4), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_aid: Option<String>,
    /// Whether naloxone was supplied for release (KM 3.9.17).
    pub naloxone_supplied: bool,
    /// Naltrexone or disulfiram on release.
    #[serde(default)]
    pub release_medication: Vec<ReleaseMedication>,
    /// Short-term substitute medication bridging to the community prescriber
    /// (KM 3.9.19), in words, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridging_medication: Option<String>,
    /// Referrals for aftercare (S4 §4).
    #[serde(default)]
    pub aftercare_referrals: Vec<String>,
    /// Whether the person agreed the plan.
    pub agreed_with_person: bool,
}

labelled_enum! {
    /// What a release plan still lacks (the release queue shows these).
    pub enum PlanGap {
        /// No release plan at all.
        NoPlan = ("no_plan", "No release plan"),
        /// Not agreed with the person.
        NotAgreed = ("not_agreed", "Not agreed with the person"),
        /// No community provider named.
        NoCommunityProvider = ("no_community_provider", "No community provider"),
        /// No first community appointment.
        NoFirstAppointment = ("no_first_appointment", "No first community appointment"),
        /// No local contact for an unexpected or early release (KM 5.21).
        NoUnexpectedReleaseContact = ("no_unexpected_release_contact", "No contact for an unexpected release (KM 5.21)"),
        /// A housing need with no referral.
        NoHousingReferral = ("no_housing_referral", "Housing need without a referral"),
        /// At risk of overdose with no naloxone (KM 3.9.17).
        NoNaloxone = ("no_naloxone", "At risk of overdose, no naloxone (KM 3.9.17)"),
        /// On substitute medication with no bridging prescription (KM 3.9.19).
        NoBridgingMedication = ("no_bridging_medication", "On substitute medication, no bridging prescription (KM 3.9.19)"),
    }
}

labelled_enum! {
    /// Why a person's treatment ended (a fixed list).
    pub enum ExitReason {
        /// Completed treatment, free of drug dependence.
        CompletedDrugFree = ("completed_drug_free", "Completed, free of drug dependence"),
        /// Completed treatment, free of alcohol dependence.
        CompletedAlcoholFree = ("completed_alcohol_free", "Completed, free of alcohol dependence"),
        /// Transferred to another establishment, still in custody.
        TransferredInCustody = ("transferred_in_custody", "Transferred in custody"),
        /// Released and referred on to community treatment.
        ReleasedReferredOn = ("released_referred_on", "Released and referred on"),
        /// Released and not referred on.
        ReleasedNotReferred = ("released_not_referred", "Released and not referred"),
        /// Dropped out.
        DroppedOut = ("dropped_out", "Dropped out"),
        /// Declined further treatment.
        Declined = ("declined", "Declined"),
        /// Deported.
        Deported = ("deported", "Deported"),
        /// Died.
        Died = ("died", "Died"),
        /// Another reason, given in the note.
        Other = ("other", "Other"),
    }
}

impl ExitReason {
    /// Whether the exit puts the person on the re-engagement list (S4 §1).
    pub fn is_disengagement(self) -> bool {
        matches!(self, ExitReason::DroppedOut | ExitReason::Declined)
    }
}

/// The end of a treatment episode (its exit TOP is a `top_completed` of stage exit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreatmentExit {
    /// When treatment ended.
    pub exited_on: NaiveDate,
    /// Why.
    pub reason: ExitReason,
    /// Any note (required for "other").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

labelled_enum! {
    /// Whether the person engaged with community treatment after release.
    pub enum EngagementOutcome {
        /// Engaged: attended community treatment.
        Engaged = ("engaged", "Engaged with community treatment"),
        /// Did not engage (as far as is known on the date).
        NotEngaged = ("not_engaged", "Did not engage"),
    }
}

/// Community treatment after release (S4 §5; KM KPIs 2.17–2.18): engaged on a
/// date with a provider, or known not to have engaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityEngagement {
    /// Engaged or not.
    pub outcome: EngagementOutcome,
    /// The date engaged, or the date non-engagement was established.
    pub on: NaiveDate,
    /// The provider engaged with (required when engaged; in S4 the same service
    /// continues in the community).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Any note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

labelled_enum! {
    /// What a contact with the person was for.
    pub enum ContactPurpose {
        /// Post-treatment support and advice (KPI 1.32).
        PostTreatmentSupport = ("post_treatment_support", "Post-treatment support and advice (KPI 1.32)"),
        /// An attempt to re-engage someone who declined, dropped out or never engaged (S4 §1).
        ReEngagement = ("re_engagement", "Re-engagement attempt (S4 §1)"),
    }
}

labelled_enum! {
    /// How a contact went.
    pub enum ContactOutcome {
        /// Spoke with the person.
        Reached = ("reached", "Reached"),
        /// No answer or not found.
        NoResponse = ("no_response", "No response"),
        /// The person declined.
        Declined = ("declined", "Declined"),
        /// The person re-engaged with treatment.
        ReEngaged = ("re_engaged", "Re-engaged"),
    }
}

/// A contact with (or attempt to contact) the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// When.
    pub on: NaiveDate,
    /// What for.
    pub purpose: ContactPurpose,
    /// How it went.
    pub outcome: ContactOutcome,
    /// How (telephone, letter, in person, through probation…), if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// When the next attempt is due, if another is planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<NaiveDate>,
    /// Any note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

labelled_enum! {
    /// Whether a death was related to drugs or alcohol (KPI 3.7; S4 §4).
    pub enum DeathCause {
        /// Drug related.
        DrugRelated = ("drug_related", "Drug related"),
        /// Alcohol related.
        AlcoholRelated = ("alcohol_related", "Alcohol related"),
        /// Drug and alcohol related.
        DrugAndAlcoholRelated = ("drug_and_alcohol_related", "Drug and alcohol related"),
        /// Not related to drugs or alcohol.
        NotRelated = ("not_related", "Not drug or alcohol related"),
        /// Not known (yet).
        NotKnown = ("not_known", "Not known"),
    }
}

impl DeathCause {
    /// Whether the death counts as drug and/or alcohol related.
    pub fn is_related(self) -> bool {
        matches!(
            self,
            DeathCause::DrugRelated
                | DeathCause::AlcoholRelated
                | DeathCause::DrugAndAlcoholRelated
        )
    }
}

/// A death of the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    /// When.
    pub died_on: NaiveDate,
    /// Whether drug or alcohol related.
    pub cause: DeathCause,
    /// Where the information came from (coroner, probation, an imported file's reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A further offence after release (KPIs 3.4–3.5; not an outcome at the IRC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reoffence {
    /// The date of the offence.
    pub offended_on: NaiveDate,
    /// Where the information came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

labelled_enum! {
    /// How a released person's 12-month follow-up window closed. "Not reoffended"
    /// is never inferred from silence: unknown is its own outcome (KPIs 3.4, 3.5, 3.7).
    pub enum FollowUpOutcome {
        /// Reoffended within 12 months of release.
        Reoffended = ("reoffended", "Reoffended within 12 months"),
        /// Known not to have reoffended within 12 months.
        NotReoffended = ("not_reoffended", "Not reoffended within 12 months"),
        /// Died within 12 months.
        Died = ("died", "Died within 12 months"),
        /// Deported (from the IRC): no follow-up possible.
        Deported = ("deported", "Deported"),
        /// Not known: lost to follow-up.
        LostToFollowUp = ("lost_to_follow_up", "Unknown: lost to follow-up"),
    }
}

/// The close of a released person's 12-month follow-up window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpClosed {
    /// The release the window follows (its `released` event).
    pub release: EventId,
    /// When it was closed.
    pub closed_on: NaiveDate,
    /// The outcome.
    pub outcome: FollowUpOutcome,
    /// Any note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The last day of the 12-month follow-up window after a release on `released_on`.
pub fn follow_up_ends(released_on: NaiveDate) -> NaiveDate {
    released_on
        .checked_add_months(Months::new(12))
        .unwrap_or(NaiveDate::MAX)
}

/// The national continuity-of-care window: engaged with community treatment within
/// 21 days of release (the specs set none; both the date and this are reported).
pub const CONTINUITY_DAYS: i64 = 21;

/// Whether engagement on `engaged_on` after release on `released_on` counts as
/// within the 21-day window: day 21 counts, day 22 does not.
pub fn engaged_within_window(released_on: NaiveDate, engaged_on: NaiveDate) -> bool {
    let days = (engaged_on - released_on).num_days();
    (0..=CONTINUITY_DAYS).contains(&days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn engagement_on_day_21_counts_and_day_22_does_not() {
        let released = d("2026-03-02");
        assert!(engaged_within_window(released, d("2026-03-02")), "day 0");
        assert!(engaged_within_window(released, d("2026-03-23")), "day 21");
        assert!(!engaged_within_window(released, d("2026-03-24")), "day 22");
        assert!(
            !engaged_within_window(released, d("2026-03-01")),
            "before release"
        );
    }

    #[test]
    fn the_follow_up_window_is_twelve_calendar_months() {
        assert_eq!(follow_up_ends(d("2026-03-02")), d("2027-03-02"));
        assert_eq!(follow_up_ends(d("2028-02-29")), d("2029-02-28"));
    }
}
