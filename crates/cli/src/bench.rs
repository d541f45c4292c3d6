//! `truongso bench web`: a load generator against the real server. It starts `truongso demo`
//! as a child process (measuring cold start to `/readyz` and idle resident memory), serves a
//! trivial axum handler in this process as the baseline, then drives the login page, the
//! dashboard and the baseline with N concurrent clients for a fixed time each.
//!
//! `truongso bench search|classes|import --base URL`: the same load generator against a server
//! that is already running (e.g. the 1,000,000-learner demo on PostgreSQL), signed in as demo
//! accounts: learner search, the class list (page and API), and a 10,000-row XLSX import
//! followed to completion through `/api/v1/jobs/{id}`; the gradebook (sheet page, marks API,
//! saving a whole column).
//!
//! `truongso bench results`: year-end results of a school year computed and stored straight on
//! the database.

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
#[derive(clap::Args)]
pub struct ApiOpts {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base: String,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    #[arg(long, default_value_t = 10)]
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
        let paths = [
            "/classes".to_string(),
            format!("/api/v1/classes?school_id={school}"),
        ];
        results.extend(drive_each(&s, user, base, &paths, &opts, false).await?);
    }
    println!(
        "\n{} concurrent clients, {} s per target\n",
        opts.concurrency, opts.seconds
    );
    print_table(&results);
    Ok(())
}

/// Pages or API paths as one signed-in account, each driven in turn (the statistics dashboard
/// and forms, or any other page).
pub async fn pages(opts: ApiOpts, user: &str, paths: &[String]) -> anyhow::Result<()> {
    let base = opts.base.trim_end_matches('/');
    let s = Session::open(base, user, opts.concurrency).await?;
    let results = drive_each(&s, user, base, paths, &opts, true).await?;
    println!(
        "\n{} concurrent clients, {} s per target\n",
        opts.concurrency, opts.seconds
    );
    print_table(&results);
    Ok(())
}

/// Drives each path in turn as the session's account, after one request that shows its status,
/// size and uncached time; a path that does not answer 2xx is skipped, or with `strict` an error.
async fn drive_each(
    s: &Session,
    user: &str,
    base: &str,
    paths: &[String],
    opts: &ApiOpts,
    strict: bool,
) -> anyhow::Result<Vec<Stats>> {
    let mut results = vec![];
    for path in paths {
        let url = format!("{base}{path}");
        let started = std::time::Instant::now();
        let r = s.client.get(&url).header("cookie", &s.cookie).send().await?;
        let (status, len) = (r.status(), r.bytes().await?.len());
        println!(
            "{user} {path}: {status}, {len} bytes, first request {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        if !status.is_success() {
            anyhow::ensure!(!strict, "{path} answered {status}");
            continue;
        }
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
    Ok(results)
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

/// N requests of one kind, one after another: latency percentiles and the worst.
struct Timed {
    name: String,
    requests: usize,
    errors: usize,
    mean: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

impl Timed {
    fn new(name: impl Into<String>, mut lat: Vec<f64>, errors: usize) -> Self {
        lat.sort_by(|a, b| a.partial_cmp(b).expect("latencies are finite"));
        Self {
            name: name.into(),
            requests: lat.len(),
            errors,
            mean: lat.iter().sum::<f64>() / lat.len().max(1) as f64,
            p50: percentile(&lat, 50.0),
            p95: percentile(&lat, 95.0),
            p99: percentile(&lat, 99.0),
            max: lat.last().copied().unwrap_or(f64::NAN),
        }
    }
}

fn print_timed(results: &[Timed]) {
    println!("| target | requests | errors | mean ms | p50 ms | p95 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in results {
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            s.name, s.requests, s.errors, s.mean, s.p50, s.p95, s.p99, s.max
        );
    }
}

/// `n` GETs of `url` one after another (after five unmeasured ones), as the session.
async fn get_n(s: &Session, name: String, url: &str, n: usize) -> anyhow::Result<Timed> {
    let get = || s.client.get(url).header("cookie", &s.cookie).send();
    for _ in 0..n.min(5) {
        get().await?.bytes().await?;
    }
    let (mut lat, mut errors) = (Vec::with_capacity(n), 0);
    for _ in 0..n {
        let t0 = Instant::now();
        match get().await {
            Ok(r) if r.status().is_success() => {
                r.bytes().await?;
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            _ => errors += 1,
        }
    }
    Ok(Timed::new(name, lat, errors))
}

/// What `bench gradebook` measures, on a server that is already running.
pub struct GradebookOpts {
    pub base: String,
    pub requests: usize,
    /// The subject teacher (enters marks).
    pub user: String,
    /// Also measured reading the largest class of their school (None: skipped).
    pub principal: Option<String>,
    /// The subject the principal reads (one whose sheet the demo has filled this term).
    pub principal_subject: String,
    pub subject: String,
    pub term: u8,
    /// The teacher's class by name; default the largest class the teacher has the subject in.
    pub class: Option<String>,
    /// The column saved; default the sheet's first unlocked score column.
    pub slot: Option<String>,
}

/// The classes a signed-in account sees (`/api/v1/classes`, of a school or their own), as
/// (id, name, learners on the roll, grade).
async fn classes_of(
    s: &Session,
    base: &str,
    school: Option<&str>,
) -> anyhow::Result<Vec<(String, String, i64, i64)>> {
    let url = match school {
        Some(id) => format!("{base}/api/v1/classes?school_id={id}"),
        None => format!("{base}/api/v1/classes"),
    };
    let (status, list) = s.get_json(&url).await?;
    anyhow::ensure!(status.is_success(), "GET {url}: {status}");
    Ok(list
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["name"].as_str().unwrap_or_default().to_string(),
                c["learners"].as_i64().unwrap_or(0),
                c["grade"].as_i64().unwrap_or(0),
            )
        })
        .collect())
}

fn marks_url(base: &str, class_id: &str, subject: &str, term: u8) -> String {
    format!("{base}/api/v1/gradebook/marks?class_id={class_id}&subject={subject}&term={term}")
}

/// Rows and columns of a sheet as the marks API returns it.
async fn sheet_of(s: &Session, url: &str) -> anyhow::Result<serde_json::Value> {
    let (status, sheet) = s.get_json(url).await?;
    anyhow::ensure!(status.is_success(), "GET {url}: {status} {sheet}");
    Ok(sheet)
}

/// The gradebook of one class: N saves of one whole column (every learner of the class), then
/// the sheet page and the marks API read N times each, as the subject teacher; then the same
/// reads as the principal on the largest class of the school.
///
/// The saves write real marks into the running demo: each save writes every cell of the
/// column with a value different from the one before (so every cell is written, versioned and
/// audited), with the versions the previous answer returned; at the end the column is put
/// back as it was (cleared, for the demo's empty sheet of 6A1), which leaves the cells'
/// history in the audit chain.
pub async fn gradebook(o: GradebookOpts) -> anyhow::Result<()> {
    let base = o.base.trim_end_matches('/');
    let n = o.requests;
    let s = Session::open(base, &o.user, 1).await?;
    let (_, me) = s.get_json(&format!("{base}/api/v1/me")).await?;
    let mine: Vec<String> = me["grants"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|g| g["scope_kind"] == "class_subject" && g["subject"] == o.subject.as_str())
        .filter_map(|g| g["class_id"].as_str().map(str::to_string))
        .collect();
    let mut own: Vec<_> = classes_of(&s, base, None)
        .await?
        .into_iter()
        .filter(|c| mine.contains(&c.0))
        .filter(|c| o.class.as_ref().is_none_or(|name| &c.1 == name))
        .collect();
    own.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
    let (class_id, class_name, roll, _) = own
        .first()
        .cloned()
        .with_context(|| format!("{} does not teach {} in such a class", o.user, o.subject))?;
    let api = marks_url(base, &class_id, &o.subject, o.term);
    let page = format!("{base}/gradebook/{class_id}/{}?term={}", o.subject, o.term);
    let sheet = sheet_of(&s, &api).await?;
    let rows = sheet["rows"].as_array().cloned().unwrap_or_default();
    let columns = sheet["columns"].as_array().cloned().unwrap_or_default();
    println!(
        "{}: class {class_name} ({}), subject {}, term {}: {roll} learners on the roll, {} rows on the sheet, columns {}",
        o.user,
        sheet["school_year"].as_str().unwrap_or_default(),
        o.subject,
        o.term,
        rows.len(),
        columns
            .iter()
            .map(|c| format!(
                "{}{}",
                c["slot"].as_str().unwrap_or_default(),
                if c["locked"] == true { " (locked)" } else { "" }
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if rows.len() < 45 {
        println!(
            "NOTE: the teacher's class has {} learners, fewer than the 45 the target is set for; \
             the principal's figures below are for the largest class of the school",
            rows.len()
        );
    }
    // Saves of one whole column.
    let slot = match &o.slot {
        Some(slot) => slot.clone(),
        None => columns
            .iter()
            .find(|c| c["kind"] == "score" && c["locked"] != true)
            .and_then(|c| c["slot"].as_str())
            .context("the sheet has no unlocked score column")?
            .to_string(),
    };
    let mut cells: Vec<(String, Option<String>, i64)> = rows
        .iter()
        .filter_map(|r| r["learner_id"].as_str())
        .map(|id| {
            let stored = sheet["cells"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["learner_id"] == id && c["slot"] == slot.as_str());
            (
                id.to_string(),
                stored.and_then(|c| c["value"].as_str()).map(str::to_string),
                stored.and_then(|c| c["version"].as_i64()).unwrap_or(0),
            )
        })
        .collect();
    let original: Vec<Option<String>> = cells.iter().map(|c| c.1.clone()).collect();
    const VALUES: [&str; 6] = ["6,5", "7", "7,5", "8", "8,5", "9"];
    let put = |cells: &[(String, Option<String>, i64)], values: &[Option<String>]| {
        let body = serde_json::json!({
            "class_id": class_id,
            "subject": o.subject,
            "term": o.term,
            "cells": cells.iter().zip(values).map(|((id, _, version), value)| serde_json::json!({
                "learner_id": id, "slot": slot, "value": value, "version": version,
            })).collect::<Vec<_>>(),
        });
        s.client
            .put(format!("{base}/api/v1/gradebook/marks"))
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .json(&body)
            .send()
    };
    // Takes the versions an answer returns; the number of cells not saved and the first of them.
    let take = |cells: &mut Vec<(String, Option<String>, i64)>, answer: &serde_json::Value| {
        let mut refused = (0, None);
        for c in answer["cells"].as_array().into_iter().flatten() {
            if c["status"] != "saved" {
                refused.0 += 1;
                refused.1.get_or_insert_with(|| c.to_string());
                continue;
            }
            if let Some(x) = cells.iter_mut().find(|x| c["learner_id"] == x.0.as_str()) {
                x.2 = c["version"].as_i64().unwrap_or(x.2);
            }
        }
        refused
    };
    let mut save_lat = Vec::with_capacity(n);
    let (mut save_errors, mut first_refusal) = (0, None);
    let mut first_save = None;
    for i in 0..n + 2 {
        let values: Vec<Option<String>> = (0..cells.len())
            .map(|k| Some(VALUES[(k + i) % VALUES.len()].to_string()))
            .collect();
        let t0 = Instant::now();
        let r = put(&cells, &values).await?;
        let status = r.status();
        let answer: serde_json::Value = r.json().await.unwrap_or_default();
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        let (refused, first) = take(&mut cells, &answer);
        if !status.is_success() || refused > 0 {
            save_errors += 1;
            first_refusal = first_refusal.or(first).or(Some(format!("{status} {answer}")));
            continue;
        }
        // The first two are not counted: the first creates the learner × subject rows of an
        // empty sheet, the second is the first update.
        match i {
            0 => first_save = Some(ms),
            1 => {}
            _ => save_lat.push(ms),
        }
    }
    let saves = Timed::new(
        format!(
            "`PUT /api/v1/gradebook/marks`, one column ({slot}) of {} cells, {}",
            cells.len(),
            o.user
        ),
        save_lat,
        save_errors,
    );
    // The teacher's reads, while the saved column holds a mark for every learner.
    let mut results = vec![];
    results.push(
        get_n(
            &s,
            format!(
                "`GET /gradebook/{{class}}/{}?term={}` page, {class_name} ({} rows, {slot} filled), {}",
                o.subject,
                o.term,
                rows.len(),
                o.user
            ),
            &page,
            n,
        )
        .await?,
    );
    results.push(
        get_n(
            &s,
            format!(
                "`GET /api/v1/gradebook/marks`, {}, {class_name} ({} rows, {slot} filled), {}",
                o.subject,
                rows.len(),
                o.user
            ),
            &api,
            n,
        )
        .await?,
    );

    results.push(saves);
    let r = put(&cells, &original).await?;
    let restored = r.status().is_success() && take(&mut cells, &r.json().await.unwrap_or_default()).0 == 0;
    println!(
        "saves: column {slot}, {} cells a save, values alternating so each save writes every cell; first save {:.1} ms (not counted){}; column put back as it was: {}",
        cells.len(),
        first_save.unwrap_or(f64::NAN),
        first_refusal
            .map(|f| format!("; first refusal: {f}"))
            .unwrap_or_default(),
        if restored { "yes" } else { "NO" }
    );

    if let Some(principal) = &o.principal {
        let p = Session::open(base, principal, 1).await?;
        let school = p.school_id(base).await?;
        let mut all = classes_of(&p, base, Some(&school)).await?;
        all.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
        let (class_id, class_name, roll, grade) =
            all.first().cloned().context("the school has no classes")?;
        let subject = &o.principal_subject;
        let api = marks_url(base, &class_id, subject, o.term);
        let sheet = sheet_of(&p, &api).await?;
        let rows = sheet["rows"].as_array().map_or(0, Vec::len);
        let filled = sheet["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| !c["value"].is_null())
            .count();
        println!(
            "{principal}: largest class of the school {class_name} (grade {grade}), {roll} learners on the roll, {rows} rows and {filled} marks on its {subject} sheet"
        );
        let page = format!("{base}/gradebook/{class_id}/{subject}?term={}", o.term);
        let what = format!("{class_name} ({rows} rows, {filled} marks), {principal}");
        results.push(
            get_n(
                &p,
                format!(
                    "`GET /gradebook/{{class}}/{subject}?term={}` page, {what}",
                    o.term
                ),
                &page,
                n,
            )
            .await?,
        );
        results.push(
            get_n(
                &p,
                format!("`GET /api/v1/gradebook/marks`, {subject}, {what}"),
                &api,
                n,
            )
            .await?,
        );
    }
    println!("\n{n} requests per target, one at a time (5 unmeasured first for reads, 2 for saves)\n");
    print_timed(&results);
    Ok(())
}

/// Year-end results of one school year in every school, computed and stored straight on the
/// database (no server). The year's stored results are deleted first (inside the bench, outside
/// the audit chain), so that what is measured computes every learner and writes every result
/// (`compute_class` skips results that did not change). Marks, summaries and everything else
/// are left as they are.
///
/// Two passes: `gradebook::compute_year` as the product runs it, then the same steps per class
/// (`class_info`, `roster`, `compute_learners`, `store_results`) over everyone enrolled in the
/// class, which is what the demo generator stores for last year. The second differs from
/// `compute_class` only in not keeping just the learners still in the class: after the
/// rollover every learner of a past year is in this year's class, and `compute_year` then
/// computes nobody. Whatever the first pass stored, the second finds unchanged and does not
/// rewrite (the "written" column says what each pass wrote). With `recheck`, the second pass
/// runs again, where nothing changes and nothing is written.
pub async fn results(store: &truongso_store::Store, school_year: &str, recheck: bool) -> anyhow::Result<()> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
    use truongso_store::entity::{class, mark, school_year as sy, year_result};
    use truongso_store::gradebook as gb;
    let db = &store.db;
    let years: Vec<uuid::Uuid> = sy::Entity::find()
        .filter(sy::Column::Name.eq(school_year))
        .all(db)
        .await?
        .into_iter()
        .map(|y| y.id)
        .collect();
    anyhow::ensure!(!years.is_empty(), "no school has a school year {school_year}");
    let count_results = || {
        year_result::Entity::find()
            .filter(year_result::Column::SchoolYearId.is_in(years.clone()))
            .count(db)
    };
    let marks = mark::Entity::find()
        .filter(mark::Column::SchoolYearId.is_in(years.clone()))
        .count(db)
        .await?;
    println!(
        "{school_year}: {} schools, {marks} marks rows (learner × subject), {} stored results",
        years.len(),
        count_results().await?
    );
    let t0 = Instant::now();
    let deleted = year_result::Entity::delete_many()
        .filter(year_result::Column::SchoolYearId.is_in(years.clone()))
        .exec(db)
        .await?
        .rows_affected;
    println!(
        "deleted {deleted} stored results in {:.1} s\n",
        t0.elapsed().as_secs_f64()
    );
    let actor = truongso_store::ActorRef::system("bench");
    println!("| pass | classes | learners computed | results written | seconds | learners/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    let row = |pass: &str, classes: usize, learners: usize, written: u64, secs: f64| {
        println!(
            "| {pass} | {classes} | {learners} | {written} | {secs:.1} | {:.0} |",
            learners as f64 / secs
        );
    };

    let before = count_results().await?;
    let t0 = Instant::now();
    let (mut classes, mut learners) = (0, 0);
    for y in &years {
        let (c, l) = gb::compute_year(db, &actor, *y).await?;
        classes += c;
        learners += l;
    }
    let secs = t0.elapsed().as_secs_f64();
    row(
        "`compute_year`",
        classes,
        learners,
        count_results().await? - before,
        secs,
    );

    let mut passes = vec!["every class, everyone enrolled"];
    if recheck {
        passes.push("the same again (nothing changed)");
    }
    // Per pass and level (primary TT 27, secondary TT 22): learners, seconds reading and
    // computing, seconds storing.
    let mut split = vec![];
    for pass in passes {
        let t0 = Instant::now();
        let (mut classes, mut learners, mut written) = (0, 0, 0);
        let mut level = [(0usize, 0f64, 0f64); 2];
        for y in &years {
            let ids: Vec<uuid::Uuid> = class::Entity::find()
                .filter(class::Column::SchoolYearId.eq(*y))
                .filter(class::Column::Grade.between(1, 12))
                .order_by_asc(class::Column::Name)
                .all(db)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect();
            for id in ids {
                let t1 = Instant::now();
                let info = gb::class_info(db, id).await?;
                let roster = gb::roster(db, id).await?;
                let results = gb::compute_learners(db, &info, &roster).await?;
                let t2 = Instant::now();
                written += gb::store_results(db, &actor, &info, &results).await? as u64;
                let l = &mut level[usize::from(info.grade >= 6)];
                l.0 += results.len();
                l.1 += (t2 - t1).as_secs_f64();
                l.2 += t2.elapsed().as_secs_f64();
                classes += 1;
                learners += results.len();
            }
        }
        row(pass, classes, learners, written, t0.elapsed().as_secs_f64());
        split.push((pass, level));
    }
    println!(
        "
| pass | level | learners | s reading and computing | s storing | learners/s |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for (pass, level) in split {
        for (name, (n, compute, store)) in ["primary (TT 27)", "secondary (TT 22)"].iter().zip(level) {
            println!(
                "| {pass} | {name} | {n} | {compute:.1} | {store:.1} | {:.0} |",
                n as f64 / (compute + store)
            );
        }
    }
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!(
        "\nstored results now: {} (before the bench: {deleted}); peak resident memory {} MiB",
        count_results().await?,
        peak / 1024
    );
    Ok(())
}
