//! `hcount serve`: the web application of the inbox. Units sign in with their token and
//! upload their file; the coordinator follows the round. Pages are rendered on the server
//! (minijinja, templates in `templates/`, named `*.html` so that they are escaped), work
//! without JavaScript and load nothing from the network.
//!
//! Security, in one place: sessions live in memory with an idle and an absolute limit; the
//! session cookie is HttpOnly, SameSite=Strict and Secure; every form carries the session's
//! synchronizer token (compared in constant time), and tower-http's `CsrfLayer` refuses
//! cross-site requests by `Sec-Fetch-Site`/`Origin` as well; failed sign-ins are limited per
//! client address (429); uploads are bounded in bytes (413) and rows (413); every response
//! has a strict Content-Security-Policy. The server logs no personal data: uploads are
//! handed to the store in memory and only their counts are printed.

mod handlers;
pub mod i18n;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{get, post};

pub use session::Who;

use crate::inbox::Inbox;
use crate::intake::pseudonymise::Key;

/// Everything `serve` needs besides the store, validated once from the command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Largest upload accepted, in bytes (larger: 413).
    pub max_upload_bytes: usize,
    /// Most rows (lines of a CSV, rows of the sheet of an .xlsx) accepted in one upload.
    pub max_rows: usize,
    /// A session ends this long after its last request…
    pub session_idle: Duration,
    /// …and this long after sign-in in any case.
    pub session_absolute: Duration,
    /// Failed sign-ins from one address before it must wait (429)…
    pub sign_in_failures: u32,
    /// …for this long.
    pub sign_in_window: Duration,
}

impl ServeConfig {
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:8080";
    pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 16 << 20;
    pub const DEFAULT_MAX_ROWS: usize = 100_000;

    pub fn new(listen: SocketAddr) -> ServeConfig {
        ServeConfig {
            listen,
            max_upload_bytes: Self::DEFAULT_MAX_UPLOAD_BYTES,
            max_rows: Self::DEFAULT_MAX_ROWS,
            session_idle: Duration::from_secs(2 * 3600),
            session_absolute: Duration::from_secs(12 * 3600),
            sign_in_failures: 10,
            sign_in_window: Duration::from_secs(5 * 60),
        }
    }
}

pub(crate) struct AppState {
    /// The store (inbox-core's API); every call opens its own connection, and the handlers
    /// make them from `spawn_blocking`.
    inbox: Inbox,
    /// The pseudonymisation key, for uploads (checked against the inbox's at start).
    key: Key,
    config: ServeConfig,
    sessions: session::Sessions,
    sign_in_limit: session::SignInLimit,
    templates: minijinja::Environment<'static>,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("signin.html", include_str!("templates/signin.html")),
    ("message.html", include_str!("templates/message.html")),
    ("problems.html", include_str!("templates/problems.html")),
    ("history.html", include_str!("templates/history.html")),
    ("unit.html", include_str!("templates/unit.html")),
    ("result.html", include_str!("templates/result.html")),
    ("version.html", include_str!("templates/version.html")),
    (
        "coordinator.html",
        include_str!("templates/coordinator.html"),
    ),
    (
        "coordinator_unit.html",
        include_str!("templates/coordinator_unit.html"),
    ),
];

const STYLE: &str = include_str!("style.css");

fn templates() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    // Escaping is on for `*.html` names, which every template here has (see wave-2 notes:
    // minijinja decides by the name).
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    env.add_filter("seg", path_segment);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .expect("the page templates are part of the program and parse");
    }
    env
}

/// Percent-encodes a value for use as one path segment (respondent ids in links).
fn path_segment(value: String) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The application, for `serve` and for tests that drive it in-process.
pub fn router(inbox: Inbox, key: Key, config: ServeConfig) -> Router {
    let state = Arc::new(AppState {
        sessions: session::Sessions::new(config.session_idle, config.session_absolute),
        sign_in_limit: session::SignInLimit::new(config.sign_in_failures, config.sign_in_window),
        templates: templates(),
        inbox,
        key,
        config,
    });
    // Multipart framing around the files: generous, the files themselves are checked exactly.
    let upload_limit = state.config.max_upload_bytes + (64 << 10);
    Router::new()
        .route("/", get(handlers::home))
        .route("/style.css", get(style))
        .route("/lang/{lang}", get(handlers::set_lang))
        .route("/signin", post(handlers::sign_in))
        .route("/signout", post(handlers::sign_out))
        .route("/unit", get(handlers::unit_home))
        .route(
            "/unit/upload",
            post(handlers::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/unit/confirm", post(handlers::confirm))
        .route("/unit/none", post(handlers::answer_none))
        .route("/unit/versions/{id}", get(handlers::unit_version))
        .route("/coordinator", get(handlers::coordinator))
        .route("/coordinator/status.csv", get(handlers::status_csv))
        .route("/coordinator/units/{id}", get(handlers::coordinator_unit))
        .route("/coordinator/units/{id}/restore", post(handlers::restore))
        .fallback(handlers::not_found)
        .layer(tower_http::csrf::CsrfLayer::new())
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn style() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
}

/// Headers on every response: nothing but this site's own resources, no framing, no
/// referrer, no caching of pages that show a unit's data.
async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // A refused upload may leave part of its body unread, and hyper then closes the
    // connection; saying so keeps a client from sending its next request on it (CI saw a
    // pooled client's next upload fail with a closed connection).
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// Runs the server until Ctrl-C or SIGTERM. Prints `listening on http://ADDR` on stderr once
/// bound (with the real port when `--listen` asked for port 0).
pub fn serve(inbox: Inbox, key: Key, config: ServeConfig) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        eprintln!("hcount serve: listening on http://{addr}");
        let app = router(inbox, key, config);
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        eprintln!("hcount serve: stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    // futures' select rather than tokio::select!, which needs tokio's `macros` feature (a
    // change of tokio's features rebuilds DataFusion).
    futures::future::select(Box::pin(ctrl_c), Box::pin(term)).await;
}
