//! `yuepin demo` on a port other than 8080, driven as a new user would (issue #16 item 1): the
//! scan links it prints name the port in use and open as 正品 on the running demo; started
//! again on another port with the same data, it prints links for that port, and a link printed
//! by the earlier run is still genuine there (`valid_other_address`), never "疑似假冒"; a
//! tampered signature still is. The README's API examples answer as the README says. Every
//! page each role reaches from its navigation, in Chinese, shows no raw code words (enum
//! values, English statuses, weekday names) outside a short reviewed allow-list.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn demo(dir: &Path, port: u16, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yuepin"));
    // The default data set (2,000 enterprises, seed 2023): the README's examples name its rows.
    cmd.args(["demo", "--data-dir"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env_remove("YUEPIN_PUBLIC_URL")
        .env_remove("YUEPIN_DATABASE_URL");
    cmd
}

fn text(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The printed scan URLs, in order (valid first).
fn scan_urls(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.contains("?s=")))
        .map(str::to_string)
        .collect()
}

/// One HTTP/1.0 request on loopback; returns the whole response (head and body).
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).expect("request");
    stream.write_all(body.as_bytes()).expect("request body");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

fn json_body(response: &str) -> serde_json::Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {response}"))
}

fn get(url: &str) -> String {
    http("GET", url, &[("Accept", "application/json")], "")
}

fn verdict(url: &str) -> String {
    json_body(&get(url))["verdict"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_scan_links_follow_the_port_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let first_port = free_port();
    let first = text(
        &demo(dir.path(), first_port, &["--seed-only"])
            .output()
            .unwrap(),
    );
    let first_urls = scan_urls(&first);
    assert_eq!(first_urls.len(), 8, "{first}");
    let prefix = format!("http://127.0.0.1:{first_port}/");
    assert!(first_urls.iter().all(|u| u.starts_with(&prefix)), "{first}");

    // The same data served on another port: new links for it, printed before it serves.
    let port = free_port();
    let mut child = demo(dir.path(), port, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut printed = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("serving on") {
                let _ = tx.send(printed.clone());
            }
        }
    });
    let printed = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the demo serves");
    let urls = scan_urls(&printed);
    let prefix = format!("http://127.0.0.1:{port}/");
    assert_eq!(urls.len(), 8, "{printed}");
    assert!(urls.iter().all(|u| u.starts_with(&prefix)), "{printed}");

    assert_eq!(verdict(&urls[0]), "valid", "{}", urls[0]);
    let verdicts: Vec<String> = urls.iter().map(|u| verdict(u)).collect();
    for expected in ["revoked", "suspended", "recalled"] {
        assert!(verdicts.iter().any(|v| v == expected), "{verdicts:?}");
    }
    // A link the first run printed, opened on this server: genuine, issued for another port.
    let moved = first_urls[0].replacen(&first_port.to_string(), &port.to_string(), 1);
    assert_eq!(verdict(&moved), "valid_other_address", "{moved}");
    let moved_revoked = first_urls[1].replacen(&first_port.to_string(), &port.to_string(), 1);
    assert_eq!(verdict(&moved_revoked), "revoked", "{moved_revoked}");
    // Tampering is still caught.
    let (head, sig) = urls[0].split_once("?s=").unwrap();
    // One character of the signature bytes (near the end of the COSE structure) changed.
    let at = sig.len() - 12;
    let flipped = if &sig[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{head}?s={}{flipped}{}", &sig[..at], &sig[at + 1..]);
    assert_eq!(verdict(&forged), "signature_invalid", "{forged}");

    // The README's API examples, as printed there, against this demo.
    let base = format!("http://127.0.0.1:{port}");
    let token = json_body(&http(
        "POST",
        &format!("{base}/api/v1/auth/token"),
        &[("Content-Type", "application/json")],
        r#"{"username":"regulator","password":"demo-regulator-2023"}"#,
    ))["token"]
        .as_str()
        .expect("a token")
        .to_string();
    let bearer = format!("Bearer {token}");
    let api = |path: &str| {
        json_body(&http(
            "GET",
            &format!("{base}{path}"),
            &[("Authorization", &bearer)],
            "",
        ))
    };
    // `--data-urlencode q=电子 --data-urlencode city=东莞`
    let search = api("/api/v1/enterprises?q=%E7%94%B5%E5%AD%90&city=%E4%B8%9C%E8%8E%9E");
    assert_eq!(search["total"], 16, "{search}");
    let giants = api("/api/v1/enterprises?designation=little_giant&city=440300");
    assert_eq!(giants["total"], 2, "{giants}");
    assert!(
        first.contains("Demo enterprise account belongs to 91440300MAX8WN2D0A"),
        "{first}"
    );
    let file = api("/api/v1/enterprises/91440300MAX8WN2D0A/quality-file");
    assert!(file.get("enterprise").is_some(), "{file}");
    drop(server);
}

/// Words a zh page may show: link schemes in printed URIs, the feed format, the switch to
/// English. Anything else in lower-case ASCII (a raw enum such as `pending_approval`) or a
/// capitalised English word (`Thu`, `Pooled`) is a bug on a Chinese page.
const ALLOWED_WORDS: [&str; 5] = ["http", "https", "www", "Atom", "English"];

/// The `name=value` of each Set-Cookie in `response`.
fn cookies(response: &str) -> Vec<String> {
    response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .filter_map(|c| c.split(';').next())
        .map(str::to_string)
        .collect()
}

/// Signs in through the form (with its CSRF pre-session cookie); returns the Cookie header.
fn sign_in(base: &str, user: &str, password: &str) -> String {
    let form = http("GET", &format!("{base}/login"), &[], "");
    let pre = cookies(&form).join("; ");
    let csrf = form
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a csrf field on the sign-in form")
        .to_string();
    let body = format!("username={user}&password={password}&next=&csrf={csrf}");
    let done = http(
        "POST",
        &format!("{base}/login"),
        &[
            ("Cookie", &pre),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &body,
    );
    assert!(
        done.starts_with("HTTP/1.1 303") || done.starts_with("HTTP/1.0 303"),
        "{user}: {done}"
    );
    cookies(&done).join("; ")
}

/// The visible text of a page: no tags, scripts, styles or inline SVG.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let tail = &rest[i..];
        // An element whose content is not text is skipped up to its closing tag.
        let close = ["style", "script", "svg"]
            .iter()
            .find(|t| tail[1..].starts_with(**t))
            .map(|t| format!("</{t}>"));
        rest = match close {
            Some(end) => tail.find(&end).map_or("", |j| &tail[j + end.len()..]),
            None => tail.find('>').map_or("", |j| &tail[j + 1..]),
        };
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
}

/// Raw code words: lower-case ASCII words of 3+ letters (underscores allowed) and
/// capitalised English words, outside [`ALLOWED_WORDS`] and outside printed URIs.
fn raw_words(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    // Printed code URIs (sample scan links) carry random base64url signatures: not words.
    let prose: Vec<&str> = text
        .split_whitespace()
        .filter(|chunk| !chunk.contains("://") && !chunk.contains("?s="))
        .collect();
    let prose = prose.join(" ");
    for token in prose.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let letters =
            token.len() >= 3 && token.chars().all(|c| c.is_ascii_alphabetic() || c == '_');
        let lower = letters && token.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        let capitalised = letters
            && token.starts_with(|c: char| c.is_ascii_uppercase())
            && token[1..].chars().all(|c| c.is_ascii_lowercase());
        if (lower || capitalised) && !ALLOWED_WORDS.contains(&token) {
            found.push(token.to_string());
        }
    }
    found
}

#[test]
fn zh_pages_show_no_raw_codes() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = demo(dir.path(), port, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("serving on") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the demo serves");
    let base = format!("http://127.0.0.1:{port}");
    let roles = [
        ("visitor", None),
        ("regulator", Some("demo-regulator-2023")),
        ("enterprise", Some("demo-enterprise-2023")),
        ("lab", Some("demo-lab-2023")),
        ("bank", Some("demo-bank-2023")),
        ("expert", Some("demo-expert-2023")),
    ];
    let mut problems = Vec::new();
    let mut pages = 0;
    for (role, password) in roles {
        let cookie = password
            .map(|p| sign_in(&base, role, p))
            .unwrap_or_default();
        let mut queue = vec!["/".to_string(), "/me".to_string()];
        let mut seen = std::collections::HashSet::new();
        while let Some(path) = (!queue.is_empty()).then(|| queue.remove(0)) {
            if seen.len() >= 30 || !seen.insert(path.clone()) {
                continue;
            }
            let response = http("GET", &format!("{base}{path}"), &[("Cookie", &cookie)], "");
            let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
            if !head
                .to_ascii_lowercase()
                .contains("content-type: text/html")
                || !head.contains(" 200 ")
            {
                continue;
            }
            pages += 1;
            for link in body
                .split("href=\"")
                .skip(1)
                .filter_map(|r| r.split('"').next())
            {
                let link = link.replace("&amp;", "&");
                let skip = [
                    "/static",
                    "/api",
                    "/.well-known",
                    "/status",
                    "/01/",
                    "/p/",
                    "/logout",
                ];
                if link.starts_with('/')
                    && !skip.iter().any(|s| link.starts_with(s))
                    && !link.contains("lang=")
                    && ![".csv", ".xlsx", ".pdf", ".ics", ".json"]
                        .iter()
                        .any(|e| link.contains(e))
                {
                    queue.push(link);
                }
            }
            let words = raw_words(&visible_text(body));
            if !words.is_empty() {
                problems.push(format!("{role} {path}: {words:?}"));
            }
        }
    }
    assert!(pages >= 40, "crawled only {pages} pages");
    assert!(
        problems.is_empty(),
        "raw words on zh pages:\n{}",
        problems.join("\n")
    );
    drop(server);
}
