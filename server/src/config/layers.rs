//! The layers and their sources: the TOML file, the environment and `--set` flags, each a
//! figment provider that remembers where each value came from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::types::split_list;
use super::{env_name, keys, Config, ConfigError, ENV_PREFIX};

/// Where a configuration comes from, lowest layer first after the defaults.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The TOML file (`--config`), if any.
    pub file: Option<PathBuf>,
    /// Environment variables; those starting with `PWA_BILLING_` are read.
    pub env: Vec<(String, String)>,
    /// Command-line `--set key=value` pairs.
    pub flags: Vec<(String, String)>,
}

impl Sources {
    /// The file, the process environment and the flags.
    pub fn from_process(file: Option<PathBuf>, flags: Vec<(String, String)>) -> Self {
        Self {
            file,
            env: std::env::vars().collect(),
            flags,
        }
    }

    /// The layers merged and checked: what `serve` and every command that opens the
    /// database needs.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let figment = self.figment()?;
        let config = extract(&figment)?;
        config.validate().map_err(|e| locate(&figment, e))
    }

    /// The layers merged, each value of its key's type, without the checks of
    /// [`Sources::load`] (no key is required): for commands that need a few keys.
    pub fn extract(&self) -> Result<Config, ConfigError> {
        extract(&self.figment()?)
    }

    fn figment(&self) -> Result<Figment, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = &self.file {
            figment = figment.merge(TomlFile::read(path)?);
        }
        Ok(figment
            .merge(Strings::environment(&self.env)?)
            .merge(Strings::flags(&self.flags)?))
    }
}

fn extract(figment: &Figment) -> Result<Config, ConfigError> {
    figment.extract_lossy().map_err(|e| {
        let key = e.path.join(".");
        locate(
            figment,
            ConfigError::new(
                if key.is_empty() { "--config" } else { &key },
                e.kind.to_string(),
            ),
        )
    })
}

/// Adds where the value of the error's key came from.
fn locate(figment: &Figment, mut error: ConfigError) -> ConfigError {
    if let Some(metadata) = figment.find_metadata(&error.key) {
        let path: Vec<&str> = error.key.split('.').collect();
        error.origin = Some(match &metadata.source {
            Some(Source::File(file)) => format!("in {}", file.display()),
            _ => format!("from {}", metadata.interpolate(&Profile::Default, &path)),
        });
    }
    error
}

/// The TOML file.
struct TomlFile {
    path: PathBuf,
    table: toml::Table,
}

impl TomlFile {
    fn read(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
        })?;
        let table = text.parse::<toml::Table>().map_err(|e| {
            ConfigError::new(
                "--config",
                format!("{} is not valid TOML: {}", path.display(), e.message()),
            )
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            table,
        })
    }
}

impl Provider for TomlFile {
    fn metadata(&self) -> Metadata {
        Metadata::from("TOML file", Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict = Value::serialize(&self.table)?
            .into_dict()
            .ok_or_else(|| figment::Error::from("a TOML file is a table".to_string()))?;
        Ok(Profile::Default.collect(dict))
    }
}

/// Which layer a [`Strings`] is.
#[derive(Debug, Clone, Copy)]
enum Layer {
    Environment,
    Flags,
}

/// Dotted keys with string values (the environment, `--set`): strings become numbers and
/// booleans where the key's type says so; `products` and lists are comma-separated.
struct Strings {
    layer: Layer,
    values: BTreeMap<String, String>,
}

impl Strings {
    /// The `PWA_BILLING_*` variables, each mapped to its key by name.
    fn environment(env: &[(String, String)]) -> Result<Self, ConfigError> {
        let by_name: BTreeMap<String, String> =
            keys().into_iter().map(|k| (env_name(&k), k)).collect();
        let mut values = BTreeMap::new();
        for (var, value) in env {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if rest.starts_with("TEST_") || rest == "CONFIG" {
                continue;
            }
            let Some(key) = by_name.get(var) else {
                return Err(ConfigError {
                    key: rest.to_ascii_lowercase(),
                    origin: Some(format!("from {var}")),
                    message: "no such configuration key (every key is listed in the README)".into(),
                });
            };
            values.insert(key.clone(), value.clone());
        }
        Self::new(Layer::Environment, values)
    }

    /// `--set key=value` pairs.
    fn flags(flags: &[(String, String)]) -> Result<Self, ConfigError> {
        Self::new(Layer::Flags, flags.iter().cloned().collect())
    }

    fn new(layer: Layer, values: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let this = Self { layer, values };
        if let Some(list) = this.values.get("products") {
            this.products(list)?;
        }
        Ok(this)
    }

    /// Where `key` is set in this layer.
    fn origin(layer: Layer, path: &[&str]) -> String {
        match layer {
            Layer::Environment if path.first() == Some(&"products") => env_name("products"),
            Layer::Environment => env_name(&path.join(".")),
            Layer::Flags => format!("--set {}", path.join(".")),
        }
    }

    /// `coins_100=consumable,sub_monthly=subscription` as a table.
    fn products(&self, list: &str) -> Result<Dict, ConfigError> {
        split_list(list)
            .map(|entry| {
                let (id, kind) = entry.split_once('=').ok_or_else(|| ConfigError {
                    key: "products".into(),
                    origin: Some(format!("from {}", Self::origin(self.layer, &["products"]))),
                    message: format!("`{entry}` is not `product_id=kind`"),
                })?;
                Ok((id.trim().to_string(), Value::from(kind.trim().to_string())))
            })
            .collect()
    }
}

impl Provider for Strings {
    fn metadata(&self) -> Metadata {
        let layer = self.layer;
        let name = match layer {
            Layer::Environment => "environment",
            Layer::Flags => "command line",
        };
        Metadata::named(name)
            .interpolater(move |_: &Profile, path: &[&str]| Self::origin(layer, path))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        for (key, text) in &self.values {
            let value = if key == "products" {
                Value::from(self.products(text).map_err(|e| e.to_string())?)
            } else {
                Value::from(text.clone())
            };
            let mut path: Vec<&str> = key.split('.').collect();
            let leaf = path.pop().unwrap_or_default();
            let mut dict = &mut root;
            for part in path {
                let entry = dict
                    .entry(part.to_string())
                    .or_insert_with(|| Value::from(Dict::new()));
                dict = match entry {
                    Value::Dict(_, d) => d,
                    _ => return Err(format!("`{part}` is a value and a table").into()),
                };
            }
            dict.insert(leaf.to_string(), value);
        }
        Ok(Profile::Default.collect(root))
    }
}
