//! Rule indexing: a `deny` or `approval` rule whose body opens with guards — conditions on the
//! input alone, such as `input.action.target.tool == "x"`, `input.session.tainted` or
//! `regex.match("…", input.action.arguments.command)` — is left out of the program that decides
//! an input those guards already rule out.
//!
//! Most of a large policy is rules about one tool, one namespace or one kind of argument, and
//! without an index every decision runs every one of them, though all but a few fail at their
//! first condition. OPA indexes such rules; regorus does not, so the same effect comes from
//! checking the guards in Rust before the VM runs, and running the program compiled for exactly
//! the rules whose guards hold (one program per such set, compiled on first use).
//!
//! A rule is indexed when it is a `deny contains …` or `approval contains …` rule of package
//! `sentinel` with one body (no `else`) whose first conditions (one or more, before anything
//! else in the body, without `with`) are guards:
//! - `input.<path> == <string, boolean or null>` (either way round), or `!=`;
//! - a term as a condition: `input.<path>`, or a call of a pure string builtin ([`PURE`]) on
//!   input paths, constants and such calls (`contains(lower(input.…), "drop table")`).
//!
//! Guards are evaluated as the VM would: an undefined argument makes a call undefined, a
//! condition fails on undefined or `false`, and the builtins are the very functions the VM calls
//! ([`crate::vm_guard::builtin`]); a constant pattern is compiled once, with the index, and a
//! call several guards make alike is made once per input. A guard that raises an error keeps
//! its rule, so the VM raises the error itself. Since guards open the body, a rule left out
//! would have stopped at one of them with nothing after it evaluated: the decision is exactly
//! the one without the index, errors included. The library module's own rules are never left out: they keep both rules
//! defined, however many of the bundle's an input cannot reach.
//!
//! A bundle that uses `with` outside its `test_*` rules gets no index (`with` can evaluate a
//! rule under another input); a call whose name a module defines or imports (shadowing the
//! builtin) is not a guard.

use std::collections::{HashMap, HashSet};

use regorus::unstable::{
    BoolOp, Expr, Lexer, Literal, Module, Ref, Rule, RuleHead, Span, TokenKind,
};
use regorus::Value;

use crate::conflicts::{path_of, root_name, var_name};
use crate::fast_builtins::Prepared;
use crate::vm_guard::Builtin;
use crate::{LIBRARY, LIBRARY_FILE};

/// The builtins a guard may call: pure functions of their arguments, cheap on short strings.
const PURE: [&str; 7] = [
    "regex.match",
    "glob.match",
    "startswith",
    "endswith",
    "contains",
    "lower",
    "upper",
];

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
    /// The distinct calls the guards make: ten rules on `lower(input.….query)` lower it once.
    calls: Vec<Call>,
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

/// A condition on the input alone, evaluated before the VM runs.
#[derive(Debug)]
enum Guard {
    /// `input.<path> == c`: holds when the value is `c`.
    Equals(usize, Value),
    /// `input.<path> != c`: holds when the value is defined and is not `c`.
    NotEquals(usize, Value),
    /// A term as a condition: holds unless it is undefined or `false`, or raises an error.
    Holds(Term),
}

#[derive(Debug)]
enum Term {
    /// Index into the index's `paths`.
    Path(usize),
    Const(Value),
    /// Index into the index's `calls`.
    Call(usize),
}

#[derive(Debug)]
struct Call {
    builtin: Builtin,
    args: Vec<Term>,
    /// The call compiled once, when its pattern is a constant (`regex.match`, `glob.match`).
    prepared: Option<Prepared>,
    /// Where the call is first written, and its argument expressions, for the builtin's
    /// messages (which a guard never shows: an error keeps the rule, for the VM to raise).
    span: Span,
    params: Vec<Ref<Expr>>,
}

/// What guards read while one input's reach is worked out: the paths' values, and each call's
/// value once it is made.
struct Evaluation<'a> {
    paths: Vec<&'a Value>,
    calls: Vec<Option<Result<Value, ()>>>,
}

impl RuleIndex {
    /// The index of `modules`, or `None` when no rule is indexed or the bundle uses `with`
    /// outside its tests.
    pub(crate) fn of(modules: &[Ref<Module>]) -> Option<RuleIndex> {
        let mut index = RuleIndex {
            sources: Vec::with_capacity(modules.len()),
            rules: Vec::new(),
            paths: Vec::new(),
            calls: Vec::new(),
        };
        let mut call_keys = HashMap::new();
        let shadowed: HashSet<String> = modules.iter().flat_map(|m| defined_names(m)).collect();
        for (n, module) in modules.iter().enumerate() {
            let source = &module.package.span.source;
            index
                .sources
                .push((source.get_path().clone(), source.contents().clone()));
            if uses_with_outside(source, &test_rule_ranges(module)) {
                return None;
            }
            // The library's own rules stay in every program: they keep `deny` and `approval`
            // defined however many of the bundle's rules an input leaves out.
            let library = source.get_path() == LIBRARY_FILE && *source.contents() == LIBRARY;
            if library || path_of(&module.package.refr).as_deref() != Some("sentinel") {
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
                let mut reader = Reader {
                    shadowed: &shadowed,
                    paths: &mut index.paths,
                    calls: &mut index.calls,
                    call_keys: &mut call_keys,
                };
                let guards = reader.guards_of(rule);
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
        let mut evaluation = Evaluation {
            paths: self.paths.iter().map(|p| lookup(input, p)).collect(),
            calls: vec![None; self.calls.len()],
        };
        let mut reach = vec![0u64; self.rules.len().div_ceil(64)].into_boxed_slice();
        for (n, rule) in self.rules.iter().enumerate() {
            // In order, as the VM runs them: the first guard that fails leaves the rule out,
            // unless an earlier one raised an error (then the VM stops there, with the error).
            let reached = rule
                .guards
                .iter()
                .map(|g| g.check(&self.calls, &mut evaluation))
                .find(|c| *c != Check::Holds)
                .is_none_or(|c| c == Check::Raises);
            if reached {
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

/// What a guard does to its rule's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The body goes on.
    Holds,
    /// The body fails here.
    Fails,
    /// The body stops here with an error: the rule stays, for the VM to raise it.
    Raises,
}

impl Guard {
    /// The guard's effect on `evaluation`'s input (whose missing paths are
    /// `Value::Undefined`).
    fn check(&self, calls: &[Call], evaluation: &mut Evaluation) -> Check {
        let values = &evaluation.paths;
        let holds = match self {
            Guard::Equals(path, expected) => values[*path] == expected,
            Guard::NotEquals(path, other) => {
                !matches!(values[*path], Value::Undefined) && values[*path] != other
            }
            Guard::Holds(term) => match term.value(calls, evaluation) {
                Ok(Value::Undefined | Value::Bool(false)) => false,
                Ok(_) => true,
                Err(()) => return Check::Raises,
            },
        };
        if holds {
            Check::Holds
        } else {
            Check::Fails
        }
    }
}

impl Term {
    fn value(&self, calls: &[Call], evaluation: &mut Evaluation) -> Result<Value, ()> {
        match self {
            Term::Path(path) => Ok(evaluation.paths[*path].clone()),
            Term::Const(v) => Ok(v.clone()),
            Term::Call(n) => {
                if let Some(made) = &evaluation.calls[*n] {
                    return made.clone();
                }
                let made = calls[*n].make(calls, evaluation);
                evaluation.calls[*n] = Some(made.clone());
                made
            }
        }
    }
}

impl Call {
    fn make(&self, calls: &[Call], evaluation: &mut Evaluation) -> Result<Value, ()> {
        let mut args = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            match arg.value(calls, evaluation)? {
                // An undefined argument: the call is undefined, and not made.
                Value::Undefined => return Ok(Value::Undefined),
                v => args.push(v),
            }
        }
        if let (Some(prepared), Some(subject)) = (&self.prepared, args.last()) {
            if let Some(matched) = prepared.matches(subject) {
                return Ok(matched);
            }
        }
        (self.builtin)(&self.span, &self.params, &args, true).map_err(|_| ())
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

/// Reads guards out of rules, collecting the input paths they read and the calls they make.
struct Reader<'a> {
    shadowed: &'a HashSet<String>,
    paths: &'a mut Vec<Vec<Value>>,
    calls: &'a mut Vec<Call>,
    /// Each call's place in `calls`, by what it calls on what.
    call_keys: &'a mut HashMap<String, usize>,
}

impl Reader<'_> {
    /// The guards a rule opens with; none when it is not an indexable rule.
    fn guards_of(&mut self, rule: &Rule) -> Vec<Guard> {
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
                Literal::Expr { expr, .. } if stmt.with_mods.is_empty() => self.guard(expr),
                _ => None,
            };
            match guard {
                Some(guard) => guards.push(guard),
                None => break,
            }
        }
        guards
    }

    fn guard(&mut self, expr: &Ref<Expr>) -> Option<Guard> {
        if let Expr::BoolExpr { op, lhs, rhs, .. } = expr.as_ref() {
            let (path, constant) = match (input_path(lhs), input_path(rhs)) {
                (Some(path), None) => (path, scalar(rhs)?),
                (None, Some(path)) => (path, scalar(lhs)?),
                _ => return None,
            };
            let path = self.path(path);
            return match op {
                BoolOp::Eq => Some(Guard::Equals(path, constant)),
                BoolOp::Ne => Some(Guard::NotEquals(path, constant)),
                _ => None,
            };
        }
        self.term(expr).map(Guard::Holds)
    }

    fn term(&mut self, expr: &Ref<Expr>) -> Option<Term> {
        if let Some(path) = input_path(expr) {
            return Some(Term::Path(self.path(path)));
        }
        if let Some(value) = constant(expr) {
            return Some(Term::Const(value));
        }
        let Expr::Call {
            span, fcn, params, ..
        } = expr.as_ref()
        else {
            return None;
        };
        let name = path_of(fcn)?;
        let root = name.split('.').next().unwrap_or_default();
        if !PURE.contains(&name.as_str()) || self.shadowed.contains(root) {
            return None;
        }
        let args = params
            .iter()
            .map(|p| self.term(p))
            .collect::<Option<Vec<Term>>>()?;
        let key = format!(
            "{name}({})",
            args.iter().map(Term::key).collect::<Vec<_>>().join(",")
        );
        if let Some(&n) = self.call_keys.get(&key) {
            return Some(Term::Call(n));
        }
        let prepared = match args.split_last() {
            Some((_, constants)) => constants
                .iter()
                .map(|a| match a {
                    Term::Const(v) => Some(v),
                    _ => None,
                })
                .collect::<Option<Vec<&Value>>>()
                .and_then(|constants| Prepared::of(&name, &constants)),
            None => None,
        };
        self.calls.push(Call {
            builtin: crate::vm_guard::builtin(&name)?,
            args,
            prepared,
            span: span.clone(),
            params: params.clone(),
        });
        self.call_keys.insert(key, self.calls.len() - 1);
        Some(Term::Call(self.calls.len() - 1))
    }

    fn path(&mut self, path: Vec<Value>) -> usize {
        match self.paths.iter().position(|p| *p == path) {
            Some(n) => n,
            None => {
                self.paths.push(path);
                self.paths.len() - 1
            }
        }
    }
}

impl Term {
    /// What the term is, as text: equal for equal terms of one index.
    fn key(&self) -> String {
        match self {
            Term::Path(n) => format!("input#{n}"),
            Term::Const(v) => v.to_json_str().unwrap_or_else(|_| format!("{v:?}")),
            Term::Call(n) => format!("call#{n}"),
        }
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
                match scalar(index)? {
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

/// A string, boolean or null written in the rule: what an equality guard compares with.
/// Numbers are left out: `1 == 1.0` in Rego, and the guard compares values exactly.
fn scalar(expr: &Ref<Expr>) -> Option<Value> {
    match expr.as_ref() {
        Expr::String { value, .. } | Expr::RawString { value, .. } | Expr::Bool { value, .. } => {
            Some(value.clone())
        }
        Expr::Null { .. } => Some(Value::Null),
        _ => None,
    }
}

/// A constant argument of a call: a scalar, a number, or an array of constants
/// (`glob.match`'s delimiters).
fn constant(expr: &Ref<Expr>) -> Option<Value> {
    match expr.as_ref() {
        Expr::Number { value, .. } => Some(value.clone()),
        Expr::Array { items, .. } => Some(Value::from(
            items.iter().map(constant).collect::<Option<Vec<Value>>>()?,
        )),
        _ => scalar(expr),
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
    Some(root_name(refr)).filter(|name| !name.is_empty())
}

/// The names a module defines (the first name of each rule) or imports (the alias, or the
/// last name of the path): a call of one of them may not be the builtin.
fn defined_names(module: &Module) -> Vec<String> {
    let imported = module
        .imports
        .iter()
        .filter_map(|import| match &import.r#as {
            Some(alias) => Some(alias.text().to_string()),
            None => match import.refr.as_ref() {
                Expr::RefDot { field, .. } => field.1.as_string().ok().map(|s| s.to_string()),
                other => var_name(other),
            },
        });
    let rules = module.policy.iter().filter_map(|rule| rule_name(rule));
    imported.chain(rules).collect()
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

    /// Which indexed rules (in order) `input` reaches.
    fn reached(index: &RuleIndex, input: serde_json::Value) -> Vec<bool> {
        let reach = index.reach(&Value::from(input));
        (0..index.len())
            .map(|n| reach[n / 64] & (1 << (n % 64)) != 0)
            .collect()
    }

    #[test]
    fn only_a_body_s_leading_guards_index_its_rule() {
        let index = index_of(
            r#"package sentinel
deny contains "a" if input.action.target.tool == "a"
deny contains msg if {
    input.action.arguments["name-space"] == "kube-system"
    "b" == input.action.target.tool
    msg := "b"
    input.action.target.tool == "after a non-guard"
}
approval contains "c" if { input.action.target.tool != false; input.x == null }
deny contains "negated" if { not input.action.target.tool == "e" }
deny contains "number" if input.action.arguments.n == 1
deny contains "variable" if { x := "f"; input.action.target.tool == x }
deny contains "whole input" if input
deny contains "not pure" if { time.now_ns() > 0 }
allow if input.action.target.tool == "g"
"#,
        )
        .expect("an index");
        assert_eq!(index.len(), 3);
        let input = |tool: serde_json::Value, ns: &str, x: serde_json::Value| serde_json::json!({"action": {"target": {"tool": tool}, "arguments": {"name-space": ns}}, "x": x});
        use serde_json::json;
        assert_eq!(
            reached(&index, input(json!("a"), "", json!(1))),
            [true, false, false]
        );
        // The guard after `msg := "b"` does not count: "b" in kube-system reaches the rule.
        assert_eq!(
            reached(&index, input(json!("b"), "kube-system", json!(null))),
            [false, true, true]
        );
        assert_eq!(
            reached(&index, input(json!(false), "kube-system", json!(null))),
            [false, false, false]
        );
    }

    #[test]
    fn guards_hold_as_rego_evaluates_them() {
        use serde_json::json;
        let index = index_of(
            r#"package sentinel
deny contains "truthy" if input.v
deny contains "prefix" if startswith(input.v, "a.")
deny contains "regex" if regex.match(`^rm\s`, input.v)
deny contains "lowered" if contains(lower(input.v), "drop table")
deny contains "glob" if { glob.match("prod-*", ["-"], input.v); input.env != "prod" }
deny contains "error first" if { startswith(input.v, "x"); input.missing == "y" }
"#,
        )
        .expect("an index");
        let at = |v: serde_json::Value| reached(&index, json!({"v": v, "env": "dev"}));
        // Not a string: each call raises an error, so every rule stays for the VM to raise it.
        // A failing guard after one that raised does not leave the rule out: the VM stops at
        // the error first.
        assert_eq!(at(json!(true)), [true; 6]);
        assert_eq!(at(json!(0)), [true; 6]);
        assert_eq!(at(json!(false)), [false, true, true, true, true, true]);
        assert_eq!(at(json!("a.b")), [true, true, false, false, false, false]);
        assert_eq!(
            at(json!("rm -rf /")),
            [true, false, true, false, false, false]
        );
        assert_eq!(
            at(json!("DROP TABLE x")),
            [true, false, false, true, false, false]
        );
        assert_eq!(
            at(json!("prod-eu")),
            [true, false, false, false, true, false]
        );
        assert_eq!(at(json!("xyz")), [true, false, false, false, false, false]);
        assert_eq!(
            reached(&index, json!({"v": "prod-eu", "env": "prod"})),
            [true, false, false, false, false, false]
        );
        // Undefined: every call is undefined, and no rule is reached.
        assert_eq!(reached(&index, json!({})), [false; 6]);
    }

    #[test]
    fn a_call_is_made_once_and_a_constant_pattern_compiled_once() {
        use serde_json::json;
        let index = index_of(
            r#"package sentinel
deny contains "a" if contains(lower(input.q), "drop")
deny contains "b" if contains(lower(input.q), "truncate")
deny contains "c" if regex.match(`^rm`, input.c)
deny contains "d" if regex.match(input.p, input.c)
deny contains "e" if glob.match("prod-*", ["-"], input.c)
deny contains "f" if regex.match(`(`, input.c)
"#,
        )
        .expect("an index");
        // lower(input.q) once, two contains, three regex.match and a glob.match.
        assert_eq!(index.calls.len(), 7);
        // `^rm` and the glob; not a pattern from the input, nor one that does not compile.
        let prepared = index.calls.iter().filter(|c| c.prepared.is_some()).count();
        assert_eq!(prepared, 2);
        assert_eq!(
            reached(&index, json!({"q": "DROP TABLE", "c": "rm -rf"})),
            [true, false, true, false, false, true]
        );
        assert_eq!(
            reached(&index, json!({"q": "truncate", "c": "prod-eu", "p": "eu$"})),
            [false, true, false, true, true, true]
        );
    }

    #[test]
    fn with_outside_tests_means_no_index_and_a_shadowed_builtin_is_no_guard() {
        let keyed = "package sentinel\ndeny contains \"a\" if input.action.target.tool == \"a\"\n";
        assert!(index_of(&format!("{keyed}p if {{ deny with input as {{}} }}\n")).is_none());
        assert!(index_of(&format!("{keyed}test_a if {{ deny with input as {{}} }}\n")).is_some());
        let message =
            format!("{keyed}deny contains \"deal with it\" if input.x # with a comment\n");
        assert!(index_of(&message).is_some());
        let guarded = "deny contains \"p\" if startswith(input.x, \"p\")\n";
        assert_eq!(index_of(&format!("{keyed}{guarded}")).unwrap().len(), 2);
        let shadowed = format!("{keyed}{guarded}startswith(a, b) := true\n");
        assert_eq!(index_of(&shadowed).unwrap().len(), 1);
        let imported = format!("{keyed}{guarded}").replace(
            "package sentinel\n",
            "package sentinel\nimport data.lib.startswith\n",
        );
        assert_eq!(index_of(&imported).unwrap().len(), 1);
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
