//! `truongso bench web`: a load generator against the real server. It starts `truongso demo`
//! as a child process (measuring cold start to `/readyz` and idle resident memory), serves a
//! trivial axum handler in this process as the baseline, then drives the login page, the
//! dashboard and the baseline with N concurrent clients for a fixed time each.
//!
//! `truongso bench search|classes|import --base URL`: the same load generator against a server
//! that is already running (e.g. the 1,000,000-learner demo on PostgreSQL), signed in as demo
//! accounts: learner search, the class list (page and API), and a 10,000-row XLSX import
//! followed to completion through `/api/v1/jobs/{id}`.

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
    name: String,
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
    name: impl Into<String>,
    client: reqwest::Client,
    url: String,
    cookie: Option<String>,
    opts: &Opts,
) -> Stats {
    drive_urls(name, client, vec![url], cookie, opts.seconds, opts.concurrency).await
}

/// `concurrency` clients for `seconds`, each cycling through `urls` from its own offset.
async fn drive_urls(
    name: impl Into<String>,
    client: reqwest::Client,
    urls: Vec<String>,
    cookie: Option<String>,
    seconds: u64,
    concurrency: usize,
) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let urls = std::sync::Arc::new(urls);
    let mut tasks = vec![];
    for k in 0..concurrency {
        let (client, urls, cookie) = (client.clone(), urls.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0usize;
            let mut i = k;
            while Instant::now() < deadline {
                let url = &urls[i % urls.len()];
                i += 1;
                let t0 = Instant::now();
                let mut rb = client.get(url);
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
        name: name.into(),
        requests: all.len(),
        errors,
        rps: all.len() as f64 / seconds as f64,
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
    print_table(&results);
    let base_p95 = results[0].p95;
    for s in &results[1..] {
        println!("{}: p95 = {:.1}× the trivial handler", s.name, s.p95 / base_p95);
    }
    Ok(())
}

fn print_table(results: &[Stats]) {
    println!("| target | requests | errors | req/s | p50 ms | p95 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for s in results {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} |",
            s.name, s.requests, s.errors, s.rps, s.p50, s.p95, s.p99
        );
    }
}

/// A server that is already running, and how hard to drive it.
pub struct ApiOpts {
    pub base: String,
    pub seconds: u64,
    pub concurrency: usize,
}

/// A demo account signed in: its session cookie and the session's CSRF token.
struct Session {
    cookie: String,
    csrf: String,
    client: reqwest::Client,
}

impl Session {
    async fn open(base: &str, username: &str, concurrency: usize) -> anyhow::Result<Self> {
        let cookie = session_cookie(base, username).await?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency.max(1))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let html = client
            .get(format!("{base}/"))
            .header("cookie", &cookie)
            .send()
            .await?
            .text()
            .await?;
        let marker = "\"X-CSRF-Token\": \"";
        let start = html.find(marker).context("no CSRF token in the page")? + marker.len();
        let csrf = html[start..].split('"').next().unwrap_or_default().to_string();
        Ok(Self { cookie, csrf, client })
    }

    async fn get_json(&self, url: &str) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let r = self.client.get(url).header("cookie", &self.cookie).send().await?;
        let status = r.status();
        Ok((status, r.json().await.unwrap_or(serde_json::Value::Null)))
    }

    /// The school of the account's first grant.
    async fn school_id(&self, base: &str) -> anyhow::Result<String> {
        let (_, me) = self.get_json(&format!("{base}/api/v1/me")).await?;
        me["grants"][0]["org_unit_id"]
            .as_str()
            .map(str::to_string)
            .context("the account has no grant")
    }
}

/// Names typed with and without diacritics, whole or in part, as staff search for them.
pub const SEARCHES: [&str; 10] = [
    "nguyen van an",
    "Nguyễn Văn An",
    "tran thi mai",
    "Hoàng Minh Tuấn",
    "le thu",
    "pham ngoc lan",
    "nong quang",
    "trieu hong nhung",
    "đỗ hữu phúc",
    "bui thanh ha",
];

pub async fn search(opts: ApiOpts, users: Vec<String>) -> anyhow::Result<()> {
    let base = opts.base.trim_end_matches('/');
    let mut results = vec![];
    for user in &users {
        let s = Session::open(base, user, opts.concurrency).await?;
        let urls: Vec<String> = SEARCHES
            .iter()
            .map(|q| {
                reqwest::Url::parse_with_params(&format!("{base}/api/v1/learners"), &[("q", q)])
                    .map(String::from)
            })
            .collect::<Result<_, _>>()?;
        // One pass first: what each query finds (and the cold timing of each).
        println!("{user}:");
        for (q, url) in SEARCHES.iter().zip(&urls) {
            let t0 = Instant::now();
            let (status, hits) = s.get_json(url).await?;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            let hits = hits.as_array().cloned().unwrap_or_default();
            println!(
                "  {q:<20} {status} {:>3} hits ({ms:.1} ms){}",
                hits.len(),
                hits.first()
                    .and_then(|h| h["full_name"].as_str())
                    .map(|n| format!(", first: {n}"))
                    .unwrap_or_default()
            );
        }
        results.push(
            drive_urls(
                format!("`GET /api/v1/learners?q=…` as {user}"),
                s.client.clone(),
                urls,
                Some(s.cookie.clone()),
                opts.seconds,
                opts.concurrency,
            )
            .await,
        );
    }
    println!(
        "\n{} concurrent clients, {} s per account, cycling through {} queries\n",
        opts.concurrency,
        opts.seconds,
        SEARCHES.len()
    );
    print_table(&results);
    Ok(())
}

pub async fn classes(opts: ApiOpts, users: Vec<String>) -> anyhow::Result<()> {
    let base = opts.base.trim_end_matches('/');
    let mut results = vec![];
    for user in &users {
        let s = Session::open(base, user, opts.concurrency).await?;
        let school = s.school_id(base).await?;
        let targets = [
            format!("{base}/classes"),
            format!("{base}/api/v1/classes?school_id={school}"),
        ];
        for url in targets {
            let r = s.client.get(&url).header("cookie", &s.cookie).send().await?;
            let (status, len) = (r.status(), r.bytes().await?.len());
            println!("{user} {url}: {status}, {len} bytes");
            if !status.is_success() {
                continue;
            }
            let path = url.trim_start_matches(base).to_string();
            results.push(
                drive_urls(
                    format!("`GET {path}` as {user}"),
                    s.client.clone(),
                    vec![url],
                    Some(s.cookie.clone()),
                    opts.seconds,
                    opts.concurrency,
                )
                .await,
            );
        }
    }
    println!(
        "\n{} concurrent clients, {} s per target\n",
        opts.concurrency, opts.seconds
    );
    print_table(&results);
    Ok(())
}

/// `rows` learners in the learners template, spread over `classes`, with guardians; identity
/// numbers and learner codes carry `tag` so that every run creates new learners.
pub fn learners_xlsx(rows: usize, classes: &[(String, i32)], tag: u32) -> anyhow::Result<Vec<u8>> {
    use truongso_docs::Cell;
    const SURNAMES: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
    // Middle names the demo does not use, so that no row matches an existing learner by name
    // and birth date (the import would then update that learner instead of creating one).
    const MALE: [&str; 8] = [
        "Gia Bảo",
        "Tiến Đạt",
        "Đăng Khoa",
        "Hải Đăng",
        "Bảo Long",
        "Trọng Nhân",
        "Anh Quân",
        "Xuân Trường",
    ];
    const FEMALE: [&str; 8] = [
        "Khánh Linh",
        "Phương Anh",
        "Diệu Linh",
        "Bảo Ngọc",
        "Mỹ Duyên",
        "Quỳnh Chi",
        "Hoài An",
        "Tường Vy",
    ];
    const ETHNICITY: [&str; 4] = ["Kinh", "Tày", "Dao", "07"];
    anyhow::ensure!(!classes.is_empty(), "the school has no classes this year");
    let t = &truongso_docs::template::LEARNERS;
    let keys = [
        "moet_code",
        "full_name",
        "date_of_birth",
        "sex",
        "cccd",
        "ethnicity",
        "religion",
        "nationality",
        "class_name",
        "father_name",
        "father_phone",
        "mother_name",
        "mother_phone",
    ];
    let headers: Vec<&str> = keys
        .iter()
        .map(|k| {
            t.columns
                .iter()
                .find(|c| c.key == *k)
                .map(|c| c.header_vi)
                .context("column missing from the template")
        })
        .collect::<anyhow::Result<_>>()?;
    let data = (0..rows).map(move |i| {
        let (class, grade) = &classes[i % classes.len()];
        let female = i % 2 == 1;
        let surname = SURNAMES[i % 7 % SURNAMES.len()];
        let given = if female {
            FEMALE[i / 3 % 8]
        } else {
            MALE[i / 3 % 8]
        };
        // Grade g in the 2026-2027 year: born in 2021 - g.
        let year = 2021 - grade;
        let dob = chrono::NaiveDate::from_ymd_opt(year, (i % 12) as u32 + 1, (i % 28) as u32 + 1)
            .expect("valid date");
        let serial = (tag % 90) as usize * 10_000 + i;
        let cccd = format!("001{}{:02}{serial:06}", 2 + usize::from(female), year % 100);
        vec![
            Cell::Text(format!("BX{tag:06}{i:05}")),
            Cell::Text(format!("{surname} {given}")),
            Cell::Date(dob),
            Cell::from(if female { "Nữ" } else { "Nam" }),
            Cell::Text(cccd),
            Cell::from(ETHNICITY[i % ETHNICITY.len()]),
            Cell::from("Không"),
            Cell::from("Việt Nam"),
            Cell::Text(class.clone()),
            Cell::Text(format!("{surname} Văn Bình")),
            Cell::Text(format!("091{:07}", (tag as usize * 7919 + i * 2) % 10_000_000)),
            Cell::Text(format!("Trần Thị {}", ["Cúc", "Hoa", "Lý"][i % 3])),
            Cell::Text(format!(
                "098{:07}",
                (tag as usize * 7919 + i * 2 + 1) % 10_000_000
            )),
        ]
    });
    Ok(truongso_docs::write_table(t.sheet_vi, &headers, data)?)
}

pub async fn import(
    opts: ApiOpts,
    store: &truongso_store::Store,
    user: &str,
    rows: usize,
) -> anyhow::Result<()> {
    let base = opts.base.trim_end_matches('/');
    let s = Session::open(base, user, 1).await?;
    let school: uuid::Uuid = s.school_id(base).await?.parse()?;
    let today = chrono::Local::now().date_naive();
    let years = truongso_store::school_years::for_school(&store.db, school).await?;
    let year = years
        .iter()
        .find(|y| y.starts_on <= today && today <= y.ends_on)
        .or(years.first())
        .context("the school has no school year")?;
    let classes: Vec<(String, i32)> = truongso_store::classes::list(&store.db, &[school], Some(year.id))
        .await?
        .into_iter()
        .map(|c| (c.name, c.grade))
        .collect();
    let tag = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        % 1_000_000) as u32;
    let t0 = Instant::now();
    let bytes = learners_xlsx(rows, &classes, tag)?;
    let built = t0.elapsed();
    println!(
        "{rows} rows over {} classes of {} ({} KiB), written in {:.2} s",
        classes.len(),
        year.name,
        bytes.len() / 1024,
        built.as_secs_f64()
    );
    let t0 = Instant::now();
    let r = s
        .client
        .post(format!("{base}/api/v1/imports/learners?school_id={school}"))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bytes)
        .send()
        .await?;
    let status = r.status();
    let started: serde_json::Value = r.json().await.unwrap_or_default();
    let accepted = t0.elapsed();
    let job = started["job_id"]
        .as_str()
        .with_context(|| format!("import refused: {status} {started}"))?
        .to_string();
    let job = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, j) = s.get_json(&format!("{base}/api/v1/jobs/{job}")).await?;
        match j["status"].as_str() {
            Some("done") | Some("failed") => break j,
            _ if t0.elapsed() > Duration::from_secs(600) => bail!("the job did not finish in 600 s"),
            _ => {}
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    println!(
        "upload accepted in {:.2} s; job {} after {wall:.2} s wall: {:.0} rows/s",
        accepted.as_secs_f64(),
        job["status"],
        rows as f64 / wall
    );
    println!("report: {}", job["report"]);
    if let Some(errors) = job["errors"].as_array().filter(|e| !e.is_empty()) {
        println!("{} errors, first: {}", errors.len(), errors[0]);
        bail!("the import failed");
    }
    Ok(())
}
