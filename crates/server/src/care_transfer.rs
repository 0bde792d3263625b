//! The transfer of a person's care to the community provider on release (S4 §4:
//! "Arrangements should be made for the transfer of the individual's recovery plan
//! (care plan) to a community provider … subject to client consent"): a FHIR R4
//! Bundle and a printable summary of the recovery care plan, contingency plan,
//! latest Treatment Outcomes Profile, risks and medication on release.
//!
//! Both need a live consent for community transfer (the domain's `check_basis`);
//! without one the export is refused with a clear message. Every export and every
//! refusal is written to the access audit.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use throughcare_domain::case::Case;
use throughcare_domain::consent::{ConsentPurpose, ConsentState};
use throughcare_domain::profile::Profile;
use throughcare_domain::record_ids::PersonId;
use throughcare_domain::sharing::{Recipient, SharingBasis, check_basis};
use throughcare_domain::throughcare::release_plan;
use throughcare_domain::time::local_date;
use throughcare_store::AccessEntry;

use crate::app::AppState;
use crate::auth::{PageStaff, Staff};
use crate::chrome::Chrome;
use crate::policy::{self, Denied};
use crate::web::{chrome, denied, message, render};

/// Whether the care plan may go to the community provider today: a live consent
/// for community transfer, or the domain's refusal saying what is missing.
pub fn transfer_allowed(case: &Case) -> Result<(), String> {
    check_basis(
        &case.consents,
        Recipient::CommunityProvider,
        SharingBasis::Consent {
            purpose: ConsentPurpose::CommunityTransfer,
        },
        local_date(Utc::now()),
    )
    .map_err(|e| e.to_string())
}

fn audit(state: &AppState, staff: &Staff, person: PersonId, action: &str, route: &str) {
    if let Err(e) = state.store.record_access(&AccessEntry {
        at: Utc::now(),
        username: staff.username().to_string(),
        person: Some(person),
        action: action.into(),
        detail: route.into(),
    }) {
        tracing::error!(error = %e, "access audit failed");
    }
}

fn reference(kind: &str, id: &str) -> Value {
    json!({"reference": format!("urn:uuid:{id}"), "type": kind})
}

fn entry(id: &str, resource: Value) -> Value {
    json!({"fullUrl": format!("urn:uuid:{id}"), "resource": resource})
}

/// A FHIR R4 Bundle (type "collection") of the person's care for the community
/// provider: Patient, CarePlan with its Goals, Consent, a Flag per risk, a
/// QuestionnaireResponse for the latest TOP, and MedicationStatements for
/// medication on release. Built from the case as it stands.
pub fn fhir_bundle(case: &Case, profile: &Profile) -> Value {
    let patient_id = case.person.to_string();
    let subject = reference("Patient", &patient_id);
    let mut entries = Vec::new();
    if let Some(d) = &case.details {
        entries.push(entry(
            &patient_id,
            json!({
                "resourceType": "Patient",
                "id": patient_id,
                "identifier": [{"system": "urn:throughcare:prison-number", "value": d.prison_number.to_string()}],
                "name": [{"family": d.family_name, "given": [d.given_name]}],
                "birthDate": d.date_of_birth.to_string(),
            }),
        ));
    }
    if let Some((plan_id, plan)) = case.care_plan() {
        let plan_id = plan_id.to_string();
        let goals: Vec<(String, String)> = case
            .current_goals()
            .into_iter()
            .enumerate()
            .map(|(i, g)| (format!("{plan_id}-goal-{}", i + 1), g))
            .collect();
        for (id, text) in &goals {
            entries.push(entry(
                id,
                json!({
                    "resourceType": "Goal", "id": id, "lifecycleStatus": "active",
                    "description": {"text": text}, "subject": subject,
                }),
            ));
        }
        let activities: Vec<Value> = plan
            .interventions
            .iter()
            .map(|code| {
                let name = profile
                    .intervention(code)
                    .map(|i| i.name.clone())
                    .unwrap_or_else(|| code.clone());
                json!({"detail": {"status": "in-progress", "description": name}})
            })
            .collect();
        let contingency: Vec<String> = plan
            .contingency
            .sections()
            .iter()
            .map(|(_, label, text)| format!("{label}: {text}"))
            .collect();
        entries.push(entry(
            &plan_id,
            json!({
                "resourceType": "CarePlan", "id": plan_id, "status": "active", "intent": "plan",
                "title": "Recovery care plan",
                "description": format!("Contingency plan (S4 §4). {}", contingency.join(" ")),
                "subject": subject,
                "period": {"start": plan.agreed_on.to_string()},
                "goal": goals.iter().map(|(id, _)| reference("Goal", id)).collect::<Vec<_>>(),
                "activity": activities,
                "note": [{"text": format!("Next review {}", case.next_plan_review().map(|d| d.to_string()).unwrap_or_default())}],
            }),
        ));
    }
    if let Some(ConsentState::Given { on }) = case.consents.state(ConsentPurpose::CommunityTransfer)
    {
        let id = format!("{patient_id}-consent-community-transfer");
        entries.push(entry(
            &id,
            json!({
                "resourceType": "Consent", "id": id, "status": "active",
                "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
                "category": [{"text": ConsentPurpose::CommunityTransfer.label()}],
                "patient": subject, "dateTime": on.to_string(),
                "policyRule": {"text": "S4 §4: care plan transfer subject to client consent"},
            }),
        ));
    }
    let latest_comprehensive = case
        .assessments
        .iter()
        .filter_map(|(id, a)| a.comprehensive.as_ref().map(|c| (id, a.assessed_on, c)))
        .max_by_key(|(_, on, _)| *on);
    if let Some((id, on, c)) = latest_comprehensive {
        for (what, level) in [
            ("Risk of self-harm", c.risk_of_self_harm),
            ("Risk to others", c.risk_to_others),
        ] {
            let flag = format!("{id}-{}", what.to_lowercase().replace(' ', "-"));
            entries.push(entry(
                &flag,
                json!({
                    "resourceType": "Flag", "id": flag, "status": "active",
                    "code": {"text": format!("{what}: {}", level.label())},
                    "subject": subject, "period": {"start": on.to_string()},
                }),
            ));
        }
        if !c.risk_management_plan.trim().is_empty() {
            let flag = format!("{id}-risk-management-plan");
            entries.push(entry(
                &flag,
                json!({
                    "resourceType": "Flag", "id": flag, "status": "active",
                    "code": {"text": format!("Risk management plan: {}", c.risk_management_plan)},
                    "subject": subject,
                }),
            ));
        }
    }
    if throughcare_domain::throughcare::at_risk_of_overdose(case) {
        let flag = format!("{patient_id}-overdose-risk");
        entries.push(entry(
            &flag,
            json!({
                "resourceType": "Flag", "id": flag, "status": "active",
                "code": {"text": "At risk of overdose on release (lowered tolerance)"},
                "subject": subject,
            }),
        ));
    }
    if let Some((top_id, t)) = case.tops.iter().max_by_key(|(_, t)| t.completed_on) {
        let id = top_id.to_string();
        let mut items: Vec<Value> = t
            .substance_use
            .iter()
            .map(|u| {
                json!({"linkId": format!("{}_days", u.substance.code()),
                       "text": format!("{}: days used in the past 28 days", u.substance.label()),
                       "answer": [{"valueInteger": u.days}]})
            })
            .collect();
        for (name, days) in t.day_counts().into_iter().skip(t.substance_use.len()) {
            items.push(json!({"linkId": name, "text": name.replace('_', " "), "answer": [{"valueInteger": days}]}));
        }
        for (name, rating) in t.ratings() {
            items.push(json!({"linkId": name, "text": format!("{} (0–20)", name.replace('_', " ")), "answer": [{"valueInteger": rating}]}));
        }
        for (name, value) in [
            ("shared_needles", t.shared_needles),
            ("shared_other_equipment", t.shared_other_equipment),
            ("acute_housing_problem", t.acute_housing_problem),
            ("risk_of_eviction", t.risk_of_eviction),
        ] {
            items.push(json!({"linkId": name, "text": name.replace('_', " "), "answer": [{"valueBoolean": value}]}));
        }
        entries.push(entry(
            &id,
            json!({
                "resourceType": "QuestionnaireResponse", "id": id, "status": "completed",
                "questionnaire": "urn:throughcare:treatment-outcomes-profile",
                "subject": subject, "authored": t.completed_on.to_string(),
                "item": items,
            }),
        ));
    }
    if let Some((plan_id, plan)) = release_plan(case) {
        let mut medicines: Vec<String> = plan
            .release_medication
            .iter()
            .map(|m| m.label().to_string())
            .collect();
        if let Some(b) = plan
            .bridging_medication
            .as_ref()
            .filter(|b| !b.trim().is_empty())
        {
            medicines.push(format!("Bridging substitute medication: {b}"));
        }
        for (i, m) in medicines.iter().enumerate() {
            let id = format!("{plan_id}-medication-{}", i + 1);
            entries.push(entry(
                &id,
                json!({
                    "resourceType": "MedicationStatement", "id": id, "status": "intended",
                    "medicationCodeableConcept": {"text": m}, "subject": subject,
                    "note": [{"text": "On release"}],
                }),
            ));
        }
    }
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": Utc::now().to_rfc3339(),
        "entry": entries,
    })
}

#[derive(Template)]
#[template(path = "care_transfer.html")]
struct TransferPage {
    chrome: Chrome,
    person: PersonId,
    name: String,
    prison_number: String,
    sections: Vec<(String, Vec<(String, String)>)>,
}

fn refused(state: &AppState, staff: &Staff, person: PersonId, why: &str, route: &str) -> Response {
    audit(state, staff, person, "export-refused", route);
    message(
        state,
        staff,
        StatusCode::FORBIDDEN,
        "The care plan was not shared",
        &format!(
            "{why}. Record the person's consent to transfer their care plan to the community provider first (S4 §4)."
        ),
    )
}

/// The summary's sections: plan, contingency, latest TOP, risks, release.
fn sections(case: &Case, profile: &Profile) -> Vec<(String, Vec<(String, String)>)> {
    let bundle = fhir_bundle(case, profile);
    let mut out = Vec::new();
    let mut care = crate::care_summary::summary(case, profile);
    care.retain(|(k, _)| k != "Keyworker");
    out.push(("Recovery care".to_string(), care));
    if let Some((_, plan)) = case.care_plan() {
        out.push((
            "Contingency plan".into(),
            plan.contingency
                .sections()
                .iter()
                .map(|(_, l, t)| (l.to_string(), t.to_string()))
                .collect(),
        ));
    }
    let flags: Vec<(String, String)> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["resource"]["resourceType"] == "Flag")
        .map(|e| {
            (
                "Risk".to_string(),
                e["resource"]["code"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    out.push(("Risks".into(), flags));
    if let Some((_, p)) = release_plan(case) {
        let mut rows = vec![
            (
                "Community provider".to_string(),
                p.community_provider.clone().unwrap_or_default(),
            ),
            (
                "First appointment".into(),
                p.first_appointment
                    .map(|a| {
                        a.with_timezone(&chrono_tz::Europe::London)
                            .format("%-d %B %Y at %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default(),
            ),
            (
                "Naloxone supplied".into(),
                if p.naloxone_supplied { "Yes" } else { "No" }.into(),
            ),
            (
                "Medication on release".into(),
                p.release_medication
                    .iter()
                    .map(|m| m.label().to_string())
                    .chain(p.bridging_medication.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            (
                "Aftercare referrals".into(),
                p.aftercare_referrals.join("; "),
            ),
        ];
        rows.retain(|(_, v)| !v.is_empty());
        out.push(("Release".into(), rows));
    }
    out
}

/// GET /people/{id}/care-transfer: the printable summary for the community
/// provider, only with consent (refusals audited).
pub async fn summary_page(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
) -> Response {
    let Some(person) = PersonId::parse(&id) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let route = "/people/{id}/care-transfer";
    let access = match policy::open_case(&state, &staff, person, "open-export", route) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let case = access.case();
    if let Err(why) = transfer_allowed(case) {
        return refused(&state, &staff, case.person, &why, route);
    }
    audit(&state, &staff, case.person, "export", route);
    let (name, prison_number) = case
        .details
        .as_ref()
        .map(|d| {
            (
                format!("{} {}", d.given_name, d.family_name),
                d.prison_number.to_string(),
            )
        })
        .unwrap_or_default();
    render(TransferPage {
        chrome: chrome(&state, &staff, ""),
        person: case.person,
        name,
        prison_number,
        sections: sections(case, &state.profile),
    })
}

/// GET /people/{id}/care-transfer.json: the FHIR R4 Bundle, only with consent
/// (refusals audited).
pub async fn fhir(
    State(state): State<AppState>,
    PageStaff(staff): PageStaff,
    Path(id): Path<String>,
) -> Response {
    let Some(person) = PersonId::parse(id.trim_end_matches(".json")) else {
        return denied(&state, &staff, Denied::NotFound);
    };
    let route = "/people/{id}/care-transfer.json";
    let access = match policy::open_case(&state, &staff, person, "open-export", route) {
        Ok(a) => a,
        Err(d) => return denied(&state, &staff, d),
    };
    let case = access.case();
    if let Err(why) = transfer_allowed(case) {
        return refused(&state, &staff, case.person, &why, route);
    }
    audit(&state, &staff, case.person, "export", route);
    (
        [
            (header::CONTENT_TYPE, "application/fhir+json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"care-transfer-{}.json\"",
                    case.person
                ),
            ),
        ],
        fhir_bundle(case, &state.profile).to_string(),
    )
        .into_response()
}
