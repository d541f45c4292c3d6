//! `truongso`: the one binary — serve, migrate, demo, audit, bootstrap, gradebook.

mod bench;
mod bench_credentials;
mod bench_stats;
mod config;
mod credentials;
mod gradebook;

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::Config;
use std::path::PathBuf;
use std::time::Instant;
use truongso_store::{ActorRef, Store, accounts, audit, demo, org};

#[derive(Parser)]
#[command(name = "truongso", version, about = "Trường Số — nền tảng số cho giáo dục")]
struct Cli {
    /// TOML configuration file (default: ./truongso.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Overrides the configured database URL.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the web application and API.
    Serve {
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations (idempotent).
    Migrate,
    /// Create (or reuse) the demo province in ./data/demo.db and serve it.
    Demo {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Learners across the demo province (benchmarks use up to 1,000,000).
        #[arg(long, default_value_t = demo::DEFAULT_LEARNERS)]
        learners: u64,
        /// SQLite file for the demo (ignored when --database-url is given).
        #[arg(long, default_value = "./data/demo.db")]
        db: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Seed and print the logins, then exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Where the demo keeps its học bạ số files (test PKI, log key, witness, issued PDFs);
        /// default: the directory of the SQLite file, or ./data/demo-<database> for PostgreSQL.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Tạo bộ chứng thư số THỬ NGHIỆM (CA gốc, GVCN, Hiệu trưởng, con dấu của trường) cho bản
    /// mẫu và kiểm thử — make a throwaway test PKI for demos and tests.
    Pki {
        /// Thư mục mới hoặc rỗng để ghi các tệp (a new or empty directory).
        #[arg(long)]
        dir: PathBuf,
        /// Tên trường (tổ chức trên mọi chứng thư).
        #[arg(long)]
        school: Option<String>,
        /// Họ tên giáo viên chủ nhiệm.
        #[arg(long)]
        gvcn: Option<String>,
        /// Họ tên hiệu trưởng.
        #[arg(long)]
        principal: Option<String>,
        /// Mật khẩu các tệp .p12.
        #[arg(long, env = "TRUONGSO_PKI_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Kiểm tra một học bạ số / văn bằng số (PDF) không cần máy chủ: chữ ký, chứng thư, dữ liệu
    /// gốc, sổ cái, tình trạng thu hồi — verify a signed PDF offline. Exit 0 valid, 1 not valid,
    /// 2 usage error.
    Verify {
        /// Tệp PDF cần kiểm tra.
        file: PathBuf,
        /// Tệp bằng chứng sổ cái .tlog-proof đi kèm văn bản.
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// Bản sao sổ cái trong thư mục (checkpoint + tile/…), từ `truongso ledger export-tiles`.
        #[arg(long, conflicts_with = "url")]
        tiles: Option<PathBuf>,
        /// Máy chủ Trường Số (đọc BASE/log/checkpoint và BASE/log/tile/…).
        #[arg(long)]
        url: Option<String>,
        /// Chứng thư gốc tin cậy (PEM, hoặc thư mục các tệp PEM); lặp lại được.
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// Khóa xác minh của sổ cái (vkey, hoặc tệp chứa vkey); lặp lại được.
        #[arg(long = "log-key")]
        log_key: Vec<String>,
        /// Khóa xác minh của đơn vị chứng kiến (vkey, hoặc tệp); lặp lại được.
        #[arg(long)]
        witness: Vec<String>,
        /// Số chữ ký chứng kiến tối thiểu (mặc định: tất cả các --witness).
        #[arg(long)]
        quorum: Option<usize>,
        /// Nội dung mã QR in trên văn bản (địa chỉ …/xac-minh?doc=…&h=…).
        #[arg(long)]
        qr: Option<String>,
        /// In kết quả dạng JSON.
        #[arg(long)]
        json: bool,
        /// Ngôn ngữ: vi (mặc định) hoặc en.
        #[arg(long, default_value = "vi", value_parser = ["vi", "en"])]
        lang: String,
    },
    /// Chạy đơn vị chứng kiến (witness) ký xác nhận điểm kiểm tra sổ cái của đơn vị khác
    /// (c2sp tlog-witness, POST /add-checkpoint).
    Witness {
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: String,
        /// Cơ sở dữ liệu riêng của đơn vị chứng kiến.
        #[arg(long, default_value = "sqlite://./data/witness.db?mode=rwc")]
        db: String,
        /// Tệp khóa ký xác nhận (PRIVATE+KEY+…); tạo bằng --init.
        #[arg(long, default_value = "./data/witness.key")]
        key: PathBuf,
        /// Tên khóa, ví dụ witness.sogd-tuyenquang.vn (bắt buộc với --init).
        #[arg(long)]
        name: Option<String>,
        /// Sổ cái được chứng kiến: ORIGIN=VKEY (hoặc chỉ VKEY khi tên khóa là origin); lặp lại được.
        #[arg(long = "log")]
        log: Vec<String>,
        /// Tạo tệp khóa mới, in khóa xác minh (vkey) rồi thoát.
        #[arg(long)]
        init: bool,
    },
    /// Sổ cái (transparency log) tools.
    Ledger {
        #[command(subcommand)]
        cmd: LedgerCmd,
    },
    /// Audit chain tools.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Gradebook rule engine without a database: compute a JSON document, show a grade's rules.
    Gradebook {
        #[command(subcommand)]
        cmd: gradebook::GradebookCmd,
    },
    /// Benchmarks (figures go to docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        cmd: BenchCmd,
    },
    /// Create a root unit (a Sở or the Ministry) and its first administrator.
    Bootstrap {
        #[arg(long, default_value = "province_dept")]
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        code: Option<String>,
        #[arg(long)]
        admin_username: String,
        #[arg(long)]
        admin_name: String,
        /// Read from TRUONGSO_ADMIN_PASSWORD when omitted, so it stays out of shell history.
        #[arg(long, env = "TRUONGSO_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Load the real server (login page, dashboard) beside a trivial axum handler.
    Web {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 50)]
        concurrency: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Learner search on a running server, as each account (default: Sở officer, Sở
    /// administrator, school clerk).
    Search {
        #[command(flatten)]
        server: bench::ApiOpts,
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "chuyenvien.so,admin.so,vanthu.thcs"
        )]
        users: Vec<String>,
    },
    /// The class list (`/classes` and `/api/v1/classes?school_id=`) on a running server.
    Classes {
        #[command(flatten)]
        server: bench::ApiOpts,
        #[arg(long, value_delimiter = ',', default_value = "vanthu.thcs")]
        users: Vec<String>,
    },
    /// Pages or API paths on a running server as one account, e.g. the statistics dashboard:
    /// `--paths /stats/dashboard,/stats/forms`.
    Pages {
        #[command(flatten)]
        server: bench::ApiOpts,
        #[arg(long, default_value = "chuyenvien.so")]
        user: String,
        #[arg(long, value_delimiter = ',', default_value = "/stats/dashboard")]
        paths: Vec<String>,
    },
    /// Import an XLSX of new learners into the account's school and follow the job to its end
    /// (class names are read from the configured database).
    Import {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base: String,
        #[arg(long, default_value_t = 10_000)]
        rows: usize,
        #[arg(long, default_value = "vanthu.thcs")]
        user: String,
    },
    /// The gradebook on a running server: the sheet page and the marks API read N times, N
    /// saves of a whole column as the subject teacher, the same reads as the principal on the
    /// largest class of the school. The saves write into the demo; the column is put back.
    Gradebook {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base: String,
        /// Requests per target, one at a time.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// The subject teacher (their largest class with `--subject`).
        #[arg(long, default_value = "gvbm.thcs")]
        user: String,
        /// Reads the largest class of the school as this account too ("" to skip).
        #[arg(long, default_value = "hieutruong.thcs")]
        principal: String,
        /// The subject the principal reads (the demo fills it to mid-term this semester).
        #[arg(long, default_value = "ngu_van")]
        principal_subject: String,
        #[arg(long, default_value = "toan")]
        subject: String,
        #[arg(long, default_value_t = 1)]
        term: u8,
        /// One of the teacher's classes by name (default: the largest).
        #[arg(long)]
        class: Option<String>,
        /// The column saved (default: the first unlocked score column).
        #[arg(long)]
        slot: Option<String>,
    },
    /// Year-end results of a school year in every school, computed and stored on the
    /// configured database (no server): `compute_year`, then every class over everyone
    /// enrolled. Deletes that year's stored results first so that every result is computed and
    /// written; leaves everything else as it is.
    Results {
        #[arg(long, default_value = "2025-2026")]
        school_year: String,
        /// Then a second pass over the same year, where nothing changes.
        #[arg(long)]
        recheck: bool,
    },
    /// Học bạ số issuance without a server: raw Ed25519 / RSA-2048 / P-256 signing, render + three
    /// PAdES signatures + log append over N documents from a seeded demo, log append on each
    /// database, inclusion proofs and their verification, whole-document verification, PDF sizes.
    Credentials {
        #[arg(long, default_value_t = 1000)]
        docs: usize,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long, default_value_t = 2000)]
        demo_learners: u64,
        #[arg(long, default_value = "2025-2026")]
        school_year: String,
        /// Seconds per raw key operation and per append batch size.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        #[arg(long, value_delimiter = ',', default_value = "1000,100000,1000000")]
        proof_sizes: Vec<u64>,
        /// Timed runs of each proof size and of the whole-document verification.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Databases for the append and proof benchmarks (PostgreSQL: TRUONGSO_TEST_PG_URL).
        #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
        backends: Vec<String>,
        #[arg(long, default_value = "/usr/share/fonts/truetype/dejavu")]
        fonts_dir: std::path::PathBuf,
        /// Bytes reserved for each signature's CMS (default: what the service uses).
        #[arg(long)]
        contents_reserve: Option<usize>,
        /// Milliseconds the pipeline's appender gathers leaves into one transaction (0: append
        /// whatever is queued at once, one document at a time when the workers are slower).
        #[arg(long, default_value_t = 0)]
        append_window_ms: u64,
    },
    /// Generate a province for the statistics benchmark into an empty database (migrated
    /// here): schools of every level, classes, learners with this and last year's enrolments,
    /// status changes during 2026-2027, year results, staff, rooms, profiles, facilities.
    StatsSeed {
        #[arg(long, default_value_t = 1500)]
        schools: usize,
        #[arg(long, default_value_t = 1_000_000)]
        learners: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Education statistics on the configured database (no server): the unit's whole form
    /// set at 30/9 and at 31/5, one school's forms for a sample of schools, the unit's facts
    /// and indicators; several runs, the first (cold) reported apart.
    Stats {
        /// The unit (its code); default: the one current province department.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, default_value_t = 2026)]
        start_year: i32,
        #[arg(long, default_value_t = 50)]
        schools_sample: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// After the runs, write to this many schools' records (every hundredth school by
        /// default) and time the forms again: only those schools are recomputed.
        #[arg(long)]
        touch: Option<usize>,
        /// Write the province totals of every form (JSON) for scripts/bench_stats_duckdb.py.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LedgerCmd {
    /// Ghi điểm kiểm tra mới nhất và mọi tile / entry bundle vào DIR (bản sao tĩnh của sổ cái,
    /// cùng bố cục với /log/ trên máy chủ) — write a static mirror of the log.
    ExportTiles { dir: PathBuf },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the chain; exit 1 and name the first edited, removed or reordered event.
    Verify,
}

fn init_logs(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&cfg.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if cfg.log_format == "json" {
        b.json().flatten_event(true).init();
    } else {
        b.init();
    }
}

async fn open(cfg: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&cfg.database_url)
        .await
        .with_context(|| "cannot open the database")?;
    store.migrate().await.context("migration failed")?;
    truongso_store::settings::verify_data_key(&store.db, &cfg.cipher()?)
        .await
        .context("cannot use the data key")?;
    Ok(store)
}

async fn serve(
    store: Store,
    cfg: &Config,
    credentials: Option<std::sync::Arc<truongso_web::credentials::Credentials>>,
    bind: &str,
    banner: impl FnOnce(&str),
) -> anyhow::Result<()> {
    // Expired sessions are refused on lookup; this only keeps the table small.
    let purge = store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            match truongso_store::sessions::purge_expired(&purge.db).await {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "purged expired sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!("session purge failed: {e}"),
            }
        }
    });
    // A job cannot survive the process that ran it: say so instead of leaving it "running".
    match truongso_store::jobs::fail_interrupted(&store.db).await {
        Ok(n) if n > 0 => tracing::warn!(jobs = n, "marked interrupted jobs as failed"),
        Ok(_) => {}
        Err(e) => tracing::warn!("could not mark interrupted jobs: {e}"),
    }
    let mut state = truongso_web::AppState::new(store, cfg.web(), cfg.cipher()?);
    state.credentials = credentials;
    let app = truongso_web::app(state);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    banner(&format!("http://{addr}"));
    tracing::info!(%addr, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Pure computation: no configuration, database or data key.
    if let Cmd::Gradebook { cmd } = cli.cmd {
        return match gradebook::run(cmd)? {
            0 => Ok(()),
            code => std::process::exit(code),
        };
    }
    // Offline: no configuration, database or data key either.
    let cli = match cli.cmd {
        Cmd::Pki {
            dir,
            school,
            gvcn,
            principal,
            password,
        } => {
            let code = credentials::pki(credentials::PkiArgs {
                dir,
                school,
                gvcn,
                principal,
                password,
            });
            std::process::exit(code);
        }
        Cmd::Verify {
            file,
            bundle,
            tiles,
            url,
            trust,
            log_key,
            witness,
            quorum,
            qr,
            json,
            lang,
        } => {
            let lang = if lang == "en" {
                truongso_core::i18n::Locale::En
            } else {
                truongso_core::i18n::Locale::Vi
            };
            let code = credentials::verify(credentials::VerifyArgs {
                file,
                bundle,
                tiles,
                url,
                trust,
                log_keys: log_key,
                witnesses: witness,
                quorum,
                qr,
                json,
                lang,
            })
            .await;
            std::process::exit(code);
        }
        cmd => Cli { cmd, ..cli },
    };
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Some(url) = &cli.database_url {
        cfg.database_url = url.clone();
    }
    match cli.cmd {
        Cmd::Serve { bind } => {
            init_logs(&cfg);
            let store = open(&cfg).await?;
            let bind = bind.unwrap_or(cfg.bind.clone());
            let creds = credentials::load_for_server(&cfg)?.map(std::sync::Arc::new);
            serve(store, &cfg, creds, &bind, |url| {
                println!("Trường Số đang chạy tại {url}")
            })
            .await
        }
        Cmd::Migrate => {
            let store = Store::connect(&cfg.database_url).await?;
            let applied = store.migrate().await?;
            println!("Đã áp dụng {applied} migration (applied {applied} pending migrations).");
            Ok(())
        }
        Cmd::Demo {
            seed,
            learners,
            db,
            bind,
            no_serve,
            data_dir,
        } => {
            if cli.database_url.is_none() && std::env::var("TRUONGSO_DATABASE_URL").is_err() {
                cfg.database_url = truongso_store::sqlite_url(&db);
            }
            let data_dir = data_dir.unwrap_or_else(|| demo_data_dir(&cfg.database_url));
            if cfg.log_level == "info" {
                cfg.log_level = "warn".into();
            }
            init_logs(&cfg);
            let t0 = Instant::now();
            let store = open(&cfg).await?;
            let summary = demo::seed(&store, &cfg.cipher()?, demo::DemoOptions { seed, learners }).await?;
            print_demo(&summary, t0.elapsed().as_secs_f64());
            let public = format!("http://{}", bind.replace("0.0.0.0", "127.0.0.1"));
            let creds =
                match credentials::setup_demo(&store, &cfg, &cfg.cipher()?, &data_dir, &public).await? {
                    Some((c, issued)) => {
                        issued.print(&public);
                        Some(c)
                    }
                    None => None,
                };
            if no_serve {
                return Ok(());
            }
            serve(store, &cfg, creds, &bind, |url| {
                println!("\nMở trình duyệt tại / Open: {url}   (Ctrl+C để dừng / to stop)");
            })
            .await
        }
        Cmd::Gradebook { .. } | Cmd::Pki { .. } | Cmd::Verify { .. } => {
            unreachable!("handled before the configuration is loaded")
        }
        Cmd::Witness {
            bind,
            db,
            key,
            name,
            log,
            init,
        } => {
            init_logs(&cfg);
            let args = credentials::WitnessArgs {
                bind,
                db,
                key,
                name,
                logs: log,
                init,
            };
            match credentials::witness(args, shutdown()).await? {
                0 => Ok(()),
                code => std::process::exit(code),
            }
        }
        Cmd::Ledger {
            cmd: LedgerCmd::ExportTiles { dir },
        } => {
            let store = Store::connect(&cfg.database_url).await?;
            let t0 = Instant::now();
            let out = credentials::export_tiles(&store, &dir).await?;
            println!(
                "Đã ghi bản sao sổ cái vào {} (log mirror written): {} mục, {} tệp mới, {} tile đầy đủ giữ nguyên, {:.1} giây.",
                dir.display(),
                out.size,
                out.written,
                out.kept,
                t0.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Cmd::Bench {
            cmd:
                BenchCmd::Web {
                    seconds,
                    concurrency,
                    seed,
                },
        } => {
            bench::web(bench::Opts {
                seconds,
                concurrency,
                seed,
            })
            .await
        }
        Cmd::Bench {
            cmd: BenchCmd::Search { server, users },
        } => bench::search(server, users).await,
        Cmd::Bench {
            cmd: BenchCmd::Pages { server, user, paths },
        } => bench::pages(server, &user, &paths).await,
        Cmd::Bench {
            cmd: BenchCmd::Classes { server, users },
        } => bench::classes(server, users).await,
        Cmd::Bench {
            cmd: BenchCmd::Import { base, rows, user },
        } => {
            let store = Store::connect(&cfg.database_url).await?;
            let opts = bench::ApiOpts {
                base,
                seconds: 0,
                concurrency: 1,
            };
            bench::import(opts, &store, &user, rows).await
        }
        Cmd::Bench {
            cmd:
                BenchCmd::Gradebook {
                    base,
                    requests,
                    user,
                    principal,
                    principal_subject,
                    subject,
                    term,
                    class,
                    slot,
                },
        } => {
            bench::gradebook(bench::GradebookOpts {
                base,
                requests,
                user,
                principal: (!principal.is_empty()).then_some(principal),
                principal_subject,
                subject,
                term,
                class,
                slot,
            })
            .await
        }
        Cmd::Bench {
            cmd: BenchCmd::Results { school_year, recheck },
        } => {
            let store = Store::connect(&cfg.database_url).await?;
            bench::results(&store, &school_year, recheck).await
        }
        Cmd::Bench {
            cmd:
                BenchCmd::Credentials {
                    docs,
                    workers,
                    demo_learners,
                    school_year,
                    seconds,
                    proof_sizes,
                    samples,
                    backends,
                    fonts_dir,
                    contents_reserve,
                    append_window_ms,
                },
        } => {
            bench_credentials::credentials(bench_credentials::CredOpts {
                docs,
                workers,
                demo_learners,
                school_year,
                seconds,
                proof_sizes,
                samples,
                backends,
                fonts_dir,
                contents_reserve,
                append_window_ms,
            })
            .await
        }
        Cmd::Bench {
            cmd:
                BenchCmd::StatsSeed {
                    schools,
                    learners,
                    seed,
                },
        } => {
            let store = open(&cfg).await?;
            let opts = bench_stats::SeedOpts {
                schools,
                learners,
                seed,
                database_url: cfg.database_url.clone(),
            };
            bench_stats::seed(&store, &cfg.cipher()?, opts).await
        }
        Cmd::Bench {
            cmd:
                BenchCmd::Stats {
                    unit,
                    start_year,
                    schools_sample,
                    runs,
                    touch,
                    json,
                },
        } => {
            let store = Store::connect(&cfg.database_url).await?;
            let cipher = cfg.cipher()?;
            // A wrong key would only show as undecryptable disability fields mid-run.
            truongso_store::settings::verify_data_key(&store.db, &cipher)
                .await
                .context("cannot use the data key")?;
            let opts = bench_stats::StatsOpts {
                unit,
                start_year,
                schools_sample,
                runs,
                touch,
                json,
            };
            bench_stats::stats(&store, &cipher, opts).await
        }
        Cmd::Audit {
            cmd: AuditCmd::Verify,
        } => {
            let store = Store::connect(&cfg.database_url).await?;
            let report = audit::verify(&store.db).await?;
            match report.first_break {
                None => {
                    println!(
                        "Chuỗi nhật ký toàn vẹn: {} sự kiện (audit chain intact: {} events).",
                        report.checked, report.checked
                    );
                    Ok(())
                }
                Some(b) => {
                    println!(
                        "Chuỗi nhật ký bị can thiệp tại sự kiện số {} (audit chain broken at event {}): {}",
                        b.seq(),
                        b.seq(),
                        serde_json::to_string(&b)?
                    );
                    std::process::exit(1);
                }
            }
        }
        Cmd::Bootstrap {
            kind,
            name,
            code,
            admin_username,
            admin_name,
            admin_password,
        } => {
            let store = open(&cfg).await?;
            let who = ActorRef::system("bootstrap");
            let root = org::create(
                &store.db,
                &who,
                org::NewOrgUnit {
                    kind,
                    parent_id: None,
                    name,
                    code,
                    levels: None,
                    valid_from: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let user = accounts::create_user(
                &store.db,
                &who,
                accounts::NewUser {
                    username: admin_username,
                    display_name: admin_name,
                    owner_org_id: root.id,
                    password: admin_password,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let spec = accounts::GrantSpec {
                role: "admin".into(),
                org_unit_id: root.id,
                ..Default::default()
            };
            let g = accounts::resolve_grant(&store.db, &spec)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            accounts::grant(&store.db, &who, user.id, &g)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("Đã tạo {} và tài khoản quản trị «{}».", root.name, user.username);
            Ok(())
        }
    }
}

/// Where the demo keeps its học bạ số files: beside its SQLite file, or per PostgreSQL database
/// (two demo databases must never share a log key or a witness).
fn demo_data_dir(database_url: &str) -> PathBuf {
    if let Some(rest) = database_url.strip_prefix("sqlite://") {
        let file = rest.split('?').next().unwrap_or(rest);
        return std::path::Path::new(file)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from("."));
    }
    let name = database_url
        .split('?')
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or("db")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>();
    PathBuf::from("./data").join(format!("demo-{name}"))
}

fn print_demo(s: &demo::DemoSummary, secs: f64) {
    let t = |k: &str| truongso_core::i18n::t(truongso_core::i18n::Locale::Vi, k);
    if s.created {
        println!(
            "Đã tạo tỉnh mẫu trong {secs:.1} giây: {} đơn vị, {} trường, {} học sinh.",
            s.units, s.schools, s.learners
        );
    } else {
        println!(
            "Dùng lại tỉnh mẫu đã có: {} đơn vị, {} trường, {} học sinh.",
            s.units, s.schools, s.learners
        );
    }
    println!(
        "\nTài khoản mẫu (mật khẩu chung / password for all: {}):",
        demo::DEMO_PASSWORD
    );
    println!("  {:<20} {:<24} Phạm vi", "Tên đăng nhập", "Vai trò");
    for a in &s.accounts {
        println!(
            "  {:<20} {:<24} {}",
            a.username,
            t(&format!("role.{}", a.role)),
            a.scope
        );
    }
}
