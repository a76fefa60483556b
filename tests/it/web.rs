//! Helpers for the `hcount serve` tests (tests/it/serve.rs): the server as the built binary
//! on 127.0.0.1:0, a small HTTP client (hyper, no TLS), multipart bodies, and chromedriver.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::util::hcount;

/// `hcount serve` running as a child process; killed on drop. Its stderr is kept (for the
/// scan for CPR numbers).
pub struct Server {
    child: Child,
    pub addr: String,
    output: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(inbox: &Path, key: &Path, extra: &[&str]) -> Server {
        let mut child = hcount()
            .arg("serve")
            .arg("--inbox")
            .arg(inbox)
            .arg("--key-file")
            .arg(key)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap());
        let mut addr = None;
        let mut line = String::new();
        while lines.read_line(&mut line).unwrap_or(0) > 0 {
            output.lock().unwrap().push_str(&line);
            if let Some(a) = line
                .trim()
                .strip_prefix("hcount serve: listening on http://")
            {
                addr = Some(a.to_string());
                break;
            }
            line.clear();
        }
        let Some(addr) = addr else {
            let _ = child.kill();
            panic!("serve did not start: {}", output.lock().unwrap());
        };
        // Keep draining stderr (and stdout) so the server never blocks on a full pipe.
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = lines.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        let mut stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Server {
            child,
            addr,
            output,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server (SIGTERM: graceful) and returns everything it printed.
    pub fn stop(mut self) -> String {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.output.lock().unwrap().clone()
    }
}

impl Server {
    /// SIGKILL, as a crash or the OOM killer would; returns everything it printed.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` input.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf input in {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// A plain HTTP/1.1 client for 127.0.0.1.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Http {
    pub fn new(addr: &str) -> Http {
        Http {
            client: Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_max_idle_per_host(256)
                .build_http(),
            base: format!("http://{addr}"),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Response {
        self.try_send(method, path, headers, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// As `send`, but a failed connection (a server that was killed) is an `Err`.
    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response, String> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = self
            .client
            .request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    pub async fn get(&self, path: &str, cookie: &str) -> Response {
        self.send("GET", path, &[("cookie", cookie)], Vec::new())
            .await
    }

    pub async fn post_form(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Response {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            "POST",
            path,
            &[
                ("cookie", cookie),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            body.into_bytes(),
        )
        .await
    }

    /// `multipart/form-data` with text fields and one file field named `file`.
    pub async fn post_file(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        file: &[u8],
    ) -> Response {
        self.try_post_file(path, cookie, fields, file_name, file)
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// As `post_file`, but a failed connection is an `Err`.
    pub async fn try_post_file(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        file: &[u8],
    ) -> Result<Response, String> {
        let (content_type, body) = multipart(fields, file_name, file);
        self.try_send(
            "POST",
            path,
            &[("cookie", cookie), ("content-type", &content_type)],
            body,
        )
        .await
    }

    /// Signs in; returns the cookie header value for the session.
    pub async fn sign_in(&self, token: &str) -> String {
        let res = self.post_form("/signin", "", &[("token", token)]).await;
        assert_eq!(res.status, 303, "sign-in failed: {}", res.body);
        let set = res.header("set-cookie");
        set.split(';').next().unwrap().to_string()
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "hcount-test-boundary-4f7a9c";
    let mut body = Vec::new();
    for (k, v) in fields {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .unwrap();
    body.extend_from_slice(file);
    write!(body, "\r\n--{boundary}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// chromedriver on a port of its own choosing; on drop its browsers are shut down through
/// `GET /shutdown` before it is killed (else Chrome processes stay behind).
pub struct Driver {
    child: Child,
    pub port: u16,
    _tmp: tempfile::TempDir,
}

impl Driver {
    pub fn start() -> Option<Driver> {
        let exe = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        let tmp = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(exe)
            .arg("--port=0")
            .env("TMPDIR", tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let mut port = None;
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                port = rest.trim().trim_end_matches('.').parse().ok();
                break;
            }
            line.clear();
        }
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        };
        Some(Driver {
            child,
            port,
            _tmp: tmp,
        })
    }

    pub async fn client(&self) -> fantoccini::Client {
        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                             "--disable-gpu", "--window-size=1200,1400", "--lang=da"]
                }
            }))
            .unwrap();
        fantoccini::ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromedriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raw CPR numbers (`DDMMYY-XXXX` or ten digits with a valid date) anywhere in `text`.
pub fn raw_cprs(text: &[u8], known: &[&str]) -> Vec<String> {
    let hay = String::from_utf8_lossy(text);
    known
        .iter()
        .flat_map(|cpr| {
            let plain = cpr.replace('-', "");
            [cpr.to_string(), plain]
        })
        .filter(|needle| hay.contains(needle.as_str()))
        .collect()
}
