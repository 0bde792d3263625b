//! Interventions (KM 3.9.1–3.9.20, 4.5, 4.14; S4 §4): the profile's catalogue, each
//! person's course through an intervention (offered, declined, started, completed,
//! dropped out), and the sessions that make it up — 1-to-1 keyworking, group
//! sessions with a register, programme sessions and mutual aid.

use crate::labelled_enum;
use crate::record_ids::EventId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

labelled_enum! {
    /// The family an intervention belongs to; waiting times are reported per family.
    pub enum InterventionFamily {
        /// Prescribing, detoxification and other clinical treatment.
        Clinical = ("clinical", "Clinical"),
        /// Psychosocial: advice, keyworking, structured psychosocial interventions.
        Psychosocial = ("psychosocial", "Psychosocial"),
        /// Rehabilitation programmes (KM 3.9.7, 3.9.20).
        Programme = ("programme", "Programme"),
        /// Mutual aid and peer recovery networks (KM 3.1.16; S4 §4).
        MutualAid = ("mutual_aid", "Mutual aid and peer support"),
    }
}

/// One intervention the service offers, as the profile lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterventionDef {
    /// The code stored in events (`keyworking`, `spi`, …).
    pub code: String,
    /// Its name.
    pub name: String,
    /// The specification paragraph it comes from.
    pub spec: String,
    /// Its family.
    pub family: InterventionFamily,
    /// Whether it is a structured psychosocial intervention, which the IRC does not
    /// offer (KM 4.14).
    #[serde(default)]
    pub structured_psychosocial: bool,
    /// Whether it is structured advice for increasing or higher risk drinking (S4 §4;
    /// KM 3.9.16): giving it clears the "no structured advice" queue.
    #[serde(default)]
    pub alcohol_advice: bool,
    /// Whether it counts as a start of structured treatment (KM 4.29; the TOP clock).
    #[serde(default)]
    pub structured_treatment: bool,
}

labelled_enum! {
    /// What an intervention targets (KPIs 1.12–1.13).
    pub enum InterventionTarget {
        /// Opiates.
        Opiates = ("opiates", "Opiates"),
        /// Alcohol.
        Alcohol = ("alcohol", "Alcohol"),
        /// Crack cocaine only.
        CrackOnly = ("crack_only", "Crack only"),
        /// Several substances.
        PolySubstance = ("poly_substance", "Poly-substance"),
        /// Other substances.
        Other = ("other", "Other"),
    }
}

labelled_enum! {
    /// A step in a person's course through an intervention.
    pub enum InterventionStatus {
        /// Offered to the person.
        Offered = ("offered", "Offered"),
        /// The person declined it.
        Declined = ("declined", "Declined"),
        /// Started (for a programme: enrolled).
        Started = ("started", "Started"),
        /// Completed.
        Completed = ("completed", "Completed"),
        /// The person dropped out.
        DroppedOut = ("dropped_out", "Dropped out"),
    }
}

/// A step in one person's course through an intervention. The first step of a
/// course names no `course`; later steps name the event of the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterventionUpdate {
    /// The catalogue code.
    pub intervention: String,
    /// What it targets.
    pub target: InterventionTarget,
    /// The step.
    pub status: InterventionStatus,
    /// When.
    pub on: NaiveDate,
    /// The course this step belongs to (the event of its first step), if not the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course: Option<EventId>,
    /// The language the advice was given in, when not English (KM 4.5.1, the IRC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Any note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

labelled_enum! {
    /// Kinds of mutual aid and peer support (S4 §4; KM 3.1.16).
    pub enum MutualAidKind {
        /// A 12-step fellowship (AA, CA).
        TwelveStep = ("twelve_step", "12-step fellowship"),
        /// SMART Recovery.
        Smart = ("smart", "SMART Recovery"),
        /// Narcotics Anonymous.
        NarcoticsAnonymous = ("narcotics_anonymous", "Narcotics Anonymous"),
        /// A peer recovery network.
        PeerNetwork = ("peer_network", "Peer recovery network"),
        /// Recovery champion (the person acts as one, or meets one).
        RecoveryChampion = ("recovery_champion", "Recovery champion"),
    }
}

/// What kind of session a person attended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionKind {
    /// A 1-to-1 keyworking session (KM 3.9.2).
    Keyworking,
    /// A group session: every attendee's event carries the same session id and topic.
    Group {
        /// The session's own identifier (one session, many people).
        session: uuid::Uuid,
        /// The group's topic.
        topic: String,
    },
    /// A session of a course (a programme the person is enrolled on).
    Course {
        /// The course (its first step's event).
        course: EventId,
    },
    /// A mutual aid or peer support meeting.
    MutualAid {
        /// Which.
        aid: MutualAidKind,
    },
}

impl SessionKind {
    /// Words for the timeline and lists.
    pub fn label(&self) -> String {
        match self {
            SessionKind::Keyworking => "1-to-1 keyworking session".into(),
            SessionKind::Group { topic, .. } => format!("Group session: {topic}"),
            SessionKind::Course { .. } => "Programme session".into(),
            SessionKind::MutualAid { aid } => format!("Mutual aid: {}", aid.label()),
        }
    }
}

/// A session the person attended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAttended {
    /// What kind.
    pub session: SessionKind,
    /// When.
    pub on: NaiveDate,
    /// Minutes, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u16>,
    /// What was covered.
    pub summary: String,
    /// The appointment it was booked as, if any (it then counts as attended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<EventId>,
}
