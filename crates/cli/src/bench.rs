//! `truongso bench web`: a load generator against the real server. It starts `truongso demo`
//! as a child process (measuring cold start to `/readyz` and idle resident memory), serves a
//! trivial axum handler in this process as the baseline, then drives the login page, the
//! dashboard and the baseline with N concurrent clients for a fixed time each.

use anyhow::{Context, bail};
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct Opts {
    pub seconds: u64,
    pub concurrency: usize,
    pub seed: u64,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Stats {
    name: &'static str,
    requests: usize,
    errors: usize,
    rps: f64,
    p50: f64,
    p95: f64,
    p99: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn drive(
    name: &'static str,
    client: reqwest::Client,
    url: String,
    cookie: Option<String>,
    opts: &Opts,
) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(opts.seconds);
    let mut tasks = vec![];
    for _ in 0..opts.concurrency {
        let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let mut rb = client.get(&url);
                if let Some(c) = &cookie {
                    rb = rb.header("cookie", c);
                }
                match rb.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = vec![];
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("load task");
        all.extend(l);
        errors += e;
    }
    all.sort_by(|a, b| a.partial_cmp(b).expect("latencies are finite"));
    Stats {
        name,
        requests: all.len(),
        errors,
        rps: all.len() as f64 / opts.seconds as f64,
        p50: percentile(&all, 50.0),
        p95: percentile(&all, 95.0),
        p99: percentile(&all, 99.0),
    }
}

/// Signs in through the form like a browser and returns the cookie header to reuse.
async fn session_cookie(base: &str, username: &str) -> anyhow::Result<String> {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let html = c.get(format!("{base}/login")).send().await?.text().await?;
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).context("login form has no CSRF field")? + marker.len();
    let csrf = html[start..].split('"').next().unwrap_or_default().to_string();
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", truongso_store::demo::DEMO_PASSWORD),
        ])
        .send()
        .await?;
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ts_session="))
        .context("login did not set a session cookie")?;
    Ok(set.split(';').next().unwrap_or_default().to_string())
}

pub async fn web(opts: Opts) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("truongso-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("demo.db");
    let db = db.to_str().context("utf-8 path")?;
    // Seed once, so the measured start is a start on an existing demo database.
    let seeded = std::process::Command::new(&exe)
        .args(["demo", "--no-serve", "--db", db, "--seed", &opts.seed.to_string()])
        .stdout(Stdio::null())
        .status()?;
    if !seeded.success() {
        bail!("seeding the demo failed");
    }
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(&exe)
        .args(["demo", "--db", db, "--bind", &format!("127.0.0.1:{port}")])
        .env("TRUONGSO_LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let probe = reqwest::Client::new();
    let cold_start = loop {
        if let Ok(r) = probe.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break t0.elapsed();
        }
        if t0.elapsed() > Duration::from_secs(60) {
            bail!("the server did not become ready in 60 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let pid = child.id().context("child pid")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid);

    // Baseline: a trivial axum handler in this process.
    let trivial = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let trivial_url = format!("http://{}/", trivial.local_addr()?);
    let baseline = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(trivial, baseline).await.ok() });

    let cookie = session_cookie(&base, "admin.so").await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.concurrency)
        .build()?;
    let mut results = vec![];
    results.push(drive("trivial axum handler", client.clone(), trivial_url, None, &opts).await);
    results.push(drive("GET /login", client.clone(), format!("{base}/login"), None, &opts).await);
    results.push(
        drive(
            "GET / (dashboard, admin.so)",
            client.clone(),
            format!("{base}/"),
            Some(cookie.clone()),
            &opts,
        )
        .await,
    );
    let rss_after = rss_kib(pid);
    child.kill().await.ok();
    std::fs::remove_dir_all(&dir).ok();

    println!(
        "cold start to /readyz: {:.0} ms",
        cold_start.as_secs_f64() * 1000.0
    );
    println!(
        "resident memory: idle {} MiB, after load {} MiB",
        rss_idle.unwrap_or(0) / 1024,
        rss_after.unwrap_or(0) / 1024
    );
    println!(
        "{} concurrent clients, {} s per target\n",
        opts.concurrency, opts.seconds
    );
    println!("| target | requests | errors | req/s | p50 ms | p95 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for s in &results {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} |",
            s.name, s.requests, s.errors, s.rps, s.p50, s.p95, s.p99
        );
    }
    let base_p95 = results[0].p95;
    for s in &results[1..] {
        println!("{}: p95 = {:.1}× the trivial handler", s.name, s.p95 / base_p95);
    }
    Ok(())
}
