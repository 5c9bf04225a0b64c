//! Which bundles the bytecode VM may decide: a static proof that no rule can produce
//! conflicting values.
//!
//! OPA (and regorus's interpreter) report a complete rule or function that yields two different
//! values as an error, and an error denies. regorus's VM resolves the same conflict silently, so
//! on a conflicting bundle it could allow what the interpreter denies. This module looks at the
//! syntax tree and accepts a bundle for the VM only when a conflict is impossible:
//!
//! - partial set rules (`deny contains msg if …`) never conflict: their values are unioned;
//! - a rule whose every definition yields the same constant (`allow if …` written five times,
//!   `known(x) if …`) cannot disagree with itself, however often its bodies succeed;
//! - any other complete rule, partial object rule or function must have one definition (an
//!   `else` chain counts as one: its branches are exclusive), and no body whose value is not a
//!   constant may iterate (`some`, `x[_]`, an unbound index, `walk`), since iteration is how one
//!   body yields several values.
//!
//! The check is conservative: a bundle it refuses may well be conflict-free, and simply runs on
//! the interpreter (the caller says why). It never accepts a bundle that can conflict.

use std::collections::{HashMap, HashSet};

use regorus::unstable::{AssignOp, Expr, Literal, Module, Query, Rule, RuleBody, RuleHead};

/// Why a rule may produce conflicting values, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub rule: String,
    pub file: String,
    pub line: u32,
    pub why: &'static str,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}:{}) {}",
            self.rule, self.file, self.line, self.why
        )
    }
}

/// One definition of a rule: its bodies as an `else` chain, with the value each yields.
struct Definition<'m> {
    file: String,
    line: u32,
    branches: Vec<Branch<'m>>,
}

struct Branch<'m> {
    /// `None` for a rule written without a body (`p := v`).
    query: Option<&'m Query>,
    /// `None` is the implicit `true` of a rule written without a value.
    value: Option<&'m Expr>,
    /// The index of a partial object rule (`p[k] := v`), which varies with the body like a value.
    key: Option<&'m Expr>,
    /// Variables bound before the body runs: a function's arguments.
    params: Vec<String>,
    /// Names bound in the body's module: its package's rules and its imports.
    seed: std::rc::Rc<HashSet<String>>,
}

/// The first rule, in module order, that could produce conflicting values; `None` when the
/// bundle provably cannot.
pub fn first_conflict(modules: &[impl std::ops::Deref<Target = Module>]) -> Option<Conflict> {
    let mut rules: Vec<(String, Vec<Definition>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // The names a body may use as already-bound values: the rules of its package (of any
    // kind, from every module) and its module's imports.
    let mut package_rules: HashMap<String, HashSet<String>> = HashMap::new();
    for module in modules {
        let package = path_of(&module.package.refr).unwrap_or_default();
        let names = package_rules.entry(package).or_default();
        for rule in &module.policy {
            let refr = match rule.as_ref() {
                Rule::Default { refr, .. } => refr,
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. }
                    | RuleHead::Set { refr, .. }
                    | RuleHead::Func { refr, .. } => refr,
                },
            };
            names.insert(root_name(refr));
        }
    }
    for module in modules {
        let package = path_of(&module.package.refr).unwrap_or_default();
        let mut seed = package_rules.get(&package).cloned().unwrap_or_default();
        for import in &module.imports {
            seed.insert(match &import.r#as {
                Some(alias) => alias.text().to_string(),
                None => path_of(&import.refr)
                    .and_then(|p| p.rsplit('.').next().map(String::from))
                    .unwrap_or_default(),
            });
        }
        let seed = std::rc::Rc::new(seed);
        for rule in &module.policy {
            let Rule::Spec { span, head, bodies } = rule.as_ref() else {
                continue; // `default` values never conflict with the rule they default.
            };
            let (refr, assign, key, params) = match head {
                RuleHead::Set { .. } => continue,
                RuleHead::Compr { refr, assign, .. } => match refr.as_ref() {
                    Expr::RefBrack {
                        refr: base, index, ..
                    } if literal_key(index).is_none() => {
                        (base, assign.as_ref(), Some(index.as_ref()), Vec::new())
                    }
                    _ => (refr, assign.as_ref(), None, Vec::new()),
                },
                RuleHead::Func {
                    refr, args, assign, ..
                } => (
                    refr,
                    assign.as_ref(),
                    None,
                    args.iter().filter_map(|a| var_name(a)).collect(),
                ),
            };
            let Some(path) = path_of(refr) else {
                return Some(conflict(
                    refr_text(span),
                    span,
                    "has a rule head the check cannot read",
                ));
            };
            let name = format!("{package}.{path}");
            let head_value = assign.map(|a| a.value.as_ref());
            let definition = || Definition {
                file: span.source.get_path().to_string(),
                line: span.line,
                branches: Vec::new(),
            };
            let mut definitions = Vec::new();
            for body in bodies {
                if !body.is_else || definitions.is_empty() {
                    definitions.push(definition());
                }
                let value = branch_value(body, head_value);
                definitions
                    .last_mut()
                    .expect("pushed")
                    .branches
                    .push(Branch {
                        query: Some(body.query.as_ref()),
                        value,
                        key,
                        params: params.clone(),
                        seed: seed.clone(),
                    });
            }
            if bodies.is_empty() {
                // `p := v` or `p = v`: one branch that always succeeds, yielding the head's value.
                let mut only = definition();
                only.branches.push(Branch {
                    query: None,
                    value: head_value,
                    key,
                    params,
                    seed: seed.clone(),
                });
                definitions.push(only);
            }
            let slot = *index.entry(name.clone()).or_insert_with(|| {
                rules.push((name, Vec::new()));
                rules.len() - 1
            });
            rules[slot].1.extend(definitions);
        }
    }
    rules
        .iter()
        .find_map(|(name, definitions)| check_rule(name, definitions))
}

/// The value a body yields: its own `else := v`, else the head's.
fn branch_value<'m>(body: &'m RuleBody, head: Option<&'m Expr>) -> Option<&'m Expr> {
    body.assign.as_ref().map(|a| a.value.as_ref()).or(head)
}

fn check_rule(name: &str, definitions: &[Definition]) -> Option<Conflict> {
    let first = definitions.first()?;
    let located = |why| Conflict {
        rule: format!("data.{name}"),
        file: first.file.clone(),
        line: first.line,
        why,
    };
    let branches = || definitions.iter().flat_map(|d| &d.branches);
    let constants: Option<Vec<String>> = branches()
        .map(|b| match (b.value, b.key) {
            (_, Some(_)) => None,
            (None, None) => Some("true".to_string()),
            (Some(v), None) => constant(v),
        })
        .collect();
    if let Some(values) = &constants {
        if values.windows(2).all(|w| w[0] == w[1]) {
            return None; // Every body yields the same constant: nothing to disagree.
        }
    }
    if definitions.len() > 1 {
        return Some(located(
            "is defined more than once with values that may differ (an else chain would make the branches exclusive)",
        ));
    }
    for branch in branches() {
        let yields_constant =
            branch.key.is_none() && branch.value.is_none_or(|v| constant(v).is_some());
        if yields_constant {
            continue; // However often this body succeeds, it yields one value.
        }
        let mut bound: HashSet<String> = (*branch.seed).clone();
        bound.extend(branch.params.iter().cloned());
        if branch.query.is_some_and(|q| query_iterates(q, &mut bound))
            || branch.value.is_some_and(|v| iterates(v, &bound))
            || branch.key.is_some_and(|k| iterates(k, &bound))
        {
            return Some(located(
                "iterates in a body whose value varies, so one evaluation may yield several values",
            ));
        }
    }
    None
}

/// Whether a rule body can succeed more than once, binding its variables as it goes.
fn query_iterates(query: &Query, bound: &mut HashSet<String>) -> bool {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } | Literal::SomeIn { .. } => return true,
            // Negation and `every` succeed at most once and bind nothing outside.
            Literal::NotExpr { .. } | Literal::Every { .. } => {}
            Literal::Expr { expr, .. } => {
                if iterates(expr, bound) {
                    return true;
                }
                if let Expr::AssignExpr { op, lhs, .. } = expr.as_ref() {
                    if matches!(op, AssignOp::ColEq | AssignOp::Eq) {
                        if let Some(v) = var_name(lhs) {
                            bound.insert(v);
                        }
                    }
                }
            }
        }
    }
    false
}

/// Whether evaluating `expr` can enumerate: an index that is `_` or a variable not yet bound,
/// a membership test over an unbound variable, or `walk`. Comprehensions are not entered: they
/// yield one collection however much they iterate inside.
fn iterates(expr: &Expr, bound: &HashSet<String>) -> bool {
    let unbound = |e: &Expr| var_name(e).is_some_and(|v| v == "_" || !bound.contains(&v));
    match expr {
        Expr::RefBrack { refr, index, .. } => {
            unbound(index) || iterates(refr, bound) || iterates(index, bound)
        }
        Expr::RefDot { refr, .. } => iterates(refr, bound),
        Expr::Call { fcn, params, .. } => {
            path_of(fcn).is_some_and(|f| f == "walk") || params.iter().any(|p| iterates(p, bound))
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().any(|i| iterates(i, bound))
        }
        Expr::Object { fields, .. } => fields
            .iter()
            .any(|(_, k, v)| iterates(k, bound) || iterates(v, bound)),
        Expr::UnaryExpr { expr, .. } => iterates(expr, bound),
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. } => iterates(lhs, bound) || iterates(rhs, bound),
        Expr::AssignExpr { lhs, rhs, .. } => {
            // `x := …` binds x; anything else on the left (a pattern) is treated as a lookup.
            (var_name(lhs).is_none() && iterates(lhs, bound)) || iterates(rhs, bound)
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            key.as_ref()
                .is_some_and(|k| unbound(k) || iterates(k, bound))
                || unbound(value)
                || iterates(value, bound)
                || iterates(collection, bound)
        }
        _ => false,
    }
}

/// A canonical text for a value that is the same on every evaluation, or `None`.
fn constant(expr: &Expr) -> Option<String> {
    match expr {
        Expr::String { value, .. }
        | Expr::RawString { value, .. }
        | Expr::Number { value, .. }
        | Expr::Bool { value, .. }
        | Expr::Null { value, .. } => Some(value.to_string()),
        Expr::Array { items, .. } => {
            let parts: Vec<String> = items.iter().map(|i| constant(i)).collect::<Option<_>>()?;
            Some(format!("[{}]", parts.join(",")))
        }
        Expr::Set { items, .. } => {
            let mut parts: Vec<String> =
                items.iter().map(|i| constant(i)).collect::<Option<_>>()?;
            parts.sort();
            parts.dedup();
            Some(format!("{{{}}}", parts.join(",")))
        }
        Expr::Object { fields, .. } => {
            let mut parts: Vec<String> = fields
                .iter()
                .map(|(_, k, v)| Some(format!("{}:{}", constant(k)?, constant(v)?)))
                .collect::<Option<_>>()?;
            parts.sort();
            Some(format!("{{{}}}", parts.join(",")))
        }
        _ => None,
    }
}

fn literal_key(index: &Expr) -> Option<String> {
    match index {
        Expr::String { value, .. } | Expr::RawString { value, .. } => {
            value.as_string().ok().map(|s| s.to_string())
        }
        _ => None,
    }
}

pub(crate) fn var_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Var { value, .. } => value.as_string().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// `a.b["c"]` as `a.b.c`; `None` for anything that is not a plain path.
pub(crate) fn path_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Var { .. } => var_name(expr),
        Expr::RefDot { refr, field, .. } => {
            Some(format!("{}.{}", path_of(refr)?, field.1.as_string().ok()?))
        }
        Expr::RefBrack { refr, index, .. } => {
            Some(format!("{}.{}", path_of(refr)?, literal_key(index)?))
        }
        _ => None,
    }
}

/// The first name of a rule head: `p` of `p.q[k]` or `f(x)`.
pub(crate) fn root_name(refr: &Expr) -> String {
    match refr {
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => root_name(refr),
        other => var_name(other).unwrap_or_default(),
    }
}

fn refr_text(span: &regorus::unstable::Span) -> String {
    span.text().lines().next().unwrap_or_default().to_string()
}

fn conflict(rule: String, span: &regorus::unstable::Span, why: &'static str) -> Conflict {
    Conflict {
        rule,
        file: span.source.get_path().to_string(),
        line: span.line,
        why,
    }
}
