//! The layers above the defaults: the TOML file, `PWA_BILLING_*` variables and `--set`
//! flags, each a figment provider that remembers where its values came from.

use std::path::PathBuf;

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::types::split_list;
use super::{env_name, keys, Config, ConfigError, EndpointConfig, ENV_PREFIX};

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
        let env = std::env::vars().collect();
        Self { file, env, flags }
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
            figment = figment.merge(Layer::file(path)?);
        }
        let by_name: Map<String, String> = keys().into_iter().map(|k| (env_name(&k), k)).collect();
        for (var, text) in &self.env {
            match var.strip_prefix(ENV_PREFIX) {
                Some(rest) if !rest.starts_with("TEST_") && rest != "CONFIG" => {
                    let key = by_name.get(var).cloned().or_else(|| endpoint_key(var));
                    let key = key.ok_or_else(|| ConfigError {
                        key: rest.to_ascii_lowercase(),
                        origin: Some(format!("from {var}")),
                        message: "no such configuration key (every key is in docs/server.md)"
                            .into(),
                    })?;
                    figment = figment.merge(Layer::string(Origin::Environment, &key, text)?);
                }
                _ => {}
            }
        }
        for (key, text) in &self.flags {
            figment = figment.merge(Layer::string(Origin::Flags, key, text)?);
        }
        Ok(figment)
    }
}

/// The key of `PWA_BILLING_WEBHOOKS_ENDPOINTS_<NAME>_<FIELD>`: a field of the endpoint
/// named `<NAME>` lowercased (`webhooks.endpoints.<name>.<field>`).
fn endpoint_key(var: &str) -> Option<String> {
    let rest = var.strip_prefix(&env_name("webhooks.endpoints."))?;
    EndpointConfig::KEYS.iter().find_map(|field| {
        let name = rest.strip_suffix(&format!("_{}", field.to_ascii_uppercase()))?;
        let name = name.to_ascii_lowercase();
        (!name.is_empty()).then(|| format!("webhooks.endpoints.{name}.{field}"))
    })
}

fn extract(figment: &Figment) -> Result<Config, ConfigError> {
    figment.extract_lossy().map_err(|e| {
        let key = e.path.join(".");
        let key = if key.is_empty() {
            "--config".into()
        } else {
            key
        };
        locate(figment, ConfigError::new(key, e.kind.to_string()))
    })
}

/// Adds where the value of the error's key came from.
fn locate(figment: &Figment, mut error: ConfigError) -> ConfigError {
    if let Some(metadata) = figment.find_metadata(&error.key) {
        error.origin = Some(match &metadata.source {
            Some(Source::File(file)) => format!("in {}", file.display()),
            _ => format!(
                "from {}",
                metadata.interpolate(&Profile::Default, &[&error.key])
            ),
        });
    }
    error
}

/// Which layer a [`Layer`] is.
#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    Environment,
    Flags,
}

/// One layer's values, nested by their dotted keys.
struct Layer {
    origin: Origin,
    dict: Dict,
}

impl Layer {
    fn file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let fail = |m: String| ConfigError::new("--config", m);
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        let table = text.parse::<toml::Table>().map_err(|e| {
            fail(format!(
                "{} is not valid TOML: {}",
                path.display(),
                e.message()
            ))
        })?;
        let value = Value::serialize(&table).map_err(|e| fail(e.to_string()))?;
        let dict = value.into_dict().expect("a TOML table is a dict");
        Ok(Self {
            origin: Origin::File(path.to_path_buf()),
            dict,
        })
    }

    /// A dotted key's string value (the environment, `--set`): strings become numbers and
    /// booleans where the key's type says so; `products` is `id=kind,…`.
    fn string(origin: Origin, key: &str, text: &str) -> Result<Self, ConfigError> {
        let value = if key == "products" {
            let table = split_list(text).map(|entry| match entry.split_once('=') {
                Some((id, kind)) => Ok((id.trim().into(), Value::from(kind.trim()))),
                None => Err(ConfigError {
                    key: key.into(),
                    origin: Some(format!("from {}", origin.name(key))),
                    message: format!("`{entry}` is not `product_id=kind`"),
                }),
            });
            Value::from(table.collect::<Result<Dict, _>>()?)
        } else {
            Value::from(text)
        };
        let dict = figment::util::nest(key, value)
            .into_dict()
            .expect("a key nests in a dict");
        Ok(Self { origin, dict })
    }
}

impl Origin {
    /// How `key` is set in this layer.
    fn name(&self, key: &str) -> String {
        let key = if key.starts_with("products.") {
            "products"
        } else {
            key
        };
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Environment => env_name(key),
            Self::Flags => format!("--set {key}"),
        }
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        match &self.origin {
            Origin::File(path) => Metadata::from("TOML file", Source::File(path.clone())),
            origin => {
                let origin = origin.clone();
                Metadata::named(format!("{origin:?}"))
                    .interpolater(move |_: &Profile, path: &[&str]| origin.name(&path.join(".")))
            }
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}
