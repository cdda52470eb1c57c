//! `xiezuo serve`'s HTTP API, as the page uses it: the panel from the key schema, a run of
//! both arms with overrides whose curves match `compare` of the same scenarios, validation
//! errors that name the key, limits, cancellation by a newer request, and the command line
//! (a taken port is exit code 2).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use xiezuo::serve::{start, ServeOptions};

/// One HTTP/1.1 request; returns the status and the body.
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    let mut body = &out[split + 4..];
    if !head.contains("transfer-encoding: chunked") {
        return (status, String::from_utf8_lossy(body).into_owned());
    }
    // Chunked (large bodies): hex size, CRLF, data, CRLF, …, 0. Sizes count bytes.
    let mut data = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol]).unwrap().trim();
        let n = usize::from_str_radix(size, 16).unwrap();
        if n == 0 {
            break;
        }
        data.extend_from_slice(&body[eol + 2..eol + 2 + n]);
        body = &body[eol + 2 + n + 2..];
    }
    (status, String::from_utf8_lossy(&data).into_owned())
}

fn json(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    let (s, b) = http(addr, method, path, body);
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn small() -> ServeOptions {
    ServeOptions {
        port: 0,
        households: 300,
        max_replicates: 8,
        ..ServeOptions::default()
    }
}

fn wait(addr: SocketAddr, job: u64) -> Value {
    let t = Instant::now();
    loop {
        let (s, v) = json(addr, "GET", &format!("/api/job/{job}"), "");
        assert_eq!(s, 200);
        if v["finished"] == true {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "job {job} did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_page_and_the_panel_come_from_the_schema() {
    let h = start(small()).unwrap();
    assert!(h.addr.ip().is_loopback());
    let (s, page) = http(h.addr, "GET", "/", "");
    assert!(s == 200 && page.contains("<title>") && page.contains("/api/config"));
    let (s, c) = json(h.addr, "GET", "/api/config", "");
    assert_eq!(s, 200);
    assert_eq!(
        (c["a"].as_str(), c["b"].as_str()),
        (Some("one_way_aid"), Some("two_way_market"))
    );
    let keys = c["keys"].as_array().unwrap();
    let leak = keys.iter().find(|k| k["key"] == "policy.leakage").unwrap();
    assert_eq!(
        (leak["min"].as_f64(), leak["max"].as_f64()),
        (Some(0.0), Some(1.0))
    );
    // Every panel key is a key of the schema, of the parameter groups only.
    for k in keys {
        let key = k["key"].as_str().unwrap();
        assert!(
            xiezuo::model::schema::KEYS.iter().any(|s| s.key == key),
            "{key}"
        );
        assert!(!key.starts_with("region.") && !key.starts_with("link.") && key != "format");
    }
    assert_eq!(http(h.addr, "GET", "/nothing", "").0, 404);
    assert_eq!(http(h.addr, "PUT", "/api/run", "{}").0, 405);
}

#[test]
fn a_run_gives_the_curves_of_compare_on_the_same_scenarios() {
    let h = start(small()).unwrap();
    let (s, v) = json(
        h.addr,
        "POST",
        "/api/run",
        r#"{"set": {"policy.leakage": 0.2}, "replicates": 3}"#,
    );
    assert_eq!(s, 200, "{v}");
    let job = v["job"].as_u64().unwrap();
    let done = wait(h.addr, job);
    assert_eq!(
        (done["done"].as_u64(), done["cancelled"].as_bool()),
        (Some(3), Some(false))
    );
    // The same comparison from the command line, on the resolved scenarios the page offers
    // for download: equal numbers.
    let dir = tempfile::tempdir().unwrap();
    for arm in ["a", "b"] {
        let (s, toml) = http(h.addr, "GET", &format!("/api/job/{job}/{arm}.toml"), "");
        assert_eq!(s, 200);
        std::fs::write(dir.path().join(format!("{arm}.toml")), toml).unwrap();
    }
    let out = dir.path().join("cmp");
    let o = Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args(["compare"])
        .arg(dir.path().join("a.toml"))
        .arg(dir.path().join("b.toml"))
        .args(["--replicates", "3", "--format", "csv", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows = done["rows"].as_array().unwrap();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[col("measure")] != "poverty_rate" {
            continue;
        }
        let year: i64 = f[col("year")].parse().unwrap();
        let r = rows
            .iter()
            .find(|r| r["measure"] == "poverty_rate" && r["year"].as_i64() == Some(year))
            .unwrap();
        let diff: f64 = f[col("diff_mean")].parse().unwrap();
        assert!((r["diff"].as_f64().unwrap() - diff).abs() < 1e-12, "{year}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
    let (s, data) = http(h.addr, "GET", &format!("/api/job/{job}/data.csv"), "");
    assert!(s == 200 && data.starts_with("year,measure,a,"));
}

#[test]
fn bad_requests_name_the_key_and_limits_hold() {
    let h = start(small()).unwrap();
    let (s, v) = json(
        h.addr,
        "POST",
        "/api/run",
        r#"{"set": {"policy.leakage": 2}}"#,
    );
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["key"], "policy.leakage", "{v}");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("[0, 1]"));
    // Only panel keys: no region sizes, no `extends` (which would read another file).
    for body in [
        r#"{"set": {"region.Upland.households": 1000000}}"#,
        r#"{"set": {"extends": "/etc/passwd"}}"#,
    ] {
        let (s, v) = json(h.addr, "POST", "/api/run", body);
        assert_eq!(s, 400, "{body}");
        assert!(v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not a key of the panel"));
    }
    let (s, _) = json(h.addr, "POST", "/api/run", r#"{"replicates": 1000}"#);
    assert_eq!(s, 400);
    let (s, _) = json(h.addr, "POST", "/api/run", "not json");
    assert_eq!(s, 400);
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(70_000));
    assert_eq!(http(h.addr, "POST", "/api/run", &big).0, 413);
    assert_eq!(http(h.addr, "GET", "/api/job/99", "").0, 404);
}

#[test]
fn a_newer_request_cancels_the_older_run() {
    let h = start(ServeOptions {
        households: 2000,
        ..small()
    })
    .unwrap();
    let (_, first) = json(h.addr, "POST", "/api/run", r#"{"replicates": 8}"#);
    let (_, second) = json(h.addr, "POST", "/api/run", r#"{"replicates": 2}"#);
    let old = wait(h.addr, first["job"].as_u64().unwrap());
    assert_eq!(old["cancelled"], true, "{old}");
    assert!(old["done"].as_u64().unwrap() < 8);
    let new = wait(h.addr, second["job"].as_u64().unwrap());
    assert_eq!(
        (new["done"].as_u64(), new["cancelled"].as_bool()),
        (Some(2), Some(false))
    );
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let h = start(small()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args(["serve", "--port", &h.addr.port().to_string()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot listen") && err.contains("--port 0"),
        "{err}"
    );
}

#[test]
fn the_timeline_is_editable_arm_by_arm_and_flows_come_with_the_curves() {
    let h = start(small()).unwrap();
    let (_, c) = json(h.addr, "GET", "/api/config", "");
    let t = &c["timeline"][1];
    assert_eq!(t["phases"][1]["name"], "withdrawal");
    assert_eq!(t["shocks"][0]["kind"], "pandemic");
    assert_eq!(c["network"][0]["links"][0]["west"], "Upland");
    // B's withdrawal two years later, A unchanged; the downloads say so.
    let (s, v) = json(
        h.addr,
        "POST",
        "/api/run",
        r#"{"set_b": {"phase.withdrawal.start": "2023-01", "shock[0].severity": 0.6}, "replicates": 2}"#,
    );
    assert_eq!(s, 200, "{v}");
    let job = v["job"].as_u64().unwrap();
    let done = wait(h.addr, job);
    let (_, a) = http(h.addr, "GET", &format!("/api/job/{job}/a.toml"), "");
    let (_, b) = http(h.addr, "GET", &format!("/api/job/{job}/b.toml"), "");
    assert!(a.contains("start = \"2021-01\"") && !a.contains("start = \"2023-01\""));
    assert!(b.contains("start = \"2023-01\"") && b.contains("severity = 0.6"));
    // Flows: yearly totals per channel and per-link totals, for both arms.
    let f = &done["flows"][1];
    assert_eq!(f["years"].as_array().unwrap().len(), 10);
    assert!(f["yearly"]["fiscal_aid"][0].as_f64().unwrap() > 0.0);
    assert!(f["links"][0]["capital"].as_f64().unwrap() > 0.0);
    // Fiscal aid stops at B's later withdrawal, at A's earlier one.
    let aid = |arm: usize, year: usize| {
        done["flows"][arm]["yearly"]["fiscal_aid"][year]
            .as_f64()
            .unwrap()
    };
    assert!(
        aid(0, 6) == 0.0 && aid(1, 6) > 0.0,
        "2022: A {} B {}",
        aid(0, 6),
        aid(1, 6)
    );
    // Parquet of the curves.
    let (s, _) = http(
        h.addr,
        "GET",
        &format!("/api/job/{job}/comparison.parquet"),
        "",
    );
    assert_eq!(s, 200);
    // Only the arm's own phases and shocks, in range.
    let (s, v) = json(
        h.addr,
        "POST",
        "/api/run",
        r#"{"set_a": {"phase.nothing.start": "2023-01"}}"#,
    );
    assert!(
        s == 400
            && v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("timeline key")
    );
    let (s, v) = json(
        h.addr,
        "POST",
        "/api/run",
        r#"{"set_a": {"shock[0].severity": 7}}"#,
    );
    assert!(
        s == 400 && v["errors"][0]["key"] == "shock[0].severity",
        "{v}"
    );
    // The error names the arm whose row shows it (the two rows share key names).
    assert_eq!(v["errors"][0]["arm"], "a", "{v}");
    let (s, v) = json(
        h.addr,
        "POST",
        "/api/run",
        r#"{"set_b": {"shock[0].severity": 7}}"#,
    );
    assert!(s == 400 && v["errors"][0]["arm"] == "b", "{v}");
}
