//! `--name value` command-line flags, shared by the benchmark binaries (small enough not to
//! need clap, strict enough to refuse a flag without a value, a value that does not parse, or a
//! flag the benchmark does not know). `--help` prints the benchmark's usage.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;

pub struct Flags {
    values: HashMap<String, String>,
    /// Names the benchmark asked for, so [`Flags::finish`] can name the ones it never reads.
    asked: RefCell<BTreeSet<String>>,
    usage: &'static str,
}

impl Flags {
    /// Reads `--name value` pairs from the process arguments; with `--help` (or `-h`) prints
    /// `usage` and exits.
    pub fn from_env(usage: &'static str) -> anyhow::Result<Flags> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|a| a == "--help" || a == "-h") {
            println!("{usage}");
            std::process::exit(0);
        }
        Flags::parse(usage, args)
    }

    pub fn parse(
        usage: &'static str,
        args: impl IntoIterator<Item = String>,
    ) -> anyhow::Result<Flags> {
        let mut values = HashMap::new();
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            let value = it
                .next()
                .with_context(|| format!("{flag} needs a value\n\n{usage}"))?;
            values.insert(flag.trim_start_matches('-').to_string(), value);
        }
        Ok(Flags {
            values,
            asked: RefCell::default(),
            usage,
        })
    }

    /// The flag's value, or `default` when it was not given.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.text(name).map_or(Ok(default), |v| {
            v.parse().with_context(|| format!("--{name} {v:?}"))
        })
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.asked.borrow_mut().insert(name.to_string());
        self.values.get(name).map(String::as_str)
    }

    /// Call after reading every flag: refuses any given flag the benchmark never asked for (a
    /// misspelt `--conections` would otherwise run with the default and say nothing).
    pub fn finish(&self) -> anyhow::Result<()> {
        let asked = self.asked.borrow();
        let unknown: Vec<String> = self
            .values
            .keys()
            .filter(|name| !asked.contains(*name))
            .map(|name| format!("--{name}"))
            .collect();
        anyhow::ensure!(
            unknown.is_empty(),
            "unknown flag {}\n\n{}",
            unknown.join(", "),
            self.usage
        );
        Ok(())
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
        let f = Flags::parse("usage", ["--runs".into(), "3".into()]).unwrap();
        assert_eq!(f.get("runs", 5usize).unwrap(), 3);
        assert_eq!(f.get("seconds", 2.5f64).unwrap(), 2.5);
        f.finish().unwrap();
        assert!(Flags::parse("usage", ["--runs".into()]).is_err());
        assert!(Flags::parse("usage", ["--runs".into(), "x".into()])
            .unwrap()
            .get("runs", 1u32)
            .is_err());
    }

    #[test]
    fn a_flag_nobody_reads_is_refused_with_the_usage() {
        let f = Flags::parse("bench [--runs R]", ["--rnus".into(), "3".into()]).unwrap();
        assert_eq!(f.get("runs", 5usize).unwrap(), 5);
        let err = f.finish().unwrap_err().to_string();
        assert!(err.contains("unknown flag --rnus"), "{err}");
        assert!(err.contains("bench [--runs R]"), "{err}");
    }
}
