//! The request handlers. Each checks who is signed in (and the form's CSRF token for a
//! POST) before it touches the store; the store is called from `spawn_blocking`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};

use super::AppState;
use super::session::{Session, Who};
use crate::inbox::{Actor, Inbox, InboxError, UploadFile, UploadOutcome, Version};
use crate::intake::pseudonymise::Key;
use crate::intake::validate::Problem;

type Shared = State<Arc<AppState>>;

const SESSION_COOKIE: &str = "hcount_session";
const LANG_COOKIE: &str = "hcount_lang";

/// The request's language (cookie; Danish unless switched) and session.
struct Visitor {
    da: bool,
    session: Option<(String, Session)>,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn visitor(state: &AppState, headers: &HeaderMap) -> Visitor {
    let da = cookie(headers, LANG_COOKIE) != Some("en");
    let session = cookie(headers, SESSION_COOKIE)
        .and_then(|id| state.sessions.get(id).map(|s| (id.to_string(), s)));
    Visitor { da, session }
}

impl Visitor {
    fn text(&self, da: &str, en: &str) -> String {
        if self.da { da } else { en }.to_string()
    }

    fn csrf(&self) -> &str {
        self.session
            .as_ref()
            .map(|(_, s)| s.csrf.as_str())
            .unwrap_or("")
    }
}

/// Renders a page with the context every page needs (language, texts, CSRF token).
fn page(state: &AppState, v: &Visitor, status: StatusCode, name: &str, extra: Value) -> Response {
    let base = context! {
        lang => if v.da { "da" } else { "en" },
        other_lang => if v.da { "en" } else { "da" },
        t => super::i18n::texts(v.da),
        csrf => v.csrf(),
    };
    let ctx = context! { ..extra, ..base };
    match state
        .templates
        .get_template(name)
        .and_then(|tpl| tpl.render(ctx))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            eprintln!("hcount serve: template {name}: {e:#}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error: a page could not be rendered",
            )
                .into_response()
        }
    }
}

/// A refusal or error: a page with a heading and a message, with the right status code.
fn message(state: &AppState, v: &Visitor, status: StatusCode, text: String) -> Response {
    let heading = if status.is_server_error() {
        v.text("Der gik noget galt", "Something went wrong")
    } else {
        v.text("Det kunne ikke lade sig gøre", "That was not possible")
    };
    page(
        state,
        v,
        status,
        "message.html",
        context! { heading, message => text },
    )
}

/// A store error as a page: a refusal (the message says why; 422), a file that cannot be
/// read (422), or a failure of the database or disk (500, logged).
fn failed(state: &AppState, v: &Visitor, e: InboxError) -> Response {
    match e {
        InboxError::Refused(m) => message(
            state,
            v,
            StatusCode::UNPROCESSABLE_ENTITY,
            v.text("Indbakken afviste det: ", "The inbox refused it: ") + &m,
        ),
        InboxError::Unreadable { file, message: m } => message(
            state,
            v,
            StatusCode::UNPROCESSABLE_ENTITY,
            if v.da {
                format!(
                    "Filen {file} kunne ikke læses som et skema ({m}). Intet er gemt. Gem den som CSV eller .xlsx, og send den igen."
                )
            } else {
                format!(
                    "The file {file} could not be read as a form ({m}). Nothing was stored. Save it as CSV or .xlsx and send it again."
                )
            },
        ),
        e @ (InboxError::Db(_) | InboxError::Io(_)) => {
            // Store errors name files and tables, never rows: safe to log.
            eprintln!("hcount serve: store error: {e}");
            message(
                state,
                v,
                StatusCode::INTERNAL_SERVER_ERROR,
                v.text(
                    "Indbakken kunne ikke læses eller skrives. Prøv igen om lidt; sker det igen, så kontakt koordinatoren.",
                    "The inbox could not be read or written. Try again in a moment; if it happens again, contact the coordinator.",
                ),
            )
        }
    }
}

/// Runs a store call off the async workers (rusqlite and Parquet block).
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Inbox, &Key) -> crate::inbox::Result<T> + Send + 'static,
) -> crate::inbox::Result<T> {
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || f(&state.inbox, &state.key))
        .await
        .map_err(|e| InboxError::Io(std::io::Error::other(format!("store task failed: {e}"))))?
}

/// A version as the pages show it.
#[derive(serde::Serialize)]
struct VersionView {
    number: u32,
    /// `YYYY-MM-DD HH:MM:SS` (UTC).
    at: String,
    /// `upload`, `none` or `held`.
    kind: &'static str,
    files: String,
    sha256: String,
    rows_read: u64,
    rows_accepted: u64,
    rows_rejected: u64,
    warnings: u64,
    persons: u64,
    current: bool,
    held: bool,
    by: String,
}

fn version_view(v: &Version) -> VersionView {
    VersionView {
        number: v.number,
        at: v
            .created_at
            .get(..19)
            .unwrap_or(v.created_at.as_str())
            .replace('T', " "),
        kind: if v.held {
            "held"
        } else if v.answered_none {
            "none"
        } else {
            "upload"
        },
        files: v.files.join(", "),
        sha256: v.sha256.clone(),
        rows_read: v.rows_read,
        rows_accepted: v.rows_accepted,
        rows_rejected: v.rows_rejected,
        warnings: v.warnings,
        persons: v.persons,
        current: v.current,
        held: v.held,
        by: v.actor.clone(),
    }
}

/// A respondent type as a caseworker reads it (the format's label in the visitor's language;
/// the code itself if it is not one of the format's).
fn respondent_type_label(code: &str, da: bool) -> String {
    crate::intake::spec::find_code(&crate::intake::spec::RESPONDENT_TYPES, code)
        .map(|c| c.label(da).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn unit_view(u: &crate::inbox::Unit, da: bool) -> Value {
    context! {
        respondent_id => u.respondent_id.clone(),
        name => u.name.clone(),
        respondent_type => respondent_type_label(&u.respondent_type, da),
        municipality => format!(
            "{} {}",
            u.municipality,
            crate::intake::spec::municipality_name(u.municipality).unwrap_or("")
        ),
    }
}

/// The sign-in page with a status and an optional message (401 when a page needs a session).
fn sign_in_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    page(state, v, status, "signin.html", context! { error })
}

fn need_sign_in(state: &AppState, v: &Visitor) -> Response {
    sign_in_page(
        state,
        v,
        StatusCode::UNAUTHORIZED,
        Some(v.text(
            "Log ind med jeres kode først (eller jeres session er udløbet).",
            "Sign in with your code first (or your session has expired).",
        )),
    )
}

/// The signed-in unit, or the response that refuses the request.
fn require_unit(state: &AppState, v: &Visitor) -> Result<String, Response> {
    match v.session.as_ref().map(|(_, s)| &s.who) {
        Some(Who::Unit(id)) => Ok(id.clone()),
        Some(Who::Coordinator) => Err(message(
            state,
            v,
            StatusCode::FORBIDDEN,
            v.text(
                "Denne side er for de indberettende enheder; koordinatoren bruger koordinatorsiden.",
                "This page is for the reporting units; the coordinator uses the coordinator's page.",
            ),
        )),
        None => Err(need_sign_in(state, v)),
    }
}

fn require_coordinator(state: &AppState, v: &Visitor) -> Result<(), Response> {
    match v.session.as_ref().map(|(_, s)| &s.who) {
        Some(Who::Coordinator) => Ok(()),
        Some(Who::Unit(_)) => Err(message(
            state,
            v,
            StatusCode::FORBIDDEN,
            v.text(
                "Kun koordinatoren kan se denne side. En enhed ser kun sine egne indsendelser.",
                "Only the coordinator can see this page. A unit sees only its own submissions.",
            ),
        )),
        None => Err(need_sign_in(state, v)),
    }
}

/// Refuses a POST whose form token is not the session's.
fn check_csrf(state: &AppState, v: &Visitor, submitted: Option<&str>) -> Result<(), Response> {
    let ok = match (&v.session, submitted) {
        (Some((_, s)), Some(t)) => s.csrf_matches(t),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(message(
            state,
            v,
            StatusCode::FORBIDDEN,
            v.text(
                "Formularen mangler sit sikkerhedsmærke eller er forældet. Gå tilbage, genindlæs siden og prøv igen.",
                "The form lacks its security token or is out of date. Go back, reload the page and try again.",
            ),
        ))
    }
}

pub async fn not_found(State(state): Shared, headers: HeaderMap) -> Response {
    let v = visitor(&state, &headers);
    message(
        &state,
        &v,
        StatusCode::NOT_FOUND,
        v.text("Siden findes ikke.", "There is no such page."),
    )
}

pub async fn home(State(state): Shared, headers: HeaderMap) -> Response {
    let v = visitor(&state, &headers);
    match v.session.as_ref().map(|(_, s)| &s.who) {
        Some(Who::Unit(_)) => Redirect::to("/unit").into_response(),
        Some(Who::Coordinator) => Redirect::to("/coordinator").into_response(),
        None => sign_in_page(&state, &v, StatusCode::OK, None),
    }
}

#[derive(serde::Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// `GET /lang/{da|en}?back=/path`: remembers the language in a cookie and goes back.
pub async fn set_lang(Path(lang): Path<String>, Query(q): Query<Back>) -> Response {
    let lang = if lang == "en" { "en" } else { "da" };
    // Only a local path: never an open redirect.
    let back = q
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".to_string());
    (
        [(
            header::SET_COOKIE,
            format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict"),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

/// The address sign-in attempts are limited by: the peer's, or, when the peer is on this
/// machine (the reverse proxy in front: the server listens on 127.0.0.1), the address the
/// proxy appended last to `X-Forwarded-For`. Otherwise every unit would share the proxy's
/// address, and one unit's typos would lock all of them out.
fn client_ip(peer: SocketAddr, headers: &HeaderMap) -> std::net::IpAddr {
    if peer.ip().is_loopback()
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|s| s.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}

#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    token: String,
}

pub async fn sign_in(
    State(state): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let v = visitor(&state, &headers);
    let ip = client_ip(peer, &headers);
    if let Some(wait) = state.sign_in_limit.blocked(ip) {
        let mut res = sign_in_page(
            &state,
            &v,
            StatusCode::TOO_MANY_REQUESTS,
            Some(if v.da {
                format!("For mange forkerte forsøg. Vent {wait} sekunder, og prøv igen.")
            } else {
                format!("Too many wrong attempts. Wait {wait} seconds and try again.")
            }),
        );
        if let Ok(value) = wait.to_string().parse() {
            res.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return res;
    }
    let token = form.token.trim().to_string();
    if token.is_empty() {
        return sign_in_page(
            &state,
            &v,
            StatusCode::BAD_REQUEST,
            Some(v.text("Skriv jeres kode.", "Enter your code.")),
        );
    }
    let access = blocking(&state, move |inbox, _| {
        if inbox.is_coordinator(&token)? {
            return Ok(Some(Who::Coordinator));
        }
        Ok(inbox
            .unit_for_token(&token)?
            .map(|u| Who::Unit(u.respondent_id)))
    })
    .await;
    let who = match access {
        Ok(Some(who)) => who,
        Ok(None) => {
            state.sign_in_limit.failed(ip);
            let _ = blocking(&state, |inbox, _| {
                inbox.record(
                    None,
                    Actor::Unit,
                    "sign_in_refused",
                    Some("unknown or revoked token"),
                )
            })
            .await;
            return sign_in_page(
                &state,
                &v,
                StatusCode::UNAUTHORIZED,
                Some(v.text(
                    "Koden er forkert eller er trukket tilbage. Kontakt koordinatoren for en ny kode.",
                    "The code is wrong or has been revoked. Contact the coordinator for a new code.",
                )),
            );
        }
        Err(e) => return failed(&state, &v, e),
    };
    let entry = who.clone();
    if let Err(e) = blocking(&state, move |inbox, _| match &entry {
        Who::Unit(id) => inbox.record(Some(id), Actor::Unit, "sign_in", None),
        Who::Coordinator => inbox.record(None, Actor::Coordinator, "sign_in", None),
    })
    .await
    {
        return failed(&state, &v, e);
    }
    // A fresh session id at every sign-in (no fixation); the old one, if any, ends.
    if let Some((old, _)) = &v.session {
        state.sessions.end(old);
    }
    let target = match who {
        Who::Unit(_) => "/unit",
        Who::Coordinator => "/coordinator",
    };
    let id = state.sessions.start(who);
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Secure"),
        )],
        Redirect::to(target),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn sign_out(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let v = visitor(&state, &headers);
    if let Err(r) = check_csrf(&state, &v, form.csrf.as_deref()) {
        return r;
    }
    if let Some((id, _)) = &v.session {
        state.sessions.end(id);
    }
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure"),
        )],
        Redirect::to("/"),
    )
        .into_response()
}

pub async fn unit_home(State(state): Shared, headers: HeaderMap) -> Response {
    let v = visitor(&state, &headers);
    let unit = match require_unit(&state, &v) {
        Ok(u) => u,
        Err(r) => return r,
    };
    unit_page(&state, &v, &unit, None).await
}

async fn unit_page(
    state: &Arc<AppState>,
    v: &Visitor,
    unit: &str,
    notice: Option<String>,
) -> Response {
    let id = unit.to_string();
    let got = blocking(state, move |inbox, _| {
        Ok((inbox.unit(&id)?, inbox.history(&id)?))
    })
    .await;
    match got {
        Ok((Some(info), history)) => page(
            state,
            v,
            StatusCode::OK,
            "unit.html",
            context! {
                unit => unit_view(&info, v.da),
                history => Value::from(minijinja::value::Serde(&history.iter().map(version_view).collect::<Vec<_>>())),
                notice,
            },
        ),
        // The unit was removed from the registry while signed in.
        Ok((None, _)) => need_sign_in(state, v),
        Err(e) => failed(state, v, e),
    }
}

/// What kind of file an upload is, from its name and first bytes (the browser's content type
/// is whatever the client says).
fn upload_kind(file_name: &str, bytes: &[u8]) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    let zip = bytes.starts_with(b"PK\x03\x04");
    if lower.ends_with(".xlsx") {
        return zip.then_some("xlsx");
    }
    if lower.ends_with(".csv") || lower.ends_with(".txt") {
        // Text: no NUL bytes (UTF-16 and binaries have them), not an archive.
        let head = &bytes[..bytes.len().min(64 << 10)];
        return (!zip && !head.contains(&0)).then_some("csv");
    }
    None
}

/// Rows in an upload, for the bound: lines of a CSV (an upper bound: a quoted line break
/// counts twice), rows of the largest sheet of an .xlsx. `None`: not readable, which the
/// store reports properly.
fn count_rows(kind: &str, bytes: &[u8]) -> Option<usize> {
    if kind == "csv" {
        return Some(memchr_count(bytes));
    }
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).ok()?;
    let names = book.sheet_names().to_vec();
    names
        .iter()
        .filter_map(|n| book.worksheet_range(n).ok())
        .map(|r| r.height())
        .max()
}

fn memchr_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count() + usize::from(!bytes.ends_with(b"\n"))
}

pub async fn upload(
    State(state): Shared,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let v = visitor(&state, &headers);
    let unit = match require_unit(&state, &v) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let max = state.config.max_upload_bytes;
    let too_large = |v: &Visitor| {
        let mib = max as f64 / (1 << 20) as f64;
        message(
            &state,
            v,
            StatusCode::PAYLOAD_TOO_LARGE,
            if v.da {
                format!(
                    "Filen er for stor. Den største fil, der kan modtages, er {mib:.1} MiB. Del den op, eller kontakt koordinatoren."
                )
            } else {
                format!(
                    "The file is too large. The largest file accepted is {mib:.1} MiB. Split it, or contact the coordinator."
                )
            },
        )
    };
    let cut_off = |v: &Visitor, status: StatusCode| {
        message(
            &state,
            v,
            status,
            v.text(
                "Filen kom ikke helt frem, eller formularen er ugyldig. Prøv igen.",
                "The file did not arrive whole, or the form is not valid. Try again.",
            ),
        )
    };
    let mut csrf = None;
    let mut files: Vec<UploadFile> = Vec::new();
    let mut total = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // The body limit shows up here (not in the extractor): keep its 413.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(&v),
            Err(e) => return cut_off(&v, e.status()),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(&v),
            Err(e) => return cut_off(&v, e.status()),
        };
        match name.as_str() {
            "csrf" => csrf = Some(String::from_utf8_lossy(&data).into_owned()),
            // A browser sends an empty part when no file was chosen.
            "file" if !data.is_empty() || file_name.as_deref().is_some_and(|n| !n.is_empty()) => {
                total += data.len();
                files.push(UploadFile {
                    name: file_name.unwrap_or_default(),
                    bytes: data.to_vec(),
                });
            }
            _ => {}
        }
    }
    if let Err(r) = check_csrf(&state, &v, csrf.as_deref()) {
        return r;
    }
    if files.is_empty() {
        return message(
            &state,
            &v,
            StatusCode::BAD_REQUEST,
            v.text("Vælg en fil at sende.", "Choose a file to send."),
        );
    }
    if total > max {
        return too_large(&v);
    }
    let mut kinds = Vec::with_capacity(files.len());
    for f in &files {
        let Some(kind) = upload_kind(&f.name, &f.bytes) else {
            return message(
                &state,
                &v,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                if v.da {
                    format!(
                        "{} er hverken en CSV-fil eller en Excel-fil (.xlsx). Intet er gemt. Gem skemaet som CSV eller .xlsx, og send det igen.",
                        f.name
                    )
                } else {
                    format!(
                        "{} is neither a CSV file nor an Excel file (.xlsx). Nothing was stored. Save the form as CSV or .xlsx and send it again.",
                        f.name
                    )
                },
            );
        };
        kinds.push(kind);
    }
    let max_rows = state.config.max_rows;
    let (rows, files) = tokio::task::spawn_blocking(move || {
        let rows: usize = files
            .iter()
            .zip(&kinds)
            .map(|(f, kind)| count_rows(kind, &f.bytes).unwrap_or(0).saturating_sub(1))
            .sum();
        (rows, files)
    })
    .await
    .unwrap_or((usize::MAX, Vec::new()));
    if rows > max_rows {
        return message(
            &state,
            &v,
            StatusCode::PAYLOAD_TOO_LARGE,
            if v.da {
                format!(
                    "Filen har for mange rækker; højst {max_rows} kan modtages ad gangen. Intet er gemt. Kontakt koordinatoren."
                )
            } else {
                format!(
                    "The file has too many rows; at most {max_rows} are accepted at a time. Nothing was stored. Contact the coordinator."
                )
            },
        );
    }
    let id = unit.clone();
    let outcome = blocking(&state, move |inbox, key| {
        inbox.submit(&id, &files, key, Actor::Unit, false)
    })
    .await;
    match outcome {
        Ok(outcome) => upload_result(&state, &v, &unit, outcome),
        Err(e) => failed(&state, &v, e),
    }
}

/// Shows what an upload (or "no homeless persons") gave: the counts and every problem, or
/// the question whether to replace the earlier submission.
fn upload_result(state: &AppState, v: &Visitor, unit: &str, outcome: UploadOutcome) -> Response {
    let (status, held) = match &outcome {
        UploadOutcome::Stored(_) => (StatusCode::OK, None),
        UploadOutcome::Held {
            earlier_persons,
            kept,
            ..
        } => (
            StatusCode::ACCEPTED,
            Some(context! { earlier_persons, kept }),
        ),
    };
    let upload = outcome.upload();
    let version = &upload.version;
    // Counts only: nothing personal in the server's output.
    eprintln!(
        "hcount serve: unit {unit}: version {} {}: {} read, {} accepted, {} rejected",
        version.number,
        if version.held { "held" } else { "stored" },
        version.rows_read,
        version.rows_accepted,
        version.rows_rejected
    );
    let (rules, rows) = problem_rows(&upload.problems, v.da);
    page(
        state,
        v,
        status,
        "result.html",
        context! { version => Value::from(minijinja::value::Serde(&version_view(version))), held, rules, problems => rows },
    )
}

/// The problems of a file for the page: one line per rule (as `validate` groups them), and
/// every problem row by row, in line order. Values are masked by the intake already.
fn problem_rows(problems: &[Problem], da: bool) -> (Vec<Value>, Vec<Value>) {
    let mut by_rule: BTreeMap<_, u64> = BTreeMap::new();
    for p in problems {
        *by_rule.entry(p.code).or_default() += 1;
    }
    let severity = |error: bool| if error { "error" } else { "warning" };
    let kind = |error: bool| match (error, da) {
        (true, true) => "afvist",
        (true, false) => "rejected",
        (false, true) => "advarsel",
        (false, false) => "warning",
    };
    let rules = by_rule
        .iter()
        .map(|(rule, count)| {
            context! {
                code => rule.code(),
                title => rule.title_in(da),
                fix => rule.fix_in(da),
                kind => kind(rule.is_error()),
                severity => severity(rule.is_error()),
                count,
            }
        })
        .collect();
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.file, a.line, &a.column, a.code).cmp(&(&b.file, b.line, &b.column, b.code))
    });
    let rows = sorted
        .into_iter()
        .map(|p| {
            context! {
                file => p.file.rsplit('/').next().unwrap_or(&p.file),
                line => p.line,
                column => p.column.clone(),
                value => p.value.clone(),
                code => p.code.code(),
                severity => severity(p.code.is_error()),
                reason => p.reason.get(da),
            }
        })
        .collect();
    (rules, rows)
}

#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    csrf: Option<String>,
    version: Option<u32>,
}

/// `POST /unit/confirm`: the unit confirms the held upload it was shown (its latest version,
/// if that is still the held one).
pub async fn confirm(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let v = visitor(&state, &headers);
    let unit = match require_unit(&state, &v) {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = check_csrf(&state, &v, form.csrf.as_deref()) {
        return r;
    }
    let Some(number) = form.version else {
        return no_such_version(&state, &v);
    };
    let id = unit.clone();
    let got = blocking(&state, move |inbox, _| {
        // Only the held version that is still the latest: a newer upload since the question
        // was asked makes the answer stale.
        let latest = inbox.history(&id)?.into_iter().next();
        if !latest.is_some_and(|l| l.number == number && l.held) {
            return Ok(None);
        }
        let version = inbox.confirm_held(&id, Actor::Unit)?;
        let problems = inbox.problems(&id, version.number)?;
        Ok(Some((version, problems)))
    })
    .await;
    match got {
        Ok(Some((version, problems))) => {
            eprintln!("hcount serve: unit {unit}: version {} confirmed", version.number);
            let (rules, rows) = problem_rows(&problems, v.da);
            page(
                &state,
                &v,
                StatusCode::OK,
                "result.html",
                context! { version => Value::from(minijinja::value::Serde(&version_view(&version))), held => None::<Value>, rules, problems => rows },
            )
        }
        Ok(None) => message(
            &state,
            &v,
            StatusCode::CONFLICT,
            v.text(
                "Den indsendelse venter ikke længere på bekræftelse (der er sendt en nyere). Se historikken.",
                "That submission no longer waits for confirmation (a newer one was sent). See the history.",
            ),
        ),
        Err(e) => failed(&state, &v, e),
    }
}

pub async fn answer_none(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let v = visitor(&state, &headers);
    let unit = match require_unit(&state, &v) {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = check_csrf(&state, &v, form.csrf.as_deref()) {
        return r;
    }
    let id = unit.clone();
    match blocking(&state, move |inbox, key| {
        inbox.answer_none(&id, key, Actor::Unit, false)
    })
    .await
    {
        Ok(UploadOutcome::Stored(_)) => {
            eprintln!("hcount serve: unit {unit}: answered no homeless persons");
            let notice = v.text(
                "Tak. Jeres svar er registreret: ingen hjemløse personer denne uge.",
                "Thank you. Your answer is recorded: no homeless persons this week.",
            );
            unit_page(&state, &v, &unit, Some(notice)).await
        }
        // It would drop the persons of an earlier upload: ask first, as for an upload.
        Ok(held @ UploadOutcome::Held { .. }) => upload_result(&state, &v, &unit, held),
        Err(e) => failed(&state, &v, e),
    }
}

fn no_such_version(state: &AppState, v: &Visitor) -> Response {
    message(
        state,
        v,
        StatusCode::NOT_FOUND,
        v.text(
            "Den indsendelse findes ikke blandt jeres.",
            "There is no such submission among yours.",
        ),
    )
}

/// `GET /unit/versions/{n}`: one of the signed-in unit's own versions. The path names no
/// unit, so there is nothing to change to see another unit's.
pub async fn unit_version(
    State(state): Shared,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    let v = visitor(&state, &headers);
    let unit = match require_unit(&state, &v) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(number) = number.parse::<u32>() else {
        return no_such_version(&state, &v);
    };
    let got = blocking(&state, move |inbox, _| {
        let Some(version) = inbox.version(&unit, number)? else {
            return Ok(None);
        };
        Ok(Some((version, inbox.problems(&unit, number)?)))
    })
    .await;
    match got {
        Ok(Some((version, problems))) => {
            let (rules, rows) = problem_rows(&problems, v.da);
            page(
                &state,
                &v,
                StatusCode::OK,
                "version.html",
                context! { version => Value::from(minijinja::value::Serde(&version_view(&version))), rules, problems => rows },
            )
        }
        Ok(None) => no_such_version(&state, &v),
        Err(e) => failed(&state, &v, e),
    }
}

fn tally_view(name: &str, t: &crate::inbox::status::Tally) -> Value {
    context! {
        name,
        asked => t.asked,
        answered => t.answered,
        answered_none => t.answered_none,
        missing => t.asked - t.answered.min(t.asked),
        rows_accepted => t.rows_accepted,
        rows_rejected => t.rows_rejected,
        rate => if t.asked == 0 { String::new() } else { format!("{:.0} %", t.rate()) },
    }
}

fn groups_view(groups: &[crate::inbox::status::Group], da: bool) -> Vec<Value> {
    groups
        .iter()
        .map(|g| {
            // Respondent types by their label in the page's language; others by name.
            let label =
                crate::intake::spec::find_code(&crate::intake::spec::RESPONDENT_TYPES, &g.key)
                    .map_or(g.label.as_str(), |c| c.label(da));
            tally_view(label, &g.tally)
        })
        .collect()
}

pub async fn coordinator(State(state): Shared, headers: HeaderMap) -> Response {
    let v = visitor(&state, &headers);
    if let Err(r) = require_coordinator(&state, &v) {
        return r;
    }
    let status = match blocking(&state, |inbox, _| inbox.status()).await {
        Ok(s) => s,
        Err(e) => return failed(&state, &v, e),
    };
    let t = super::i18n::texts(v.da);
    let view = context! {
        count_year => status.count_year,
        last_upload => status.last_upload.as_deref().map(|s| s.get(..19).unwrap_or(s).replace('T', " ")),
        total => tally_view(t["total"], &status.total),
        by_type => groups_view(&status.by_type, v.da),
        by_region => groups_view(&status.by_region, v.da),
        by_municipality => groups_view(&status.by_municipality, v.da),
        units => status.units.iter().map(|u| context! {
            respondent_id => u.respondent_id.clone(),
            name => u.name.clone(),
            respondent_type => respondent_type_label(&u.respondent_type, v.da),
            municipality => format!("{} {}", u.municipality, u.municipality_name),
            answered => u.answered,
            answered_none => u.answered_none,
            held => u.held,
            has_token => u.has_token,
            last_upload => u.last_upload.as_deref().map(|s| s.get(..19).unwrap_or(s).replace('T', " ")),
            rows_accepted => u.rows_accepted,
            rows_rejected => u.rows_rejected,
        }).collect::<Vec<_>>(),
    };
    let outstanding: Vec<Value> = status
        .rejected_outstanding()
        .map(|u| context! { respondent_id => u.respondent_id.clone(), name => u.name.clone(), rows_rejected => u.rows_rejected })
        .collect();
    let missing: Vec<Value> = status
        .not_answered()
        .map(|u| context! { respondent_id => u.respondent_id.clone(), name => u.name.clone() })
        .collect();
    page(
        &state,
        &v,
        StatusCode::OK,
        "coordinator.html",
        context! { status => view, outstanding, missing },
    )
}

pub async fn status_csv(State(state): Shared, headers: HeaderMap) -> Response {
    let v = visitor(&state, &headers);
    if let Err(r) = require_coordinator(&state, &v) {
        return r;
    }
    match blocking(&state, |inbox, _| Ok(inbox.status()?.to_csv())).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"hcount-status.csv\"",
                ),
            ],
            csv,
        )
            .into_response(),
        Err(e) => failed(&state, &v, e),
    }
}

fn no_such_unit(state: &AppState, v: &Visitor) -> Response {
    message(
        state,
        v,
        StatusCode::NOT_FOUND,
        v.text(
            "Der er ingen enhed med det id.",
            "There is no unit with that id.",
        ),
    )
}

async fn coordinator_unit_page(
    state: &Arc<AppState>,
    v: &Visitor,
    unit: String,
    notice: Option<String>,
) -> Response {
    let got = blocking(state, move |inbox, _| {
        let Some(info) = inbox.unit(&unit)? else {
            return Ok(None);
        };
        Ok(Some((info, inbox.history(&unit)?)))
    })
    .await;
    match got {
        Ok(Some((info, history))) => {
            let restore_action = format!(
                "/coordinator/units/{}/restore",
                super::path_segment(info.respondent_id.clone())
            );
            page(
                state,
                v,
                StatusCode::OK,
                "coordinator_unit.html",
                context! {
                    unit => unit_view(&info, v.da),
                    history => Value::from(minijinja::value::Serde(&history.iter().map(version_view).collect::<Vec<_>>())),
                    restore_action,
                    notice,
                },
            )
        }
        Ok(None) => no_such_unit(state, v),
        Err(e) => failed(state, v, e),
    }
}

pub async fn coordinator_unit(
    State(state): Shared,
    headers: HeaderMap,
    Path(unit): Path<String>,
) -> Response {
    let v = visitor(&state, &headers);
    if let Err(r) = require_coordinator(&state, &v) {
        return r;
    }
    coordinator_unit_page(&state, &v, unit, None).await
}

#[derive(serde::Deserialize)]
pub struct RestoreForm {
    csrf: Option<String>,
    version: Option<u32>,
}

pub async fn restore(
    State(state): Shared,
    headers: HeaderMap,
    Path(unit): Path<String>,
    Form(form): Form<RestoreForm>,
) -> Response {
    let v = visitor(&state, &headers);
    if let Err(r) = require_coordinator(&state, &v) {
        return r;
    }
    if let Err(r) = check_csrf(&state, &v, form.csrf.as_deref()) {
        return r;
    }
    let Some(number) = form.version else {
        return no_such_version(&state, &v);
    };
    let id = unit.clone();
    let got = blocking(&state, move |inbox, _| {
        if inbox.unit(&id)?.is_none() || inbox.version(&id, number)?.is_none() {
            return Ok(None);
        }
        inbox.restore(&id, number, Actor::Coordinator).map(Some)
    })
    .await;
    match got {
        Ok(Some(_)) => {
            eprintln!("hcount serve: unit {unit}: version {number} restored by the coordinator");
            let notice = super::i18n::texts(v.da)["restored"].to_string();
            coordinator_unit_page(&state, &v, unit, Some(notice)).await
        }
        Ok(None) => no_such_version(&state, &v),
        Err(e) => failed(&state, &v, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_kinds_are_sniffed_not_believed() {
        assert_eq!(
            upload_kind("a.csv", b"count_year,cpr\n2026,\n"),
            Some("csv")
        );
        assert_eq!(upload_kind("A.CSV", b"x;y\r\n"), Some("csv"));
        assert_eq!(upload_kind("a.xlsx", b"PK\x03\x04rest"), Some("xlsx"));
        assert_eq!(upload_kind("a.xlsx", b"count_year\n"), None);
        assert_eq!(upload_kind("a.csv", b"PK\x03\x04"), None);
        assert_eq!(upload_kind("a.csv", b"\xff\xfec\x00o\x00"), None);
        assert_eq!(upload_kind("a.pdf", b"%PDF-1.7"), None);
        assert_eq!(upload_kind("", b"a,b\n"), None);
    }

    #[test]
    fn rows_are_counted_with_or_without_a_last_newline() {
        assert_eq!(count_rows("csv", b"h\n1\n2\n"), Some(3));
        assert_eq!(count_rows("csv", b"h\n1\n2"), Some(3));
        assert_eq!(count_rows("csv", b""), Some(1));
    }

    #[test]
    fn sign_ins_are_limited_by_the_address_the_local_proxy_saw() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(client_ip(local, &h), local.ip());
        h.insert("x-forwarded-for", "10.1.1.1, 203.0.113.9".parse().unwrap());
        assert_eq!(client_ip(local, &h).to_string(), "203.0.113.9");
        // Only a proxy on this machine is believed.
        assert_eq!(client_ip(remote, &h), remote.ip());
        h.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_ip(local, &h), local.ip());
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; hcount_lang=en; hcount_session=abc".parse().unwrap(),
        );
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
    }
}
