//! Makes the bytecode VM fail closed where the interpreter does.
//!
//! regorus's VM treats an error inside a rule body as the body failing: the rule is simply not
//! defined. For a `deny` rule that is a silent allow — an agent that sends `replicas: "20"` to a
//! rule doing `input.action.arguments.replicas + 0 > 10`, or a number where the rule lowers a
//! string, would slip past it. The interpreter (strict builtin errors, as OPA's
//! `--strict-builtin-errors`) reports the error, and an error denies. So before a program runs:
//!
//! - every builtin it calls is replaced by a guard that runs regorus's builtin (in strict mode)
//!   and, when it fails, notes the error for this thread. [`take_failure`] after the run turns a
//!   noted error into an evaluation error, whatever the VM made of it;
//! - arithmetic instructions (`+ - * / %`), whose errors the VM raises itself, become guarded
//!   calls of regorus's own arithmetic, with the interpreter's set difference for `-`.
//!
//! The VM runs in non-strict mode, where comparing values of different types follows Rego's
//! total order (as the interpreter does) instead of being an error the VM would swallow. A test
//! holds the two engines to the same verdicts on type-confused inputs.

use std::cell::RefCell;
use std::sync::LazyLock;

use anyhow::Result;
use regorus::rvm::instructions::BuiltinCallParams;
use regorus::rvm::program::BuiltinInfo;
use regorus::rvm::{Instruction, Program};
use regorus::unstable::numbers::arithmetic_operation;
use regorus::unstable::{ArithOp, BuiltinFcn, Expr, Ref, Span, BUILTINS};
use regorus::Value;

pub(crate) type Builtin = fn(&Span, &[Ref<Expr>], &[Value], bool) -> Result<Value>;

thread_local! {
    /// The first builtin error of the run on this thread.
    static FAILURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Every function a program may call by name: regorus's builtins (with the pattern matchers
/// that keep their caches) and the arithmetic stand-ins, sorted by name. A builtin's position
/// here is the index of its guard in [`GUARDS`].
static TABLE: LazyLock<Vec<(&'static str, Builtin)>> = LazyLock::new(|| {
    let mut table: Vec<(&'static str, Builtin)> = BUILTINS
        .iter()
        .map(|(name, (f, _))| {
            let f: Builtin = match *name {
                "regex.match" => crate::fast_builtins::regex_match,
                "regex.split" => crate::fast_builtins::regex_split,
                "glob.match" => crate::fast_builtins::glob_match,
                _ => *f,
            };
            (*name, f)
        })
        .chain(ARITHMETIC)
        .collect();
    table.sort_by_key(|(name, _)| *name);
    table
});

/// The names under which arithmetic instructions become builtin calls. Not Rego names: a
/// policy cannot call them (the compiler resolves calls before this runs).
const ARITHMETIC: [(&str, Builtin); 5] = [
    (PLUS, plus),
    (MINUS, minus),
    (MUL, mul),
    (DIV, div),
    (REM, rem),
];

/// Guards `program`: see the module documentation. `Err` names what could not be guarded (the
/// caller then runs the bundle on the interpreter).
pub(crate) fn install(program: &mut Program) -> Result<()> {
    rewrite_arithmetic(program);
    program.resolved_builtins = program
        .builtin_info_table
        .iter()
        .map(|info| guard_of(&info.name).map(|g| (g, u8::try_from(info.num_args).unwrap_or(0))))
        .collect::<Result<Vec<BuiltinFcn>>>()?;
    Ok(())
}

fn guard_of(name: &str) -> Result<Builtin> {
    let index = TABLE
        .binary_search_by_key(&name, |(n, _)| *n)
        .map_err(|_| anyhow::anyhow!("no builtin named {name}"))?;
    GUARDS
        .get(index / 16)
        .and_then(|row| row.get(index % 16))
        .copied()
        .ok_or_else(|| anyhow::anyhow!("builtin {name} cannot be guarded (past the guard table)"))
}

/// The builtin `name` as the VM runs it (strict; regorus's own, or the pattern matchers that
/// keep their caches), without noting its error: for the rule index, which evaluates a rule's
/// guards before the VM does ([`crate::rule_index`]).
pub(crate) fn builtin(name: &str) -> Option<Builtin> {
    let index = TABLE.binary_search_by_key(&name, |(n, _)| *n).ok()?;
    Some(TABLE[index].1)
}

/// The first builtin error since the last call on this thread, if any.
pub(crate) fn take_failure() -> Option<String> {
    FAILURE.with(|f| f.borrow_mut().take())
}

fn guarded<const I: usize>(
    span: &Span,
    params: &[Ref<Expr>],
    args: &[Value],
    _strict: bool,
) -> Result<Value> {
    let (name, builtin) = TABLE[I];
    builtin(span, params, args, true).inspect_err(|e| {
        FAILURE.with(|f| {
            f.borrow_mut().get_or_insert_with(|| failure_text(name, e));
        })
    })
}

/// What a decision's reason says of a failed builtin: regorus's message without the source
/// excerpt it frames it in (the VM has no source to point at, only `<builtin>:1:1`), after the
/// builtin's name. Arithmetic's messages name the operation already (`add` expects …).
fn failure_text(name: &str, e: &anyhow::Error) -> String {
    let text = e.to_string();
    let message = text
        .rsplit_once("error: ")
        .map_or(text.trim(), |(_, m)| m.trim());
    if ARITHMETIC.iter().any(|(n, _)| *n == name) {
        message.to_string()
    } else {
        format!("{name}: {message}")
    }
}

/// Arithmetic instructions become calls of the guarded arithmetic builtins.
fn rewrite_arithmetic(program: &mut Program) {
    for i in 0..program.instructions.len() {
        let (name, dest, left, right) = match program.instructions[i] {
            Instruction::Add { dest, left, right } => (PLUS, dest, left, right),
            Instruction::Sub { dest, left, right } => (MINUS, dest, left, right),
            Instruction::Mul { dest, left, right } => (MUL, dest, left, right),
            Instruction::Div { dest, left, right } => (DIV, dest, left, right),
            Instruction::Mod { dest, left, right } => (REM, dest, left, right),
            _ => continue,
        };
        let builtin_index = match program
            .builtin_info_table
            .iter()
            .position(|b| b.name == name)
        {
            Some(at) => at,
            None => {
                program.builtin_info_table.push(BuiltinInfo {
                    name: name.to_string(),
                    num_args: 2,
                });
                program.builtin_info_table.len() - 1
            }
        };
        let params_index = program
            .instruction_data
            .add_builtin_call_params(BuiltinCallParams {
                dest,
                builtin_index: u16::try_from(builtin_index).unwrap_or(u16::MAX),
                num_args: 2,
                args: [left, right, 0, 0, 0, 0, 0, 0],
            });
        program.instructions[i] = Instruction::BuiltinCall { params_index };
    }
}

const PLUS: &str = "sentinel.vm.plus";
const MINUS: &str = "sentinel.vm.minus";
const MUL: &str = "sentinel.vm.mul";
const DIV: &str = "sentinel.vm.div";
const REM: &str = "sentinel.vm.rem";

fn arithmetic(op: ArithOp, span: &Span, params: &[Ref<Expr>], args: &[Value]) -> Result<Value> {
    let ([left, right], [p, q]) = (args, params) else {
        anyhow::bail!("arithmetic takes two operands");
    };
    if let (ArithOp::Sub, Value::Set(l), Value::Set(r)) = (&op, left, right) {
        return Ok(Value::Set(regorus::Rc::new(l.difference(r))));
    }
    arithmetic_operation(span, &op, p, q, left.clone(), right.clone(), true)
}

fn plus(span: &Span, params: &[Ref<Expr>], args: &[Value], _: bool) -> Result<Value> {
    arithmetic(ArithOp::Add, span, params, args)
}
fn minus(span: &Span, params: &[Ref<Expr>], args: &[Value], _: bool) -> Result<Value> {
    arithmetic(ArithOp::Sub, span, params, args)
}
fn mul(span: &Span, params: &[Ref<Expr>], args: &[Value], _: bool) -> Result<Value> {
    arithmetic(ArithOp::Mul, span, params, args)
}
fn div(span: &Span, params: &[Ref<Expr>], args: &[Value], _: bool) -> Result<Value> {
    arithmetic(ArithOp::Div, span, params, args)
}
fn rem(span: &Span, params: &[Ref<Expr>], args: &[Value], _: bool) -> Result<Value> {
    arithmetic(ArithOp::Mod, span, params, args)
}

/// One guard per [`TABLE`] position, 16 to a row.
macro_rules! guard_row {
    ($row:literal) => {
        [
            guarded::<{ $row * 16 }>,
            guarded::<{ $row * 16 + 1 }>,
            guarded::<{ $row * 16 + 2 }>,
            guarded::<{ $row * 16 + 3 }>,
            guarded::<{ $row * 16 + 4 }>,
            guarded::<{ $row * 16 + 5 }>,
            guarded::<{ $row * 16 + 6 }>,
            guarded::<{ $row * 16 + 7 }>,
            guarded::<{ $row * 16 + 8 }>,
            guarded::<{ $row * 16 + 9 }>,
            guarded::<{ $row * 16 + 10 }>,
            guarded::<{ $row * 16 + 11 }>,
            guarded::<{ $row * 16 + 12 }>,
            guarded::<{ $row * 16 + 13 }>,
            guarded::<{ $row * 16 + 14 }>,
            guarded::<{ $row * 16 + 15 }>,
        ]
    };
}

static GUARDS: [[Builtin; 16]; 16] = [
    guard_row!(0),
    guard_row!(1),
    guard_row!(2),
    guard_row!(3),
    guard_row!(4),
    guard_row!(5),
    guard_row!(6),
    guard_row!(7),
    guard_row!(8),
    guard_row!(9),
    guard_row!(10),
    guard_row!(11),
    guard_row!(12),
    guard_row!(13),
    guard_row!(14),
    guard_row!(15),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A regorus upgrade that adds builtins past the guard table would send bundles using them
    /// to the interpreter (never unguarded to the VM); this says when the table must grow.
    #[test]
    fn every_builtin_has_a_guard() {
        for (name, _) in TABLE.iter() {
            assert!(guard_of(name).is_ok(), "{name}");
        }
        assert!(guard_of("no.such.builtin").is_err());
    }

    #[test]
    fn a_failure_reads_as_the_message_without_the_source_frame() {
        let framed = |m: &str| anyhow::anyhow!("--> <builtin>:1:1\n  |\n1 | \n  | ^\nerror: {m}");
        assert_eq!(
            failure_text(
                PLUS,
                &framed("`add` expects numeric argument. Got `\"20\"` instead")
            ),
            "`add` expects numeric argument. Got `\"20\"` instead"
        );
        assert_eq!(
            failure_text("regex.match", &framed("invalid regex")),
            "regex.match: invalid regex"
        );
        assert_eq!(
            failure_text("lower", &anyhow::anyhow!("plain")),
            "lower: plain"
        );
    }
}
