//! Authorisation, decided in one place and deny by default. A handler can reach a
//! person's record only through the [`CaseAccess`] value that [`open_case`]
//! returns after checking the role and establishment and writing the access audit,
//! so a path that forgets the check does not compile (the lldap idea).

use chrono::Utc;
use throughcare_domain::case::Case;
use throughcare_domain::identifiers::EstablishmentCode;
use throughcare_domain::record_ids::PersonId;
use throughcare_store::{AccessEntry, Role, StoreError};

use crate::app::AppState;
use crate::auth::Staff;
use crate::recording::load_case;

/// Why access was refused.
#[derive(Debug)]
pub enum Denied {
    /// No such person (or not one the user may know exists).
    NotFound,
    /// The user's role or establishments do not allow it.
    Forbidden(&'static str),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for Denied {
    fn from(e: StoreError) -> Self {
        Denied::Store(e)
    }
}

/// Proof that the user may see one person's record: the case, as loaded.
pub struct CaseAccess {
    case: Case,
    last_seq: i64,
    limited_to: Option<EstablishmentCode>,
}

impl CaseAccess {
    /// The person's case.
    pub fn case(&self) -> &Case {
        &self.case
    }
    /// The sequence number of the person's latest event when loaded.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }
    /// The person record.
    pub fn person(&self) -> PersonId {
        self.case.person
    }
    /// When the person has moved on to an establishment the user is not assigned
    /// to: the user's establishment, whose own entries are all they may see
    /// (REQUIREMENTS §10: the sending establishment keeps read access to what it
    /// recorded).
    pub fn limited_to(&self) -> Option<&EstablishmentCode> {
        self.limited_to.as_ref()
    }
}

/// Proof that the user may record at an establishment (for registering people).
pub struct EstablishmentAccess {
    establishment: EstablishmentCode,
}

impl EstablishmentAccess {
    /// The establishment.
    pub fn establishment(&self) -> &EstablishmentCode {
        &self.establishment
    }
}

/// Whether a role signs in to the staff pages and the staff API at all. Deny by
/// default: a role not named here (a system's account) is treated as signed out
/// on every staff route.
pub fn uses_staff_routes(role: Role) -> bool {
    matches!(
        role,
        Role::Worker | Role::Clinician | Role::Manager | Role::Admin | Role::Commissioner
    )
}

/// Proof that the caller is the in-cell telephone system's account, posting a
/// self-referral for an establishment it serves (S4 §2).
pub struct SelfReferralAccess {
    establishment: EstablishmentCode,
    username: throughcare_domain::identifiers::StaffUsername,
}

impl SelfReferralAccess {
    /// The establishment the self-referral is recorded at.
    pub fn establishment(&self) -> &EstablishmentCode {
        &self.establishment
    }
    /// The service account's username (the referral's `recorded_by`).
    pub fn username(&self) -> &throughcare_domain::identifiers::StaffUsername {
        &self.username
    }
}

/// Checks the caller is a self-referral service account serving `establishment`
/// (the session's when `None`). Staff are refused: they record referrals on the
/// person's record.
pub fn self_referral_service(
    caller: &Staff,
    establishment: Option<&EstablishmentCode>,
) -> Result<SelfReferralAccess, Denied> {
    if caller.account.role != Role::SelfReferralService {
        return Err(Denied::Forbidden(
            "Only the in-cell telephone system's account posts self-referrals here; staff record a referral on the person's record.",
        ));
    }
    let establishment = establishment.unwrap_or(caller.establishment());
    if !caller.account.establishments.contains(establishment) {
        return Err(Denied::Forbidden(
            "This account does not serve that establishment.",
        ));
    }
    Ok(SelfReferralAccess {
        establishment: establishment.clone(),
        username: caller.username().clone(),
    })
}

/// Whether a role sees people's case records at all (the domain's policy table,
/// [`throughcare_domain::access`], says which entries it may write and how much of
/// each it reads).
fn sees_cases(role: Role) -> bool {
    role.sees_cases()
}

/// Checks the user works at `establishment` in a role that sees case records.
pub fn at_establishment(
    staff: &Staff,
    establishment: &EstablishmentCode,
) -> Result<EstablishmentAccess, Denied> {
    if !sees_cases(staff.account.role) {
        return Err(Denied::Forbidden(
            "Your role does not give access to case records.",
        ));
    }
    if !staff.account.establishments.contains(establishment) {
        return Err(Denied::Forbidden(
            "You are not assigned to that establishment.",
        ));
    }
    Ok(EstablishmentAccess {
        establishment: establishment.clone(),
    })
}

/// Opens a person's record for the user: the person's responsible establishment
/// must be one of the user's, the role must see case records, and the access is
/// written to the access audit (`action`: "view", "record", …; `route` carries no
/// personal data). The case comes as the role may read it
/// ([`throughcare_domain::access::redact_case`]: a worker reads clinical steps
/// without their notes).
///
/// A person held at an establishment the user is not assigned to is answered
/// exactly as one who does not exist ([`Denied::NotFound`]): an account that may not
/// see a person learns nothing of them, not even that they exist (the refusal is
/// still written to the access audit). A role that sees no case records is refused
/// before any person is looked up, so its answer does not depend on the person
/// either. Only custody opens a record: a referral or a transfer recorded by the
/// receiving side never does (REQUIREMENTS §10; S4 §2).
pub fn open_case(
    state: &AppState,
    staff: &Staff,
    person: PersonId,
    action: &str,
    route: &str,
) -> Result<CaseAccess, Denied> {
    if !sees_cases(staff.account.role) {
        return Err(Denied::Forbidden(
            "Your role does not give access to case records.",
        ));
    }
    let (case, last_seq) = load_case(state.store.as_ref(), person)?;
    let Some(establishment) = case.establishment().cloned() else {
        return Err(Denied::NotFound);
    };
    let case = throughcare_domain::access::redact_case(case, staff.account.role);
    let here = staff.establishment();
    // Only an establishment that held the person keeps sight of its own entries: a
    // transfer request (recorded where it is made) opens nothing (issue 14).
    let recorded_here = staff.account.establishments.contains(here)
        && case.establishments_history.iter().any(|(e, _)| e == here)
        && case.history.iter().any(|e| &e.establishment == here);
    if !staff.account.establishments.contains(&establishment) && action == "view" && recorded_here {
        state.store.record_access(&AccessEntry {
            at: Utc::now(),
            username: staff.username().to_string(),
            person: Some(case.person),
            action: "view-own-entries".into(),
            detail: route.to_string(),
        })?;
        return Ok(CaseAccess {
            case,
            last_seq,
            limited_to: Some(here.clone()),
        });
    }
    if !staff.account.establishments.contains(&establishment) {
        state.store.record_access(&AccessEntry {
            at: Utc::now(),
            username: staff.username().to_string(),
            person: Some(case.person),
            action: "refused".into(),
            detail: route.to_string(),
        })?;
        return Err(Denied::NotFound);
    }
    state.store.record_access(&AccessEntry {
        at: Utc::now(),
        username: staff.username().to_string(),
        person: Some(case.person),
        action: action.to_string(),
        detail: route.to_string(),
    })?;
    Ok(CaseAccess {
        case,
        last_seq,
        limited_to: None,
    })
}

/// Opens, for `action`, the record holding prison number `number`, if it is one the
/// user may see. A number no one holds and a number held where the user does not
/// work give the same answer (`None`), so a prison number never tells a user
/// whether, or where, a person is held (issue 14; REQUIREMENTS §10). The refusal
/// is still written to the access audit by [`open_case`].
pub fn open_by_prison_number(
    state: &AppState,
    staff: &Staff,
    number: &throughcare_domain::identifiers::PrisonNumber,
    action: &str,
    route: &str,
) -> Result<Option<CaseAccess>, Denied> {
    if !sees_cases(staff.account.role) {
        return Err(Denied::Forbidden(
            "Your role does not give access to case records.",
        ));
    }
    let Some(person) = state.store.find_prison_number(number)? else {
        return Ok(None);
    };
    match open_case(state, staff, person, action, route) {
        Ok(access) => Ok(Some(access)),
        Err(Denied::NotFound) => Ok(None),
        Err(d) => Err(d),
    }
}

/// The answer, for the field `prison_number`, when [`open_by_prison_number`]
/// finds nothing the user may see.
pub fn no_record_you_can_see(number: &throughcare_domain::identifiers::PrisonNumber) -> String {
    format!("No record you can see has prison number {number}")
}

/// Checks the user is a manager at their current establishment: the service's own
/// governance records (incidents, death reviews, clinical cover) are manager-only
/// (REQUIREMENTS §13; KM 5.33–5.35).
pub fn manager_here(staff: &Staff) -> Result<EstablishmentAccess, Denied> {
    if staff.account.role != Role::Manager {
        return Err(Denied::Forbidden(
            "Only a service manager can see the service's governance records.",
        ));
    }
    at_establishment(staff, staff.establishment())
}

/// What a user may see of the returns (REQUIREMENTS §16; KM 6.4–6.7; S4 §5), as
/// [`returns`] grants it: a manager sees the service's internal view (exact, with the
/// drill-down at their own establishments); a commissioner sees the returns as the
/// profile publishes them and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnsAccess {
    /// A service manager: exact figures (or the published ones, to check them), and
    /// the drill-down.
    Internal,
    /// The commissioner: the published figures only (exact for the KM quarterly
    /// return, KM 6.5; disclosure controlled for a published report, S4 §5).
    Published,
}

/// Checks the user may see the returns: managers and commissioners only.
pub fn returns(staff: &Staff) -> Result<ReturnsAccess, Denied> {
    match staff.account.role {
        Role::Manager => Ok(ReturnsAccess::Internal),
        Role::Commissioner => Ok(ReturnsAccess::Published),
        _ => Err(Denied::Forbidden(
            "Only a service manager or the commissioner can see the returns.",
        )),
    }
}

/// Proof that the user may see the people and events behind a figure: a manager,
/// and only the items at the establishments they work at.
pub struct DrillAccess {
    establishments: Vec<EstablishmentCode>,
}

impl DrillAccess {
    /// Whether an item attributed to `establishment` may be shown.
    pub fn shows(&self, establishment: &EstablishmentCode) -> bool {
        self.establishments.contains(establishment)
    }
}

/// Checks the user may drill into a figure: a manager only ("internal view only";
/// the commissioner never sees a person, REQUIREMENTS §16).
pub fn drill_down(staff: &Staff) -> Result<DrillAccess, Denied> {
    if staff.account.role != Role::Manager {
        return Err(Denied::Forbidden(
            "Only a service manager can see the people behind a figure.",
        ));
    }
    Ok(DrillAccess {
        establishments: staff.account.establishments.clone(),
    })
}

/// Whether the user may use the JSON API: everyone but the commissioner, who sees
/// the returns pages and their downloads only.
pub fn uses_api(staff: &Staff) -> bool {
    staff.account.role != Role::Commissioner
}

/// Whether the user may manage accounts.
pub fn is_admin(staff: &Staff) -> bool {
    staff.account.role == Role::Admin
}

/// What a user may see of the information-sharing requests (KM 5.14), as
/// [`information_requests`] grants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestsAccess {
    /// A commissioner: their own requests, and the rows of an approved one.
    Requester(throughcare_domain::identifiers::StaffUsername),
    /// A manager: the requests touching the establishments they work at, to decide.
    Manager {
        /// The manager's username (never the decider of their own request).
        username: throughcare_domain::identifiers::StaffUsername,
        /// The establishments they manage.
        establishments: Vec<EstablishmentCode>,
    },
}

impl RequestsAccess {
    /// Whether this user may see `request` at all: the commissioner who made it, or
    /// a manager of one of its establishments.
    pub fn sees(
        &self,
        request: &throughcare_domain::information_requests::InformationRequestMade,
    ) -> bool {
        match self {
            RequestsAccess::Requester(me) => &request.requested_by == me,
            RequestsAccess::Manager { establishments, .. } => request
                .establishments
                .iter()
                .any(|e| establishments.contains(e)),
        }
    }
}

/// Checks the user may use the information-request pages: a commissioner (to ask,
/// and to download what was approved) or a manager (to decide). Everyone else is
/// refused (REQUIREMENTS "Users"; KM 5.14).
pub fn information_requests(staff: &Staff) -> Result<RequestsAccess, Denied> {
    match staff.account.role {
        Role::Commissioner => Ok(RequestsAccess::Requester(staff.username().clone())),
        Role::Manager => Ok(RequestsAccess::Manager {
            username: staff.username().clone(),
            establishments: staff.account.establishments.clone(),
        }),
        _ => Err(Denied::Forbidden(
            "Only the commissioner or a service manager can see information-sharing requests.",
        )),
    }
}

/// Proof that the user may make an information-sharing request: a commissioner.
pub struct RequesterAccess {
    username: throughcare_domain::identifiers::StaffUsername,
}

impl RequesterAccess {
    /// The commissioner's username: the request's `requested_by`.
    pub fn username(&self) -> &throughcare_domain::identifiers::StaffUsername {
        &self.username
    }
}

/// Checks the user may make an information-sharing request: the commissioner only.
pub fn request_information(staff: &Staff) -> Result<RequesterAccess, Denied> {
    match information_requests(staff)? {
        RequestsAccess::Requester(username) => Ok(RequesterAccess { username }),
        RequestsAccess::Manager { .. } => Err(Denied::Forbidden(
            "Information-sharing requests are made by the commissioner; a manager decides them.",
        )),
    }
}

/// Proof that the user may decide information-sharing requests: a manager, with the
/// establishments they manage (the domain checks the request's are all among them).
pub struct DeciderAccess {
    establishments: Vec<EstablishmentCode>,
}

impl DeciderAccess {
    /// The establishments the manager manages.
    pub fn establishments(&self) -> &[EstablishmentCode] {
        &self.establishments
    }
}

/// Checks the user may decide information-sharing requests: a manager only.
pub fn decide_information_requests(staff: &Staff) -> Result<DeciderAccess, Denied> {
    match information_requests(staff)? {
        RequestsAccess::Manager { establishments, .. } => Ok(DeciderAccess { establishments }),
        RequestsAccess::Requester(_) => Err(Denied::Forbidden(
            "A service manager decides information-sharing requests.",
        )),
    }
}

/// Checks the user may download the rows of `request`: only the commissioner who
/// made it (anyone else is told there is no such request). Whether it is approved
/// and not expired is the domain's [`InformationRequest::shareable_as_at`].
///
/// [`InformationRequest::shareable_as_at`]: throughcare_domain::information_requests::InformationRequest::shareable_as_at
pub fn download_information(
    staff: &Staff,
    request: &throughcare_domain::information_requests::InformationRequestMade,
) -> Result<RequesterAccess, Denied> {
    let me = request_information(staff)?;
    if &request.requested_by != me.username() {
        return Err(Denied::NotFound);
    }
    Ok(me)
}
