//! Python's keywords and builtins, and the names the grammar singles out.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::Kind;

/// Builtin functions (called, they are `support.function.builtin`).
pub(super) static BUILTIN_FUNCTIONS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    HashSet::from([
        "__import__",
        "abs",
        "aiter",
        "all",
        "anext",
        "any",
        "ascii",
        "bin",
        "breakpoint",
        "callable",
        "chr",
        "classmethod",
        "compile",
        "delattr",
        "dir",
        "divmod",
        "enumerate",
        "eval",
        "exec",
        "filter",
        "format",
        "getattr",
        "globals",
        "hasattr",
        "hash",
        "help",
        "hex",
        "id",
        "input",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "locals",
        "map",
        "max",
        "min",
        "next",
        "oct",
        "open",
        "ord",
        "pow",
        "print",
        "property",
        "repr",
        "reversed",
        "round",
        "setattr",
        "sorted",
        "staticmethod",
        "sum",
        "super",
        "vars",
        "zip",
    ])
});

/// Builtin types (`support.type`).
pub(super) static BUILTIN_TYPES: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    HashSet::from([
        "bool",
        "bytearray",
        "bytes",
        "complex",
        "dict",
        "float",
        "frozenset",
        "int",
        "list",
        "memoryview",
        "object",
        "range",
        "set",
        "slice",
        "str",
        "tuple",
        "type",
    ])
});

/// Builtin exceptions and warnings (`support.type.exception`).
static EXCEPTIONS: LazyLock<HashSet<&str>> = LazyLock::new(|| {
    HashSet::from([
        "BaseException",
        "Exception",
        "StopIteration",
        "StopAsyncIteration",
        "KeyboardInterrupt",
        "SystemExit",
        "GeneratorExit",
        "ArithmeticError",
        "AssertionError",
        "AttributeError",
        "BlockingIOError",
        "BrokenPipeError",
        "BufferError",
        "ConnectionAbortedError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "EOFError",
        "FileExistsError",
        "FileNotFoundError",
        "FloatingPointError",
        "ImportError",
        "IndentationError",
        "IndexError",
        "InterruptedError",
        "IsADirectoryError",
        "KeyError",
        "LookupError",
        "MemoryError",
        "ModuleNotFoundError",
        "NameError",
        "NotADirectoryError",
        "NotImplementedError",
        "OSError",
        "OverflowError",
        "PermissionError",
        "ProcessLookupError",
        "RecursionError",
        "ReferenceError",
        "RuntimeError",
        "SyntaxError",
        "SystemError",
        "TimeoutError",
        "TypeError",
        "UnboundLocalError",
        "UnicodeDecodeError",
        "UnicodeEncodeError",
        "UnicodeError",
        "ValueError",
        "ZeroDivisionError",
        "Warning",
        "DeprecationWarning",
        "RuntimeWarning",
        "UserWarning",
        "FutureWarning",
        "ResourceWarning",
    ])
});

pub(super) fn is_exception(name: &str) -> bool {
    EXCEPTIONS.contains(name)
}

pub(super) fn keyword(word: &str) -> Option<Kind> {
    Some(match word {
        "return" | "yield" | "break" | "continue" | "pass" | "await" | "assert" => {
            Kind::KeywordFlow
        }
        "if" | "elif" | "else" => Kind::KeywordConditional,
        "for" | "while" => Kind::KeywordLoop,
        "try" | "except" | "finally" | "raise" => Kind::KeywordException,
        "import" | "from" => Kind::KeywordImport,
        "with" | "as" => Kind::KeywordWith,
        "and" | "or" | "not" | "in" | "is" => Kind::KeywordLogical,
        "def" => Kind::Def,
        "class" => Kind::Class,
        "lambda" => Kind::Lambda,
        "async" | "global" | "nonlocal" => Kind::Modifier,
        "del" => Kind::Keyword,
        "True" | "False" | "None" | "NotImplemented" | "Ellipsis" => Kind::Constant,
        "self" | "cls" => Kind::SelfName,
        _ => return None,
    })
}

/// A special name such as `__init__` or `__name__`.
pub(super) fn is_dunder(word: &str) -> bool {
    word.len() > 4 && word.starts_with("__") && word.ends_with("__")
}

pub(super) fn is_upper_constant(word: &str) -> bool {
    let trimmed = word.trim_start_matches('_');
    trimmed.len() >= 2
        && trimmed.as_bytes()[0].is_ascii_uppercase()
        && trimmed
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}
