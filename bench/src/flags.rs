//! `--name value` command-line flags, shared by the benchmark binaries (small enough not to
//! need clap, strict enough to refuse a flag without a value or a value that does not parse).

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;

pub struct Flags(HashMap<String, String>);

impl Flags {
    /// Reads `--name value` pairs from the process arguments.
    pub fn from_env() -> anyhow::Result<Flags> {
        Flags::parse(std::env::args().skip(1))
    }

    pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Flags> {
        let mut flags = HashMap::new();
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            let value = it.next().with_context(|| format!("{flag} needs a value"))?;
            flags.insert(flag.trim_start_matches('-').to_string(), value);
        }
        Ok(Flags(flags))
    }

    /// The flag's value, or `default` when it was not given.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.0.get(name).map_or(Ok(default), |v| {
            v.parse().with_context(|| format!("--{name} {v:?}"))
        })
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The program named by flag `name`, else `program` beside this benchmark's own executable
    /// (cargo builds them into the same directory).
    pub fn program(&self, name: &str, program: &str) -> anyhow::Result<PathBuf> {
        match self.text(name) {
            Some(path) => Ok(PathBuf::from(path)),
            None => Ok(std::env::current_exe()?.with_file_name(program)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Flags;

    #[test]
    fn values_parse_defaults_apply_and_bad_input_is_refused() {
        let f = Flags::parse(["--runs".into(), "3".into()]).unwrap();
        assert_eq!(f.get("runs", 5usize).unwrap(), 3);
        assert_eq!(f.get("seconds", 2.5f64).unwrap(), 2.5);
        assert!(Flags::parse(["--runs".into()]).is_err());
        assert!(Flags::parse(["--runs".into(), "x".into()])
            .unwrap()
            .get("runs", 1u32)
            .is_err());
    }
}
