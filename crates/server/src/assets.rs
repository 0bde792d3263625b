//! Static files for the web UI (govuk-frontend's CSS and JS, our own CSS, images),
//! embedded in the binary from `crates/server/assets/` and served under `/assets/`.
//!
//! `scripts/refresh-govuk-frontend.sh` refreshes the govuk-frontend files from npm.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The files under `crates/server/assets/`, embedded at compile time (in debug builds
/// rust-embed reads them from disk instead, so edits show without a rebuild).
#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

/// Serves one embedded asset; route it as `/assets/{*path}`.
///
/// Answers 404 for a path that is not an embedded file. Assets are cacheable for an
/// hour: their names are not fingerprinted, so a longer lifetime would keep stale
/// CSS or JS in browsers after an upgrade.
pub async fn asset(Path(path): Path<String>) -> Response {
    // rust-embed only knows the embedded names, but in debug builds it reads from
    // disk: refuse anything that could step outside the folder.
    if path.split(['/', '\\']).any(|segment| segment == "..") || path.starts_with('/') {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(file) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Body::from(file.data),
    )
        .into_response()
}

/// The Content-Type for an asset, from its file extension.
fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension.to_ascii_lowercase().as_str() {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(path: &str) -> Response {
        asset(Path(path.to_owned())).await
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("asset body");
        String::from_utf8(bytes.to_vec()).expect("utf-8 asset")
    }

    #[tokio::test]
    async fn govuk_frontend_css_is_embedded_and_served_as_css() {
        let response = get("govuk-frontend.min.css").await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=3600");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let css = body_text(response).await;
        assert!(
            css.contains(".govuk-header"),
            "the compiled govuk-frontend CSS"
        );
        // We are not on GOV.UK: its typeface must not be used or downloaded.
        assert!(!css.contains("GDS Transport"));
        assert!(!css.contains("@font-face"));
    }

    #[tokio::test]
    async fn scripts_are_served_as_javascript() {
        for path in ["govuk-frontend.min.js", "init.js"] {
            let response = get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "text/javascript; charset=utf-8"
            );
        }
    }

    #[tokio::test]
    async fn an_unknown_path_is_not_found() {
        for path in [
            "no-such-file.css",
            "images/crown.svg",
            "../Cargo.toml",
            "images/../../Cargo.toml",
        ] {
            assert_eq!(get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[test]
    fn content_type_follows_the_extension() {
        assert_eq!(content_type("images/favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("images/icon.PNG"), "image/png");
        assert_eq!(content_type("favicon.ico"), "image/x-icon");
        assert_eq!(
            content_type("LICENSE-govuk-frontend.txt"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type("font.woff2"), "font/woff2");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
