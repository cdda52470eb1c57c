//! `xiezuo serve`: explore two scenarios live in a browser. A small synchronous HTTP server
//! (tiny_http) serves one self-contained page and a JSON API: the parameter panel (built
//! from the key schema, `model::schema::KEYS`, the validator's and ODD §7.10's source), runs
//! of both arms with the page's overrides on downscaled populations (fewer simulated
//! households, larger weights), and the yearly comparison as replicates finish. Safety: it
//! binds to loopback unless told otherwise, reads no file but the scenarios it was started
//! with (and their `extends` parents), accepts overrides only of the panel's keys, bounds
//! households, replicates and request sizes, and runs one job at a time (a newer request
//! cancels the older).

pub mod job;

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::model::flows::Channel;
use crate::model::schema::{self, Kind, KEYS};
use crate::output::compare::CompareRow;
use crate::scenario::{self, Loaded, ScenarioError};
use job::Job;

/// The page (HTML, CSS and JavaScript in one file; no network at run time).
const PAGE: &str = include_str!("../../assets/serve/index.html");

/// Largest request body accepted, bytes.
const MAX_BODY: usize = 64 * 1024;

/// Errors of `xiezuo serve` at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A scenario does not load.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Both arms have the same name.
    #[error("both scenarios are named `{0}`: give one of them another `name` in its file")]
    SameName(String),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {message} (is the port taken? --port 0 picks a free one)")]
    Bind {
        /// Address asked for.
        addr: String,
        /// Why.
        message: String,
    },
    /// A limit out of range.
    #[error("{0}")]
    Usage(String),
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Scenario A and B (`builtin:NAME` or a file).
    pub scenarios: [PathBuf; 2],
    /// Host to bind (default loopback).
    pub host: String,
    /// Port (0: any free one).
    pub port: u16,
    /// Most simulated households per region (more are downscaled, weights raised).
    pub households: u32,
    /// Most replicates a request may ask for.
    pub max_replicates: u32,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            scenarios: [
                PathBuf::from("builtin:one_way_aid"),
                PathBuf::from("builtin:two_way_market"),
            ],
            host: "127.0.0.1".into(),
            port: 8080,
            households: 2000,
            max_replicates: 40,
        }
    }
}

/// One key of the parameter panel, with its value in scenario A.
#[derive(Debug, Clone)]
struct PanelKey {
    spec: &'static schema::KeySpec,
    value: Value,
}

/// The state shared by the request handlers.
struct Explorer {
    opts: ServeOptions,
    base: [Loaded; 2],
    keys: Vec<PanelKey>,
    jobs: Mutex<Vec<Arc<Job>>>,
    next: Mutex<u64>,
}

/// A running server: its address, and a handle that stops it.
pub struct Handle {
    /// The address it listens on (the port is the one picked when 0 was asked for).
    pub addr: SocketAddr,
    /// Names of scenarios A and B.
    pub scenario_names: [String; 2],
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The value of dotted `key` in a resolved scenario document, if set there.
fn lookup(doc: &toml::Table, key: &str) -> Option<Value> {
    let mut parts = key.split('.');
    let mut cur = doc.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_table()?.get(p)?;
    }
    serde_json::to_value(cur).ok()
}

/// The panel: every key of the parameter groups (ODD §7.10.5) that is a number, a whole
/// number, a switch or a choice, with its value in `doc` or its default.
fn panel(doc: &toml::Table) -> Vec<PanelKey> {
    KEYS.iter()
        .filter(|k| schema::section_of(k.key) == 5 && k.key != "format")
        .filter(|k| {
            matches!(
                k.kind,
                Kind::Number | Kind::Integer | Kind::Bool | Kind::Choice(_)
            )
        })
        .map(|k| {
            let value = lookup(doc, k.key).unwrap_or(match k.default {
                schema::Default::Number(v) => json!(v),
                schema::Default::Bool(b) => json!(b),
                schema::Default::Text(t) => json!(t),
                _ => Value::Null,
            });
            PanelKey { spec: k, value }
        })
        .collect()
}

/// The overrides that keep at most `cap` simulated households per region, raising weights
/// so that the real population is unchanged.
fn downscale(l: &Loaded, cap: u32) -> Vec<String> {
    let mut out = Vec::new();
    for r in &l.config.regions {
        if r.households > cap {
            let weight = r.weight * r.households as f64 / cap as f64;
            out.push(format!("region.{}.households={cap}", r.name));
            out.push(format!("region.{}.weight={weight}", r.name));
        }
    }
    out
}

/// An HTTP answer: status, content type, body.
type Answer = (u16, &'static str, Vec<u8>);

fn json_answer(status: u16, v: &Value) -> Answer {
    (status, "application/json", v.to_string().into_bytes())
}

fn error_answer(status: u16, message: &str) -> Answer {
    json_answer(
        status,
        &json!({ "errors": [{ "key": null, "message": message }] }),
    )
}

impl Explorer {
    fn config(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                let s = k.spec;
                let choices = match s.kind {
                    Kind::Choice(c) => json!(c),
                    _ => Value::Null,
                };
                json!({
                    "key": s.key,
                    "group": s.key.split('.').next().unwrap_or(""),
                    "type": s.kind.as_str(),
                    "value": k.value,
                    "unit": s.unit,
                    "min": s.min,
                    "max": s.max,
                    "min_open": s.min_open,
                    "choices": choices,
                    "allowed": s.allowed(),
                    "doc": s.doc,
                })
            })
            .collect();
        json!({
            "a": self.base[0].config.name,
            "b": self.base[1].config.name,
            "timeline": [timeline(&self.base[0]), timeline(&self.base[1])],
            "network": [network(&self.base[0]), network(&self.base[1])],
            "channels": Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "households": self.opts.households,
            "max_replicates": self.opts.max_replicates,
            "measures": crate::output::compare::YEAR_MEASURES,
            "keys": keys,
        })
    }

    /// Starts a job from the page's request `{set: {key: value}, replicates: n}`.
    fn run(&self, body: &[u8]) -> Answer {
        let req: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return error_answer(400, &format!("the request is not JSON: {e}")),
        };
        let replicates = req
            .get("replicates")
            .and_then(|v| v.as_u64())
            .unwrap_or(10.min(self.opts.max_replicates as u64));
        if !(2..=self.opts.max_replicates as u64).contains(&replicates) {
            return error_answer(
                400,
                &format!(
                    "replicates must be between 2 and {}, got {replicates}",
                    self.opts.max_replicates
                ),
            );
        }
        let mut set = Vec::new();
        let mut keys = Vec::new();
        if let Some(m) = req.get("set").and_then(|v| v.as_object()) {
            for (k, v) in m {
                if !self.keys.iter().any(|p| p.spec.key == k) {
                    return json_answer(
                        400,
                        &json!({ "errors": [{ "key": k, "message": format!("`{k}` is not a key of the panel (the parameter groups of ODD §7.10.5)") }] }),
                    );
                }
                let text = match v {
                    Value::String(s) => {
                        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                    }
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return json_answer(
                            400,
                            &json!({ "errors": [{ "key": k, "message": format!("`{k}`: give a number, true/false or a name") }] }),
                        )
                    }
                };
                set.push(format!("{k}={text}"));
                keys.push(k.clone());
            }
        }
        // Timeline edits, arm by arm: a phase's start, a shock's start, months or severity.
        // Errors name the arm ("a" or "b"), whose timeline row shows them.
        const ARMS: [&str; 2] = ["a", "b"];
        let mut own: [Vec<String>; 2] = [Vec::new(), Vec::new()];
        for (i, field) in ["set_a", "set_b"].iter().enumerate() {
            let Some(m) = req.get(*field).and_then(|v| v.as_object()) else {
                continue;
            };
            for (k, v) in m {
                if !timeline_key(&self.base[i], k) {
                    return json_answer(
                        400,
                        &json!({ "errors": [{ "key": k, "arm": ARMS[i], "message": format!("`{k}` is not a timeline key of scenario {} (phase.NAME.start, shock[i].start, shock[i].months, shock[i].severity)", ["A", "B"][i]) }] }),
                    );
                }
                let text = match v {
                    Value::String(s)
                        if s.len() <= 16 && s.chars().all(|c| c.is_ascii_digit() || c == '-') =>
                    {
                        format!("\"{s}\"")
                    }
                    Value::Number(n) => n.to_string(),
                    _ => {
                        return json_answer(
                            400,
                            &json!({ "errors": [{ "key": k, "arm": ARMS[i], "message": format!("`{k}`: give a month as \"YYYY-MM\" or a number") }] }),
                        )
                    }
                };
                own[i].push(format!("{k}={text}"));
                keys.push(k.clone());
            }
        }
        let mut arms = Vec::with_capacity(2);
        for (i, spec) in self.opts.scenarios.iter().enumerate() {
            let mut set = set.clone();
            set.extend(own[i].iter().cloned());
            let loaded = scenario::load(spec, &set).and_then(|l| {
                let mut all = set.clone();
                all.extend(downscale(&l, self.opts.households));
                scenario::load(spec, &all)
            });
            match loaded {
                Ok(l) => arms.push(l),
                Err(e) => {
                    let message = e.to_string();
                    let key = keys.iter().find(|k| message.contains(k.as_str()));
                    return json_answer(
                        400,
                        &json!({ "errors": [{ "key": key, "arm": ARMS[i], "message": message }] }),
                    );
                }
            }
        }
        let (Some(b), Some(a)) = (arms.pop(), arms.pop()) else {
            return error_answer(500, "internal: arms");
        };
        let id = match self.next.lock() {
            Ok(mut n) => {
                *n += 1;
                *n
            }
            Err(_) => return error_answer(500, "internal: lock"),
        };
        let job = Arc::new(Job::start(id, [a, b], replicates as u32));
        if let Ok(mut jobs) = self.jobs.lock() {
            for old in jobs.iter() {
                old.cancel();
            }
            // Keep the last few for downloads; older ones are dropped.
            jobs.push(job);
            let n = jobs.len();
            if n > 4 {
                jobs.drain(..n - 4);
            }
        }
        json_answer(200, &json!({ "job": id, "replicates": replicates }))
    }

    fn job(&self, id: u64) -> Option<Arc<Job>> {
        self.jobs.lock().ok()?.iter().find(|j| j.id == id).cloned()
    }

    fn job_json(&self, job: &Job) -> Value {
        let s = job.snapshot();
        json!({
            "job": job.id,
            "a": job.arms[0].config.name,
            "b": job.arms[1].config.name,
            "seed": job.seed,
            "done": s.done,
            "total": s.total,
            "finished": s.finished,
            "cancelled": s.cancelled,
            "rows": rows_json(&s.rows),
            "flows": [flows_json(&job.arms[0], &s.flows[0]), flows_json(&job.arms[1], &s.flows[1])],
        })
    }

    fn route(&self, method: &tiny_http::Method, url: &str, body: &[u8]) -> Answer {
        use tiny_http::Method::{Get, Post};
        let path = url.split('?').next().unwrap_or("");
        match (method, path) {
            (Get, "/") | (Get, "/index.html") => (200, "text/html; charset=utf-8", PAGE.into()),
            (Get, "/api/config") => json_answer(200, &self.config()),
            (Post, "/api/run") => self.run(body),
            (_, "/" | "/index.html" | "/api/config" | "/api/run") => {
                error_answer(405, "method not allowed")
            }
            (Get, p) if p.starts_with("/api/job/") => {
                let rest = &p["/api/job/".len()..];
                let (id, file) = rest.split_once('/').unwrap_or((rest, ""));
                let Some(job) = id.parse().ok().and_then(|id| self.job(id)) else {
                    return error_answer(
                        404,
                        &format!("no job `{id}` (only the last few are kept)"),
                    );
                };
                match file {
                    "" => json_answer(200, &self.job_json(&job)),
                    "data.csv" => (200, "text/csv", rows_csv(&job.snapshot().rows).into_bytes()),
                    "comparison.parquet" => match comparison_parquet(&job) {
                        Ok(bytes) => (200, "application/vnd.apache.parquet", bytes),
                        Err(e) => error_answer(500, &e),
                    },
                    "a.toml" => (
                        200,
                        "application/toml",
                        job.arms[0].resolved_text().into_bytes(),
                    ),
                    "b.toml" => (
                        200,
                        "application/toml",
                        job.arms[1].resolved_text().into_bytes(),
                    ),
                    _ => error_answer(404, "no such file"),
                }
            }
            _ => error_answer(404, &format!("no page `{path}`")),
        }
    }
}

/// Whether `key` is an editable timeline key of `l`: `phase.NAME.start` of one of its
/// phases, or `shock[i].start`, `.months` or `.severity` of one of its shocks.
fn timeline_key(l: &Loaded, key: &str) -> bool {
    if let Some(rest) = key.strip_prefix("phase.") {
        if let Some(name) = rest.strip_suffix(".start") {
            return l.config.phases.iter().any(|p| p.name == name);
        }
        return false;
    }
    let Some(rest) = key.strip_prefix("shock[") else {
        return false;
    };
    let Some((i, field)) = rest.split_once("].") else {
        return false;
    };
    i.parse::<usize>().is_ok_and(|i| i < l.config.shocks.len())
        && matches!(field, "start" | "months" | "severity")
}

/// The phases and shocks of a scenario, dated, for the page's timeline.
fn timeline(l: &Loaded) -> Value {
    let cal = &l.config.calendar;
    let date = |t: u32| cal.date(t).to_string();
    json!({
        "start": date(0),
        "end": date(cal.ticks.saturating_sub(1)),
        "phases": l.config.phases.iter().map(|p| json!({ "name": p.name, "start": date(p.start) })).collect::<Vec<_>>(),
        "shocks": l.config.shocks.iter().enumerate().map(|(i, s)| json!({
            "index": i,
            "kind": format!("{:?}", s.kind).to_lowercase(),
            "start": date(s.start),
            "months": s.months,
            "severity": s.severity,
        })).collect::<Vec<_>>(),
    })
}

/// The regions and links of a scenario, for the page's network view.
fn network(l: &Loaded) -> Value {
    let c = &l.config;
    json!({
        "regions": c.regions.iter().map(|r| json!({ "name": r.name, "side": format!("{:?}", r.side).to_lowercase() })).collect::<Vec<_>>(),
        "links": c.links.iter().map(|k| json!({ "east": c.regions[k.east].name, "west": c.regions[k.west].name })).collect::<Vec<_>>(),
    })
}

/// One arm's flows so far, as means over its finished replicates.
fn flows_json(l: &Loaded, f: &job::Flows) -> Value {
    let n = f.n.max(1) as f64;
    let y0 = l.config.calendar.date(0).year;
    json!({
        "years": (0..f.yearly.first().map_or(0, |v| v.len())).map(|i| y0 + i as i32).collect::<Vec<_>>(),
        "yearly": Channel::ALL.iter().zip(&f.yearly).map(|(c, v)| (c.as_str().to_string(), json!(v.iter().map(|x| x / n).collect::<Vec<_>>()))).collect::<serde_json::Map<_, _>>(),
        "links": f.links.iter().map(|t| json!({ "capital": t[0] / n, "labour": t[1] / n, "talent": t[2] / n, "products": t[3] / n })).collect::<Vec<_>>(),
        "replicates": f.n,
    })
}

/// The comparison so far as Parquet (the `compare` command's `comparison.parquet`).
fn comparison_parquet(job: &Job) -> Result<Vec<u8>, String> {
    use polars::prelude::ParquetWriter;
    let rows = job.snapshot().rows;
    let mut df =
        crate::output::compare_frame(&rows, &job.arms[0].config.name, &job.arms[1].config.name)
            .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut df)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The comparison rows as JSON (one object per year and measure).
fn rows_json(rows: &[CompareRow]) -> Value {
    let num = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
    Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "year": r.year,
                    "measure": r.measure,
                    "a": num(r.a.0), "a_ci": num(r.a.1),
                    "b": num(r.b.0), "b_ci": num(r.b.1),
                    "diff": num(r.diff.0), "diff_ci": num(r.diff.1),
                })
            })
            .collect(),
    )
}

/// The comparison rows as CSV.
fn rows_csv(rows: &[CompareRow]) -> String {
    let mut s = String::from("year,measure,a,a_ci95,b,b_ci95,diff,diff_ci95\n");
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            r.year, r.measure, r.a.0, r.a.1, r.b.0, r.b.1, r.diff.0, r.diff.1
        ));
    }
    s
}

/// Loads the scenarios and starts serving in a background thread; returns at once.
pub fn start(opts: ServeOptions) -> Result<Handle, ServeError> {
    if !(200..=50_000).contains(&opts.households) {
        return Err(ServeError::Usage(format!(
            "--households must be between 200 and 50000, got {}",
            opts.households
        )));
    }
    if !(2..=1000).contains(&opts.max_replicates) {
        return Err(ServeError::Usage(format!(
            "--max-replicates must be between 2 and 1000, got {}",
            opts.max_replicates
        )));
    }
    let a = scenario::load(&opts.scenarios[0], &[])?;
    let b = scenario::load(&opts.scenarios[1], &[])?;
    if a.config.name == b.config.name {
        return Err(ServeError::SameName(a.config.name));
    }
    let addr = format!("{}:{}", opts.host, opts.port);
    let server = tiny_http::Server::http(&addr).map_err(|e| ServeError::Bind {
        addr: addr.clone(),
        message: e.to_string(),
    })?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| ServeError::Bind {
            addr: addr.clone(),
            message: "not an IP address".into(),
        })?;
    let keys = panel(&a.resolved);
    let scenario_names = [a.config.name.clone(), b.config.name.clone()];
    let explorer = Explorer {
        opts,
        base: [a, b],
        keys,
        jobs: Mutex::new(Vec::new()),
        next: Mutex::new(0),
    };
    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let (srv, halt) = (server.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
        for mut req in srv.incoming_requests() {
            if halt.load(Ordering::Relaxed) {
                break;
            }
            let mut body = Vec::new();
            let too_big = req.body_length().is_some_and(|n| n > MAX_BODY)
                || req
                    .as_reader()
                    .take(MAX_BODY as u64 + 1)
                    .read_to_end(&mut body)
                    .is_err()
                || body.len() > MAX_BODY;
            let (status, ctype, bytes) = if too_big {
                error_answer(
                    413,
                    &format!("request bodies are limited to {MAX_BODY} bytes"),
                )
            } else {
                explorer.route(req.method(), req.url(), &body)
            };
            let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes())
                .unwrap_or_else(|_| {
                    tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/plain"[..])
                        .expect("a constant header")
                });
            let resp = tiny_http::Response::from_data(bytes)
                .with_status_code(status)
                .with_header(header);
            let _ = req.respond(resp);
        }
        if let Ok(jobs) = explorer.jobs.lock() {
            for j in jobs.iter() {
                j.cancel();
            }
        }
    });
    Ok(Handle {
        addr: bound,
        scenario_names,
        stop,
        server,
        thread: Some(thread),
    })
}
