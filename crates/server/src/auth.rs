//! Authentication: argon2id password hashes, sessions held in our own store
//! (token in an HttpOnly SameSite=Strict cookie or a bearer header; only its SHA-256
//! is stored), and CSRF tokens for forms.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use throughcare_domain::identifiers::{EstablishmentCode, StaffUsername};
use throughcare_store::{Session, StaffAccount};

use crate::app::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tc_session";
/// The pre-sign-in CSRF cookie's name (double-submit for the sign-in form).
pub const SIGN_IN_CSRF_COOKIE: &str = "tc_csrf";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 10;

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a stored argon2 hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh random token (hex, 256 bits).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session for an account at its first establishment; returns the token
/// (for the cookie or bearer header) and the stored session.
pub fn new_session(account: &StaffAccount, now: DateTime<Utc>) -> Option<(String, Session)> {
    let establishment = account.establishments.first()?.clone();
    let token = random_token();
    let session = Session {
        token_hash: token_hash(&token),
        username: account.username.clone(),
        csrf_token: random_token(),
        establishment,
        created_at: now,
        expires_at: now + Duration::hours(SESSION_HOURS),
    };
    Some((token, session))
}

/// The value of a cookie in the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value for a session-scoped, HttpOnly, SameSite=Strict cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_seconds: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(s) = max_age_seconds {
        c.push_str(&format!("; Max-Age={s}"));
    }
    c
}

/// A signed-in member of staff, with the session they are using.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Their account.
    pub account: StaffAccount,
    /// Their session.
    pub session: Session,
    /// Whether they came with the session cookie (forms then need the CSRF token)
    /// rather than a bearer token.
    pub via_cookie: bool,
}

impl Staff {
    /// The establishment the session works at.
    pub fn establishment(&self) -> &EstablishmentCode {
        &self.session.establishment
    }
    /// Their username.
    pub fn username(&self) -> &StaffUsername {
        &self.account.username
    }
    /// Who they are to the recorder: their username and role, which the domain's
    /// policy table is asked about ([`throughcare_domain::access`]).
    pub fn author(&self) -> throughcare_domain::access::Author {
        throughcare_domain::access::Author::staff(self.account.username.clone(), self.account.role)
    }
}

/// Finds the signed-in member of staff from the cookie or `Authorization: Bearer`.
/// A system's account (the in-cell telephone system) is not staff: for it this
/// answers `None`, so every staff page and API route treats it as signed out
/// (deny by default: [`crate::policy::uses_staff_routes`]).
pub fn staff_from_headers(state: &AppState, headers: &HeaderMap) -> Option<Staff> {
    session_holder(state, headers).filter(|s| crate::policy::uses_staff_routes(s.account.role))
}

/// Whoever holds the session the request presents, whatever their role.
fn session_holder(state: &AppState, headers: &HeaderMap) -> Option<Staff> {
    let (token, via_cookie) = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        Some(t) => (t.trim().to_string(), false),
        None => (cookie(headers, SESSION_COOKIE)?, true),
    };
    let session = state
        .store
        .session(&token_hash(&token), Utc::now())
        .ok()??;
    let account = state.store.account(&session.username).ok()??;
    if !account.active {
        return None;
    }
    Some(Staff {
        account,
        session,
        via_cookie,
    })
}

/// Extractor for staff pages: redirects to the sign-in page when not signed in.
pub struct PageStaff(pub Staff);

impl FromRequestParts<AppState> for PageStaff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        staff_from_headers(state, &parts.headers)
            .map(PageStaff)
            .ok_or_else(|| Redirect::to("/sign-in").into_response())
    }
}

/// Extractor for the JSON API: 401 with a JSON error when not signed in.
pub struct ApiStaff(pub Staff);

impl FromRequestParts<AppState> for ApiStaff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let staff = staff_from_headers(state, &parts.headers).ok_or_else(|| {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"error": "sign in first: send a bearer token from POST /api/v1/session"})),
            )
                .into_response()
        })?;
        // The commissioner sees the returns pages only, never the API.
        if !crate::policy::uses_api(&staff) {
            return Err((
                StatusCode::FORBIDDEN,
                axum::Json(
                    serde_json::json!({"error": "your role does not give access to the API"}),
                ),
            )
                .into_response());
        }
        Ok(ApiStaff(staff))
    }
}

/// Extractor for the one route a system's account may use (`POST
/// /api/v1/self-referrals`): the bearer token of any active account, whose role the
/// handler then checks through [`crate::policy::self_referral_service`]; 401 when
/// there is none. A cookie is not accepted: systems send a bearer token.
pub struct ApiCaller(pub Staff);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        session_holder(state, &parts.headers)
            .filter(|s| !s.via_cookie)
            .map(ApiCaller)
            .ok_or_else(|| {
                (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(serde_json::json!({"error": "sign in first: send a bearer token from POST /api/v1/session"})),
                )
                    .into_response()
            })
    }
}

/// Checks a form's CSRF token against the session's, and that a cross-site origin
/// did not send it. Bearer-token requests carry no ambient credentials and need none.
pub fn check_csrf(
    staff: &Staff,
    headers: &HeaderMap,
    submitted: Option<&str>,
) -> Result<(), &'static str> {
    if !staff.via_cookie {
        return Ok(());
    }
    if !same_origin(headers) {
        return Err("This form came from another site and was not accepted.");
    }
    match submitted {
        Some(t)
            if !t.is_empty()
                && constant_time_eq(t.as_bytes(), staff.session.csrf_token.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(
            "This form has expired or is missing its security token. Go back, reload the page and try again.",
        ),
    }
}

/// Whether the request came from this site: by `Sec-Fetch-Site` when the browser
/// sends it, otherwise by comparing `Origin` (when present) with `Host`.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        }
        _ => true,
    }
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn a_cross_site_origin_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_origin(&h));
    }
}
