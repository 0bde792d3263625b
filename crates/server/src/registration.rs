//! The registration form: who the person is, with the equality monitoring and
//! priority-group facts of REQUIREMENTS §2.

use throughcare_domain::identifiers::{Postcode, PrisonNumber};
use throughcare_domain::people::{
    Answer, EqualityMonitoring, Ethnicity, PersonDetails, RecordedPriorityFlags, Religion, Sex,
    SexualOrientation,
};

use crate::chrome::FormErrors;
use crate::form_data::FormData;
use crate::forms::{Field, FormSpec};

fn s(x: &str) -> String {
    x.to_string()
}

fn opts<T: serde::Serialize + Copy>(list: &[(T, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, l)| {
            (
                serde_json::to_value(v)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                s(l),
            )
        })
        .collect()
}

fn answers() -> Vec<(String, String)> {
    opts(&[
        (Answer::Yes, "Yes"),
        (Answer::No, "No"),
        (Answer::NotStated, "Not stated"),
    ])
}

fn parse_code<T: serde::de::DeserializeOwned>(v: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(v.to_string())).ok()
}

/// The registration form, filled with what was submitted.
pub fn spec(f: &FormData) -> FormSpec {
    let text = |n: &str, l: &str, h: &str| Field::Text {
        name: s(n),
        label: s(l),
        hint: s(h),
        value: s(f.get(n)),
    };
    let radios = |n: &str, l: &str, o: Vec<(String, String)>| Field::Radios {
        name: s(n),
        legend: s(l),
        options: o,
        selected: s(f.get(n)),
    };
    let select = |n: &str, l: &str, o: Vec<(String, String)>| Field::Select {
        name: s(n),
        label: s(l),
        options: o,
        selected: s(f.get(n)),
    };
    FormSpec {
        title: s("Register a person"),
        fields: vec![
            text(
                "prison_number",
                "Prison number",
                "One letter, four numbers and two letters, like A1234BC",
            ),
            text("given_name", "Given name", ""),
            text("family_name", "Family name", ""),
            Field::Date {
                name: s("date_of_birth"),
                legend: s("Date of birth"),
                day: s(f.get("date_of_birth-day")),
                month: s(f.get("date_of_birth-month")),
                year: s(f.get("date_of_birth-year")),
            },
            text(
                "home_postcode",
                "Home postcode (optional)",
                "Needed for NDTMS (KM 4.28.2); leave blank if of no fixed abode",
            ),
            Field::Heading(s("Equality monitoring")),
            radios(
                "sex",
                "Sex",
                opts(&[
                    (Sex::Female, "Female"),
                    (Sex::Male, "Male"),
                    (Sex::NotStated, "Not stated"),
                ]),
            ),
            radios(
                "gender_identity_same_as_birth",
                "Is their gender identity the same as the sex registered at birth?",
                answers(),
            ),
            select(
                "ethnicity",
                "Ethnic group",
                opts(&[
                    (Ethnicity::NotStated, "Not stated"),
                    (
                        Ethnicity::WhiteBritish,
                        "White: English, Welsh, Scottish, Northern Irish or British",
                    ),
                    (Ethnicity::WhiteIrish, "White: Irish"),
                    (
                        Ethnicity::WhiteGypsyTravellerRoma,
                        "White: Gypsy, Irish Traveller or Roma",
                    ),
                    (Ethnicity::WhiteOther, "Any other White background"),
                    (Ethnicity::Mixed, "Mixed or multiple ethnic groups"),
                    (Ethnicity::Asian, "Asian or Asian British"),
                    (
                        Ethnicity::Black,
                        "Black, Black British, Caribbean or African",
                    ),
                    (Ethnicity::Arab, "Arab"),
                    (Ethnicity::Other, "Any other ethnic group"),
                ]),
            ),
            select(
                "religion",
                "Religion or belief",
                opts(&[
                    (Religion::NotStated, "Not stated"),
                    (Religion::NoReligion, "No religion"),
                    (Religion::Christian, "Christian"),
                    (Religion::Muslim, "Muslim"),
                    (Religion::Hindu, "Hindu"),
                    (Religion::Sikh, "Sikh"),
                    (Religion::Jewish, "Jewish"),
                    (Religion::Buddhist, "Buddhist"),
                    (Religion::Other, "Any other religion or belief"),
                ]),
            ),
            select(
                "sexual_orientation",
                "Sexual orientation",
                opts(&[
                    (SexualOrientation::NotStated, "Not stated"),
                    (SexualOrientation::Heterosexual, "Heterosexual or straight"),
                    (SexualOrientation::GayOrLesbian, "Gay or lesbian"),
                    (SexualOrientation::Bisexual, "Bisexual"),
                    (SexualOrientation::Other, "Another orientation"),
                ]),
            ),
            radios(
                "disability",
                "Disability, including mental health",
                answers(),
            ),
            radios("learning_disability", "Learning disability", answers()),
            radios("sight_impairment", "Sight impairment", answers()),
            radios("hearing_impairment", "Hearing impairment", answers()),
            radios("pregnant", "Pregnant", answers()),
            text("nationality", "Nationality (optional)", ""),
            text("first_language", "First language (optional)", ""),
            radios("interpreter_needed", "Is an interpreter needed?", answers()),
            Field::Heading(s("Priority groups (KM 4.10)")),
            Field::Checkboxes {
                name: s("priority"),
                legend: s("Recorded priority groups"),
                options: vec![
                    (
                        s("prolific_offender"),
                        s("Prolific offender with a history of substance misuse"),
                    ),
                    (
                        s("dual_diagnosis"),
                        s("Dual diagnosis (mental health and substance misuse)"),
                    ),
                ],
                selected: f.all("priority"),
            },
        ],
    }
}

/// The person's details from the form, or field messages.
pub fn parse(f: &FormData) -> Result<PersonDetails, FormErrors> {
    let mut e = FormErrors::default();
    let prison_number = match PrisonNumber::parse(f.get("prison_number")) {
        Ok(p) => Some(p),
        Err(_) if f.get("prison_number").is_empty() => {
            e.add("prison_number", "Enter the prison number");
            None
        }
        Err(_) => {
            e.add(
                "prison_number",
                "Prison number must be one letter, four numbers and two letters, like A1234BC",
            );
            None
        }
    };
    let given = f.required("given_name", "Enter the person's given name", &mut e);
    let family = f.required("family_name", "Enter the person's family name", &mut e);
    let dob = f.date("date_of_birth", "Date of birth", &mut e);
    let postcode = match f.get("home_postcode") {
        "" => None,
        v => match Postcode::parse(v) {
            Ok(p) => Some(p),
            Err(_) => {
                e.add(
                    "home_postcode",
                    "Enter a real UK postcode, like ME14 1XQ, or leave it blank",
                );
                None
            }
        },
    };
    let answer = |n: &str| parse_code::<Answer>(f.get(n)).unwrap_or(Answer::NotStated);
    let equality = EqualityMonitoring {
        sex: parse_code(f.get("sex")).unwrap_or(Sex::NotStated),
        gender_identity_same_as_birth: answer("gender_identity_same_as_birth"),
        ethnicity: parse_code(f.get("ethnicity")).unwrap_or(Ethnicity::NotStated),
        religion: parse_code(f.get("religion")).unwrap_or(Religion::NotStated),
        sexual_orientation: parse_code(f.get("sexual_orientation"))
            .unwrap_or(SexualOrientation::NotStated),
        disability: answer("disability"),
        learning_disability: answer("learning_disability"),
        sight_impairment: answer("sight_impairment"),
        hearing_impairment: answer("hearing_impairment"),
        pregnant: answer("pregnant"),
        nationality: f.optional("nationality"),
        first_language: f.optional("first_language"),
        interpreter_needed: answer("interpreter_needed"),
    };
    let priority = f.all("priority");
    match (prison_number, given, family, dob) {
        (Some(prison_number), Some(given_name), Some(family_name), Some(date_of_birth))
            if e.is_empty() =>
        {
            Ok(PersonDetails {
                prison_number,
                given_name,
                family_name,
                date_of_birth,
                home_postcode: postcode,
                equality,
                priority: RecordedPriorityFlags {
                    prolific_offender: priority.iter().any(|p| p == "prolific_offender"),
                    dual_diagnosis: priority.iter().any(|p| p == "dual_diagnosis"),
                },
            })
        }
        _ => Err(e),
    }
}
