//! Rule indexing: a `deny` or `approval` rule whose body opens with plain tests of the input
//! (`input.action.target.tool == "x"`, `input.session.tainted`, `startswith(input.…, "p")`) is
//! left out of the program that decides an input those tests already rule out.
//!
//! Most of a large policy is rules about one tool, one namespace or one kind of session, and
//! without an index every decision runs every one of them, though all but a few fail at their
//! first condition. OPA indexes such rules; regorus does not, so the same effect comes from
//! compiling one program per set of rules an input can reach, each without the rules it cannot,
//! and choosing the program by checking the tests in Rust before the VM runs.
//!
//! A rule is indexed when it is a `deny contains …` or `approval contains …` rule of package
//! `sentinel` with one body (no `else`) whose first conditions (one or more, before anything
//! else in the body, without `with`) are guards:
//! - `input.<path> == <string, boolean or null>`, either way round;
//! - `input.<path>` alone (it holds unless undefined or `false`);
//! - `startswith(input.<path>, <string>)` (it fails, without error, only on a string that does
//!   not start so or an undefined value: anything else, which is a run-time error, keeps the
//!   rule).
//!
//! None of these can raise an error, and they are the body's first conditions (a guard binds no
//! variable, so the compiler keeps it first), so a rule left out would have failed at one of
//! them with nothing evaluated after it: the decision is exactly the one without the index,
//! errors included. The library module defines both rules itself, so they never disappear.
//!
//! A bundle that uses `with` outside its `test_*` rules gets no index (`with` can evaluate a
//! rule under another input), nor one that defines or imports a `startswith` of its own.

use std::collections::HashSet;

use regorus::unstable::{BoolOp, Expr, Lexer, Literal, Module, Ref, Rule, RuleHead, TokenKind};
use regorus::Value;

use crate::conflicts::{path_of, var_name};

/// The rules an input can reach, one bit per indexed rule: the name of a program.
pub(crate) type Reach = Box<[u64]>;

/// The indexed rules of a bundle's modules (the library's included).
#[derive(Debug)]
pub(crate) struct RuleIndex {
    /// Every module: file name and source, as compiled.
    sources: Vec<(String, String)>,
    rules: Vec<IndexedRule>,
    /// The distinct input paths the guards read, as keys below `input`.
    paths: Vec<Vec<Value>>,
}

#[derive(Debug)]
struct IndexedRule {
    /// Index into `sources`.
    module: usize,
    /// Byte range of the whole rule in its source.
    start: usize,
    end: usize,
    guards: Vec<Guard>,
}

#[derive(Debug)]
struct Guard {
    /// Index into `paths`.
    path: usize,
    test: Test,
}

#[derive(Debug, PartialEq)]
enum Test {
    Equals(Value),
    Truthy,
    StartsWith(String),
}

impl RuleIndex {
    /// The index of `modules`, or `None` when no rule is indexed or the bundle uses `with`
    /// outside its tests.
    pub(crate) fn of(modules: &[Ref<Module>]) -> Option<RuleIndex> {
        let mut index = RuleIndex {
            sources: Vec::with_capacity(modules.len()),
            rules: Vec::new(),
            paths: Vec::new(),
        };
        for module in modules {
            if defines(module, "startswith") {
                return None;
            }
        }
        for (n, module) in modules.iter().enumerate() {
            let source = &module.package.span.source;
            index
                .sources
                .push((source.get_path().clone(), source.contents().clone()));
            if uses_with_outside(source, &test_rule_ranges(module)) {
                return None;
            }
            if path_of(&module.package.refr).as_deref() != Some("sentinel") {
                continue;
            }
            // A rule's span ends with its last token, which for a string is before the closing
            // quote: a rule is taken to run up to the next one (comments between go with it).
            let mut starts: Vec<usize> = module
                .policy
                .iter()
                .map(|r| r.span().start as usize)
                .collect();
            starts.sort_unstable();
            for rule in &module.policy {
                let guards = guards_of(rule, &mut index.paths);
                if guards.is_empty() {
                    continue;
                }
                let start = rule.span().start as usize;
                let end = starts
                    .iter()
                    .copied()
                    .find(|s| *s > start)
                    .unwrap_or(source.contents().len());
                index.rules.push(IndexedRule {
                    module: n,
                    start,
                    end,
                    guards,
                });
            }
        }
        (!index.rules.is_empty()).then_some(index)
    }

    /// How many rules are indexed.
    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }

    /// The indexed rules `input` can reach: those whose every guard holds.
    pub(crate) fn reach(&self, input: &Value) -> Reach {
        let values: Vec<&Value> = self.paths.iter().map(|p| lookup(input, p)).collect();
        let mut reach = vec![0u64; self.rules.len().div_ceil(64)].into_boxed_slice();
        for (n, rule) in self.rules.iter().enumerate() {
            if rule.guards.iter().all(|g| g.test.holds(values[g.path])) {
                reach[n / 64] |= 1 << (n % 64);
            }
        }
        reach
    }

    /// The modules with every indexed rule outside `reach` blanked out. Blanks keep line
    /// breaks, so lines and columns in errors stay those of the bundle.
    pub(crate) fn sources_for(&self, reach: &[u64]) -> Vec<(String, String)> {
        let mut sources = self.sources.clone();
        for (n, rule) in self.rules.iter().enumerate() {
            if reach[n / 64] & (1 << (n % 64)) != 0 {
                continue;
            }
            let text = &mut sources[rule.module].1;
            // Byte for byte, so the ranges of the rules after this one stay right.
            let blank: String = text[rule.start..rule.end]
                .chars()
                .flat_map(|c| {
                    let fill = if c == '\n' { '\n' } else { ' ' };
                    std::iter::repeat_n(fill, c.len_utf8())
                })
                .collect();
            text.replace_range(rule.start..rule.end, &blank);
        }
        sources
    }
}

impl Test {
    /// Whether the guard lets its rule's body go on (`Value::Undefined` for a missing value).
    fn holds(&self, value: &Value) -> bool {
        match self {
            Test::Equals(expected) => value == expected,
            Test::Truthy => !matches!(value, Value::Undefined | Value::Bool(false)),
            Test::StartsWith(prefix) => match value {
                Value::Undefined => false,
                Value::String(s) => s.starts_with(prefix.as_str()),
                // A run-time error in the rule, which must still happen.
                _ => true,
            },
        }
    }
}

static UNDEFINED: Value = Value::Undefined;

/// The value at `path` below `input`, `Undefined` when there is none.
fn lookup<'a>(input: &'a Value, path: &[Value]) -> &'a Value {
    let mut at = input;
    for key in path {
        match at.as_object().ok().and_then(|o| o.get(key)) {
            Some(v) => at = v,
            None => return &UNDEFINED,
        }
    }
    at
}

/// The guards a rule opens with; none when it is not an indexable rule.
fn guards_of(rule: &Rule, paths: &mut Vec<Vec<Value>>) -> Vec<Guard> {
    let Rule::Spec { head, bodies, .. } = rule else {
        return Vec::new();
    };
    let RuleHead::Set { refr, .. } = head else {
        return Vec::new();
    };
    let name = var_name(refr);
    if name.as_deref() != Some("deny") && name.as_deref() != Some("approval") {
        return Vec::new();
    }
    let [body] = bodies.as_slice() else {
        return Vec::new();
    };
    if body.is_else || body.assign.is_some() {
        return Vec::new();
    }
    let mut guards = Vec::new();
    for stmt in &body.query.stmts {
        let guard = match &stmt.literal {
            Literal::Expr { expr, .. } if stmt.with_mods.is_empty() => guard_of(expr),
            _ => None,
        };
        let Some((path, test)) = guard else {
            break;
        };
        let path = match paths.iter().position(|p| *p == path) {
            Some(n) => n,
            None => {
                paths.push(path);
                paths.len() - 1
            }
        };
        guards.push(Guard { path, test });
    }
    guards
}

/// The input path and test of a guard expression.
fn guard_of(expr: &Ref<Expr>) -> Option<(Vec<Value>, Test)> {
    if let Some(path) = input_path(expr) {
        return Some((path, Test::Truthy));
    }
    match expr.as_ref() {
        Expr::BoolExpr {
            op: BoolOp::Eq,
            lhs,
            rhs,
            ..
        } => match (input_path(lhs), input_path(rhs)) {
            (Some(path), None) => Some((path, Test::Equals(constant(rhs)?))),
            (None, Some(path)) => Some((path, Test::Equals(constant(lhs)?))),
            _ => None,
        },
        Expr::Call { fcn, params, .. } if path_of(fcn).as_deref() == Some("startswith") => {
            let [value, prefix] = params.as_slice() else {
                return None;
            };
            match constant(prefix)? {
                Value::String(p) => Some((input_path(value)?, Test::StartsWith(p.to_string()))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The keys below `input` of `input.a["b"].c`; `None` for anything else (`input` alone is not a
/// path: a guard on the whole input would not index anything).
fn input_path(expr: &Ref<Expr>) -> Option<Vec<Value>> {
    let mut keys = Vec::new();
    let mut at = expr;
    loop {
        match at.as_ref() {
            Expr::RefDot { refr, field, .. } => {
                keys.push(field.1.clone());
                at = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                match constant(index)? {
                    key @ Value::String(_) => keys.push(key),
                    _ => return None,
                }
                at = refr;
            }
            Expr::Var { .. } if var_name(at).as_deref() == Some("input") => break,
            _ => return None,
        }
    }
    keys.reverse();
    (!keys.is_empty()).then_some(keys)
}

/// A string, boolean or null written in the rule. Numbers are left out: `1 == 1.0` in Rego, and
/// the guard compares values exactly.
fn constant(expr: &Ref<Expr>) -> Option<Value> {
    match expr.as_ref() {
        Expr::String { value, .. } | Expr::RawString { value, .. } | Expr::Bool { value, .. } => {
            Some(value.clone())
        }
        Expr::Null { .. } => Some(Value::Null),
        _ => None,
    }
}

/// The name a rule (of any kind) defines: `p` of `p.q[k]` or `f(x)`.
fn rule_name(rule: &Rule) -> Option<String> {
    let refr = match rule {
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
        Rule::Default { refr, .. } => refr,
    };
    let mut at = refr;
    loop {
        match at.as_ref() {
            Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => at = refr,
            _ => return var_name(at),
        }
    }
}

/// Whether `name` in `module` could mean something other than the builtin: a rule of that name,
/// or an import that ends in it or is named so.
fn defines(module: &Module, name: &str) -> bool {
    let imported = module.imports.iter().any(|import| {
        let alias = import.r#as.as_ref().map(|span| span.text());
        let last = match import.refr.as_ref() {
            Expr::RefDot { field, .. } => field.1.as_string().ok().map(|s| s.to_string()),
            other => var_name(other),
        };
        alias == Some(name) || last.as_deref() == Some(name)
    });
    imported
        || module
            .policy
            .iter()
            .any(|rule| rule_name(rule).as_deref() == Some(name))
}

/// Byte ranges of a module's `test_*` rules, where `with` is how tests set their input.
fn test_rule_ranges(module: &Module) -> Vec<(usize, usize)> {
    module
        .policy
        .iter()
        .filter(|rule| rule_name(rule).is_some_and(|n| n.starts_with("test_")))
        .map(|rule| (rule.span().start as usize, rule.span().end as usize))
        .collect()
}

/// Whether the keyword `with` appears in `source` outside the given ranges. The lexer skips
/// comments and strings, so a message that says "with" does not count; when the source cannot
/// be read token by token, the answer is yes (no index).
fn uses_with_outside(source: &regorus::unstable::Source, allowed: &[(usize, usize)]) -> bool {
    let mut lexer = Lexer::new(source);
    let mut seen = HashSet::new();
    loop {
        let Ok(token) = lexer.next_token() else {
            return true;
        };
        match token.0 {
            TokenKind::Eof => return false,
            TokenKind::Ident if token.1.text() == "with" => {
                let at = token.1.start as usize;
                if !seen.insert(at) {
                    // The lexer stopped advancing: treat as unreadable.
                    return true;
                }
                if !allowed.iter().any(|(s, e)| (*s..*e).contains(&at)) {
                    return true;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(rego: &str) -> Option<RuleIndex> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("t.rego".into(), rego.into())
            .expect("parses");
        RuleIndex::of(engine.get_modules())
    }

    fn guards(index: &RuleIndex) -> Vec<Vec<(String, &Test)>> {
        index
            .rules
            .iter()
            .map(|r| {
                r.guards
                    .iter()
                    .map(|g| {
                        let path: Vec<String> = index.paths[g.path]
                            .iter()
                            .map(|k| k.as_string().unwrap().to_string())
                            .collect();
                        (path.join("."), &g.test)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_body_s_leading_guards_index_its_rule() {
        let index = index_of(
            r#"package sentinel
deny contains "a" if input.action.target.tool == "a"
deny contains msg if {
    input.action.arguments["name-space"] == "kube-system"
    "b" == input.action.target.tool
    input.session.tainted
    startswith(input.action.target.tool, `team.`)
    msg := "b"
    input.action.target.tool == "after a non-guard"
}
approval contains "c" if { input.action.target.tool == false; input.x == null }
deny contains "not equal" if input.action.target.tool != "d"
deny contains "negated" if { not input.action.target.tool == "e" }
deny contains "number" if input.action.arguments.n == 1
deny contains "variable" if { x := "f"; input.action.target.tool == x }
deny contains "whole input" if input
allow if input.action.target.tool == "g"
"#,
        )
        .expect("an index");
        let s = |v: &str| Test::Equals(Value::from(v));
        assert_eq!(
            guards(&index),
            [
                vec![("action.target.tool".to_string(), &s("a"))],
                vec![
                    ("action.arguments.name-space".into(), &s("kube-system")),
                    ("action.target.tool".into(), &s("b")),
                    ("session.tainted".into(), &Test::Truthy),
                    (
                        "action.target.tool".into(),
                        &Test::StartsWith("team.".into())
                    ),
                ],
                vec![
                    (
                        "action.target.tool".into(),
                        &Test::Equals(Value::Bool(false))
                    ),
                    ("x".into(), &Test::Equals(Value::Null)),
                ],
            ]
        );
    }

    #[test]
    fn guards_hold_as_rego_evaluates_them() {
        let yes = |t: Test, v: serde_json::Value| t.holds(&Value::from(v));
        assert!(yes(Test::Truthy, serde_json::json!(true)));
        assert!(yes(Test::Truthy, serde_json::json!(0)));
        assert!(yes(Test::Truthy, serde_json::json!(null)));
        assert!(!yes(Test::Truthy, serde_json::json!(false)));
        assert!(!Test::Truthy.holds(&Value::Undefined));
        assert!(yes(Test::StartsWith("a.".into()), serde_json::json!("a.b")));
        assert!(!yes(
            Test::StartsWith("a.".into()),
            serde_json::json!("b.a")
        ));
        // Not a string: startswith raises an error, which the rule must still raise.
        assert!(yes(Test::StartsWith("a.".into()), serde_json::json!(5)));
        assert!(!Test::StartsWith("a.".into()).holds(&Value::Undefined));
        assert!(!yes(Test::Equals(Value::from("1")), serde_json::json!(1)));
    }

    #[test]
    fn with_outside_tests_or_a_startswith_rule_means_no_index() {
        let keyed = "package sentinel\ndeny contains \"a\" if input.action.target.tool == \"a\"\n";
        assert!(index_of(&format!("{keyed}p if {{ deny with input as {{}} }}\n")).is_none());
        assert!(index_of(&format!("{keyed}test_a if {{ deny with input as {{}} }}\n")).is_some());
        let message =
            format!("{keyed}deny contains \"deal with it\" if input.x # with a comment\n");
        assert!(index_of(&message).is_some());
        assert!(index_of(&format!("{keyed}startswith(a, b) := true\n")).is_none());
        let imported = keyed.replace(
            "package sentinel\n",
            "package sentinel\nimport data.lib.startswith\n",
        );
        assert!(index_of(&imported).is_none());
    }

    #[test]
    fn rules_of_other_packages_are_not_indexed() {
        assert!(index_of(
            "package other\ndeny contains \"a\" if input.action.target.tool == \"a\"\n"
        )
        .is_none());
    }

    #[test]
    fn blanking_keeps_every_other_byte_and_every_line() {
        let rego = "package sentinel\ndeny contains \"ä\" if {\n  input.action.target.tool == \"a\"\n}\ndeny contains \"b\" if input.action.target.tool == \"b\"\n";
        let index = index_of(rego).unwrap();
        let input =
            |tool: &str| Value::from(serde_json::json!({"action": {"target": {"tool": tool}}}));
        let for_b = &index.sources_for(&index.reach(&input("b")))[0].1;
        assert_eq!(for_b.len(), rego.len());
        assert_eq!(for_b.lines().count(), rego.lines().count());
        assert!(!for_b.contains("\"ä\"") && for_b.contains("\"b\""));
        let for_other = &index.sources_for(&index.reach(&input("c")))[0].1;
        assert_eq!(for_other.trim(), "package sentinel");
    }
}
