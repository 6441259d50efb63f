//! Configuration of a dakoku process, read once at start from `DAKOKU_*` variables, validated,
//! and passed down as a value. Also owns the master key and the encryption of secrets at rest.

mod secrets;

pub use secrets::{Cipher, MasterKey, MasterKeyError, SecretError};

use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Every variable dakoku reads; anything else starting with `DAKOKU_` is reported as a typo.
pub const KNOWN_VARS: &[&str] = &[
    "DAKOKU_DATABASE_URL",
    "DAKOKU_LISTEN",
    "DAKOKU_PUBLIC_URL",
    "DAKOKU_MASTER_KEY",
    "DAKOKU_LOG",
    "DAKOKU_LOG_FORMAT",
    "DAKOKU_DATA_DIR",
    "DAKOKU_MAX_BODY_BYTES",
    "DAKOKU_DB_MAX_CONNECTIONS",
    "DAKOKU_WORKER_CONCURRENCY",
    "DAKOKU_WORKER_POLL_MS",
    "DAKOKU_JOB_LEASE_SECS",
    "DAKOKU_SHUTDOWN_GRACE_SECS",
    "DAKOKU_INSTANCE_ID",
    "DAKOKU_ALLOW_PLATFORM_HOSTS",
    "DAKOKU_ALLOW_PRIVATE_WEBHOOKS",
    "DAKOKU_TEST_DATABASE_URL",
    "DAKOKU_REQUIRE_POSTGRES",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {message}")]
    Invalid { var: &'static str, message: String },
}

/// A database URL whose password never reaches a log line.
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(SecretString::from(url.into()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
    pub fn is_sqlite(&self) -> bool {
        self.expose().starts_with("sqlite:")
    }
    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let url = self.expose();
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_owned();
        };
        match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_owned(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    pub public_url: String,
    /// Where the default SQLite file and the generated master key live.
    pub data_dir: PathBuf,
    /// `DAKOKU_MASTER_KEY` if given; otherwise the key file under `data_dir` is used.
    pub master_key: Option<SecretString>,
    pub log_filter: String,
    /// `json` for machine-read logs, anything else for human-readable lines.
    pub log_json: bool,
    pub max_body_bytes: usize,
    pub db_max_connections: u32,
    pub worker_concurrency: usize,
    pub worker_poll: Duration,
    pub job_lease: Duration,
    pub shutdown_grace: Duration,
    /// Names this process in job leases; random unless set.
    pub instance_id: String,
    /// What the operator allows beyond the safe defaults.
    pub policy: Policy,
}

/// Settings that loosen a safe default; each is off unless the operator turns it on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// `DAKOKU_ALLOW_PLATFORM_HOSTS`: integrations may send their calls to another host than
    /// the platform's own (simulators, private gateways). Off, a `*_base_url` setting is
    /// refused, since whoever sets it receives the integration's secrets on the next call.
    pub allow_platform_hosts: bool,
    /// `DAKOKU_ALLOW_PRIVATE_WEBHOOKS`: outgoing webhooks may go to loopback, private and
    /// link-local addresses (an on-premises receiver). Off, they are refused at connect time.
    pub allow_private_webhooks: bool,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Builds the configuration from a set of variables (the environment, or a test's own).
    pub fn from_vars(vars: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let data_dir = PathBuf::from(get("DAKOKU_DATA_DIR").unwrap_or_else(|| "./dakoku-data".to_owned()));
        let database_url =
            get("DAKOKU_DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("dakoku.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                var: "DAKOKU_DATABASE_URL",
                message: "must start with sqlite:// or postgres://".into(),
            });
        }
        let listen_text = get("DAKOKU_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| ConfigError::Invalid {
            var: "DAKOKU_LISTEN",
            message: format!("'{listen_text}' is not an address such as 127.0.0.1:8080"),
        })?;
        let public_url =
            get("DAKOKU_PUBLIC_URL").unwrap_or_else(|| format!("http://{listen}")).trim_end_matches('/').to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                var: "DAKOKU_PUBLIC_URL",
                message: "must start with http:// or https://".into(),
            });
        }
        let number = |var: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(text) => text
                    .parse()
                    .map_err(|_| ConfigError::Invalid { var, message: format!("'{text}' is not a whole number") }),
            }
        };
        let flag = |var: &'static str| -> Result<bool, ConfigError> {
            match get(var).as_deref() {
                None | Some("0" | "false" | "no" | "off") => Ok(false),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some(other) => {
                    Err(ConfigError::Invalid { var, message: format!("'{other}' is not one of 1, true, 0, false") })
                }
            }
        };
        let policy = Policy {
            allow_platform_hosts: flag("DAKOKU_ALLOW_PLATFORM_HOSTS")?,
            allow_private_webhooks: flag("DAKOKU_ALLOW_PRIVATE_WEBHOOKS")?,
        };
        Ok(Config {
            policy,
            database_url: DatabaseUrl::new(database_url),
            listen,
            public_url,
            data_dir,
            master_key: get("DAKOKU_MASTER_KEY").map(SecretString::from),
            log_filter: get("DAKOKU_LOG").unwrap_or_else(|| "info".to_owned()),
            log_json: get("DAKOKU_LOG_FORMAT").is_some_and(|f| f == "json"),
            max_body_bytes: number("DAKOKU_MAX_BODY_BYTES", 1024 * 1024)? as usize,
            db_max_connections: number("DAKOKU_DB_MAX_CONNECTIONS", 10)?.max(1) as u32,
            worker_concurrency: number("DAKOKU_WORKER_CONCURRENCY", 4)?.max(1) as usize,
            worker_poll: Duration::from_millis(number("DAKOKU_WORKER_POLL_MS", 500)?.max(10)),
            job_lease: Duration::from_secs(number("DAKOKU_JOB_LEASE_SECS", 60)?.max(1)),
            shutdown_grace: Duration::from_secs(number("DAKOKU_SHUTDOWN_GRACE_SECS", 20)?),
            instance_id: get("DAKOKU_INSTANCE_ID").unwrap_or_else(random_instance_id),
        })
    }

    /// Names of `DAKOKU_*` variables that dakoku does not know (likely typos).
    pub fn unknown_vars(vars: impl Iterator<Item = String>) -> Vec<String> {
        vars.filter(|name| name.starts_with("DAKOKU_") && !KNOWN_VARS.contains(&name.as_str())).collect()
    }

    /// Loads or creates the master key as configured.
    pub fn load_master_key(&self) -> Result<MasterKey, MasterKeyError> {
        match &self.master_key {
            Some(text) => MasterKey::from_base64(text.expose_secret(), "DAKOKU_MASTER_KEY"),
            None => MasterKey::load_or_create(&self.data_dir.join("master.key")),
        }
    }
}

fn random_instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let suffix: u32 = rand::random();
    format!("{}-{}-{suffix:08x}", host.trim(), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = Config::from_vars(vars(&[])).expect("defaults are valid");
        assert_eq!(c.database_url.expose(), "sqlite://./dakoku-data/dakoku.db");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.log_filter, "info");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = Config::from_vars(vars(&[("DAKOKU_LISTEN", "nowhere")])).expect_err("invalid");
        assert!(err.to_string().starts_with("DAKOKU_LISTEN"));
        let err = Config::from_vars(vars(&[("DAKOKU_DATABASE_URL", "mysql://x")])).expect_err("invalid");
        assert!(err.to_string().starts_with("DAKOKU_DATABASE_URL"));
    }

    #[test]
    fn database_password_is_redacted() {
        let url = DatabaseUrl::new("postgres://app:hunter2@db:5432/dakoku");
        assert_eq!(format!("{url:?}"), "postgres://app:***@db:5432/dakoku");
    }

    #[test]
    fn unknown_variables_are_reported() {
        let unknown = Config::unknown_vars(["DAKOKU_LISTEN", "DAKOKU_LISTN", "PATH"].into_iter().map(String::from));
        assert_eq!(unknown, vec!["DAKOKU_LISTN".to_owned()]);
    }
}
