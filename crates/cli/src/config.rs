//! Configuration: built-in defaults, then a TOML file, then `TRUONGSO_*` environment variables
//! (e.g. `TRUONGSO_DATABASE_URL`, `TRUONGSO_BIND`, `TRUONGSO_LOG_FORMAT=json`).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://./data/truongso.db?mode=rwc` (default) or `postgres://user@host/db`.
    pub database_url: String,
    pub bind: String,
    pub session_ttl_minutes: i64,
    pub max_body_kib: usize,
    pub secure_cookies: bool,
    /// Failed logins allowed per client address in 15 minutes.
    pub login_failures_per_ip: u32,
    /// Trust `X-Forwarded-For` (set only behind your own reverse proxy).
    pub behind_proxy: bool,
    /// Master key for field-level encryption (base64 of 32 bytes). Prefer setting it through
    /// `TRUONGSO_DATA_KEY`; without it the key is read from (or created in) `data_key_file`.
    pub data_key: Option<String>,
    pub data_key_file: String,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `truongso_web=debug,info`.
    pub log_level: String,
    /// Học bạ số / văn bằng số: holds the log key (`log.key`, created on first start) and the
    /// trust roots (`trust/*.pem`).
    pub credentials_dir: String,
    /// The transparency log's origin line (also its key name), e.g. `hocba.sogd.example.vn/log`.
    pub ledger_origin: String,
    /// Where this server is reached from outside; QR codes point at `<public_url>/xac-minh`.
    pub public_url: String,
    /// DejaVu Sans (regular and bold) for the PDF renditions (`apt-get install fonts-dejavu-core`).
    pub fonts_dir: String,
    /// Witnesses asked to cosign each checkpoint (`[[witnesses]]` with `url` and `vkey`).
    pub witnesses: Vec<WitnessConfig>,
    /// Cosignatures required of those witnesses (default: all of them).
    pub witness_quorum: Option<usize>,
}

/// A witness the log asks to cosign (`truongso witness` run by another office).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessConfig {
    /// Base URL; checkpoints go to `<url>/add-checkpoint`.
    pub url: String,
    /// Its cosignature verifier key (`name+hex8+base64`).
    pub vkey: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: truongso_store::sqlite_url("./data/truongso.db"),
            bind: "127.0.0.1:8080".into(),
            session_ttl_minutes: 480,
            max_body_kib: 1024,
            secure_cookies: false,
            login_failures_per_ip: 50,
            behind_proxy: false,
            data_key: None,
            data_key_file: "./data/data.key".into(),
            log_format: "text".into(),
            log_level: "info".into(),
            credentials_dir: "./data/credentials".into(),
            ledger_origin: "log.truongso.local/hoc-ba".into(),
            public_url: "http://127.0.0.1:8080".into(),
            fonts_dir: truongso_docs::credentials::render::DEJAVU_DIR.into(),
            witnesses: vec![],
            witness_quorum: None,
        }
    }
}

impl Config {
    /// Loads the file if given (or `./truongso.toml` when present), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                anyhow::ensure!(f.exists(), "config file {} not found", f.display());
                fig = fig.merge(Toml::file(f));
            }
            None if Path::new("truongso.toml").exists() => fig = fig.merge(Toml::file("truongso.toml")),
            None => {}
        }
        let cfg: Config = fig
            .merge(Env::prefixed("TRUONGSO_").ignore(&["test_pg_url", "bin"]))
            .extract()?;
        anyhow::ensure!(
            cfg.session_ttl_minutes > 0,
            "session_ttl_minutes must be positive"
        );
        anyhow::ensure!(cfg.max_body_kib >= 16, "max_body_kib must be at least 16");
        anyhow::ensure!(
            matches!(cfg.log_format.as_str(), "text" | "json"),
            "log_format must be text or json"
        );
        anyhow::ensure!(
            cfg.public_url.starts_with("http://") || cfg.public_url.starts_with("https://"),
            "public_url must start with http:// or https://"
        );
        anyhow::ensure!(
            truongso_ledger::note::is_valid_key_name(&cfg.ledger_origin),
            "ledger_origin must be a key name: no spaces, no `+`"
        );
        if let Some(q) = cfg.witness_quorum {
            anyhow::ensure!(
                q <= cfg.witnesses.len(),
                "witness_quorum ({q}) is larger than the number of witnesses ({})",
                cfg.witnesses.len()
            );
        }
        Ok(cfg)
    }

    /// The field cipher. A new installation without a configured key gets one generated into
    /// `data_key_file` (mode 0600): encrypted fields cannot be read without it, so back it up
    /// with the database.
    pub fn cipher(&self) -> anyhow::Result<truongso_store::crypto::FieldCipher> {
        use truongso_store::crypto::FieldCipher;
        let key = match &self.data_key {
            Some(k) => k.clone(),
            None => {
                let path = std::path::Path::new(&self.data_key_file);
                if path.exists() {
                    std::fs::read_to_string(path)?
                } else {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)?;
                    }
                    let k = FieldCipher::generate_key();
                    write_private(path, &k)?;
                    tracing::warn!(path = %path.display(), "generated a new data key; back it up with the database");
                    k
                }
            }
        };
        FieldCipher::from_base64(&key).map_err(|e| anyhow::anyhow!("data key: {e}"))
    }

    pub fn web(&self) -> truongso_web::WebConfig {
        truongso_web::WebConfig {
            session_ttl: chrono::Duration::minutes(self.session_ttl_minutes),
            max_body_bytes: self.max_body_kib * 1024,
            secure_cookies: self.secure_cookies,
            login_failures_per_ip: self.login_failures_per_ip,
            behind_proxy: self.behind_proxy,
            ..Default::default()
        }
    }
}

impl Config {
    /// What `truongso_web::credentials::Credentials::load` needs, from this configuration.
    pub fn credentials_setup(&self) -> truongso_web::credentials::CredentialsSetup {
        use truongso_web::credentials::{CredentialsSetup, WitnessEndpoint};
        CredentialsSetup {
            dir: self.credentials_dir.clone().into(),
            origin: self.ledger_origin.clone(),
            verify_url: verify_url(&self.public_url),
            fonts_dir: self.fonts_dir.clone().into(),
            witnesses: self
                .witnesses
                .iter()
                .map(|w| WitnessEndpoint {
                    url: w.url.clone(),
                    vkey: w.vkey.clone(),
                })
                .collect(),
            quorum: self.witness_quorum.unwrap_or(self.witnesses.len()),
        }
    }
}

/// The verify page printed in QR codes.
pub fn verify_url(public_url: &str) -> String {
    format!("{}/xac-minh", public_url.trim_end_matches('/'))
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_then_environment() {
        let dir = std::env::temp_dir().join(format!("ts-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("truongso.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\nlog_format = \"json\"\nsession_ttl_minutes = 60\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("TRUONGSO_BIND", "127.0.0.1:7000");
            let cfg = Config::load(Some(&file)).expect("loads");
            assert_eq!(cfg.bind, "127.0.0.1:7000", "environment wins over the file");
            assert_eq!(cfg.log_format, "json");
            assert_eq!(cfg.web().session_ttl, chrono::Duration::minutes(60));
            jail.set_env("TRUONGSO_LOG_FORMAT", "xml");
            assert!(Config::load(Some(&file)).is_err());
            Ok(())
        });
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn credentials_settings_from_file_and_environment() {
        let dir = std::env::temp_dir().join(format!("ts-config-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("truongso.toml");
        std::fs::write(
            &file,
            "public_url = \"https://hocba.sogd.example.vn/\"\n\
             ledger_origin = \"hocba.sogd.example.vn/log\"\n\
             [[witnesses]]\nurl = \"https://w1.example.vn\"\nvkey = \"w1+01234567+AAAA\"\n\
             [[witnesses]]\nurl = \"https://w2.example.vn\"\nvkey = \"w2+89abcdef+BBBB\"\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            let cfg = Config::load(Some(&file)).expect("loads");
            let setup = cfg.credentials_setup();
            assert_eq!(setup.verify_url, "https://hocba.sogd.example.vn/xac-minh");
            assert_eq!(setup.origin, "hocba.sogd.example.vn/log");
            assert_eq!(setup.dir, std::path::PathBuf::from("./data/credentials"));
            assert_eq!(
                setup.fonts_dir,
                std::path::PathBuf::from("/usr/share/fonts/truetype/dejavu")
            );
            assert_eq!(setup.witnesses.len(), 2);
            assert_eq!(setup.witnesses[1].url, "https://w2.example.vn");
            assert_eq!(setup.quorum, 2, "all witnesses unless a quorum is set");
            jail.set_env("TRUONGSO_WITNESS_QUORUM", "1");
            jail.set_env("TRUONGSO_CREDENTIALS_DIR", "/srv/truongso/credentials");
            let cfg = Config::load(Some(&file)).expect("loads");
            assert_eq!(cfg.credentials_setup().quorum, 1);
            assert_eq!(cfg.credentials_dir, "/srv/truongso/credentials");
            jail.set_env("TRUONGSO_WITNESS_QUORUM", "3");
            assert!(Config::load(Some(&file)).is_err(), "more than the witnesses");
            jail.set_env("TRUONGSO_WITNESS_QUORUM", "1");
            jail.set_env("TRUONGSO_LEDGER_ORIGIN", "có dấu cách");
            assert!(Config::load(Some(&file)).is_err(), "an origin is a key name");
            jail.set_env("TRUONGSO_LEDGER_ORIGIN", "ok.example/log");
            jail.set_env("TRUONGSO_PUBLIC_URL", "hocba.example.vn");
            assert!(Config::load(Some(&file)).is_err(), "a URL with its scheme");
            Ok(())
        });
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn data_key_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("ts-key-{}", std::process::id()));
        let cfg = Config {
            data_key_file: dir.join("k/data.key").display().to_string(),
            ..Config::default()
        };
        let a = cfg.cipher().unwrap();
        let sealed = a.encrypt("t:1", "bí mật");
        let b = cfg.cipher().unwrap();
        assert_eq!(
            b.decrypt("t:1", &sealed).unwrap(),
            "bí mật",
            "the same key is read back"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&cfg.data_key_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let bad = Config {
            data_key: Some("ngắn".into()),
            ..Config::default()
        };
        assert!(bad.cipher().is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
