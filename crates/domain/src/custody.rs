//! Custody: reception, transfer, expected release, release and deportation
//! (REQUIREMENTS §2; KM 4.1).

use crate::identifiers::EstablishmentCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The legal basis on which a person is received into custody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceptionType {
    /// Held awaiting trial or sentence.
    Remand,
    /// Serving a sentence.
    Sentenced,
    /// Returned to custody for breaching licence conditions.
    Recall,
    /// Held at an immigration removal centre (KM 4.1).
    ImmigrationDetainee,
}

impl ReceptionType {
    /// Words for lists and the timeline.
    pub fn label(self) -> &'static str {
        match self {
            ReceptionType::Remand => "Remand",
            ReceptionType::Sentenced => "Sentenced",
            ReceptionType::Recall => "Recall",
            ReceptionType::ImmigrationDetainee => "Immigration detainee",
        }
    }
}

/// How a person left custody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// Released into the community (including on licence, bail or at sentence end).
    Released,
    /// Deported or removed from the country (IRC, KM 4.1).
    Deported,
}

/// A reception into custody at the event's establishment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reception {
    /// The legal basis.
    pub reception_type: ReceptionType,
    /// The source system's own identifier of this movement, if it came from a feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
}

/// A transfer from one establishment to another (the record follows the person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Where the person came from.
    pub from: EstablishmentCode,
    /// Where the person went.
    pub to: EstablishmentCode,
    /// The source system's own identifier of this movement, if it came from a feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// A break-glass transfer: why a manager at the receiving establishment moved
    /// the record before the sending establishment or the movements feed did
    /// (issue 14). Flagged on the receiving caseload and the timeline for review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<String>,
}

/// A manager's request, from the establishment where the person now is or is
/// about to be, that the establishment holding the record transfer it (issue 14;
/// REQUIREMENTS §10). It opens nothing: the holding establishment accepts (which
/// records the transfer out) or declines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequest {
    /// The establishment asking (also the event's establishment).
    pub to: EstablishmentCode,
    /// Why the record should move.
    pub reason: String,
}

/// The holding establishment's answer to a [`TransferRequest`]. Accepting it also
/// records the transfer out to the establishment that asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequestAnswer {
    /// The `transfer_requested` event answered.
    pub request: crate::record_ids::EventId,
    /// Whether the record moves.
    pub accepted: bool,
    /// A note for the establishment that asked (why it was declined, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The fewest characters a break-glass reason may have: enough to say why.
pub const MIN_BREAK_GLASS_REASON: usize = 20;

/// A release or deportation from the event's establishment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Released or deported.
    pub kind: ReleaseKind,
    /// The source system's own identifier of this movement, if it came from a feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
}

/// A change to the expected release date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedRelease {
    /// The expected release date, or `None` when no date is known (e.g. remand).
    pub date: Option<NaiveDate>,
}

/// Where a person is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CustodyStatus {
    /// Registered but no reception recorded yet.
    NotYetReceived,
    /// In custody at an establishment.
    InCustody {
        /// The establishment holding the person.
        establishment: EstablishmentCode,
        /// The basis of the latest reception.
        reception_type: ReceptionType,
        /// When the latest reception happened.
        received_on: NaiveDate,
    },
    /// Left custody.
    Left {
        /// The establishment the person left.
        establishment: EstablishmentCode,
        /// Released or deported.
        kind: ReleaseKind,
        /// When.
        on: NaiveDate,
    },
}
