//! The token kinds and the scope stack each stands for.

use std::sync::LazyLock;

use syntect::parsing::Scope;

/// Declares [`Kind`]: each token kind with its scopes below `source.python`
/// (the ones the Sublime grammar gives that token in the common case).
macro_rules! kinds {
    ($($kind:ident => $scopes:literal,)*) => {
        /// What a token is; each kind has one scope stack.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub(in crate::highlight) enum Kind {
            $($kind,)*
        }

        /// Every kind's scopes, in declaration order.
        const SCOPES: &[&str] = &[$($scopes,)*];
    };
}

kinds! {
    Comment => "comment.line.number-sign.python",
    CommentMark => "comment.line.number-sign.python punctuation.definition.comment.python",
    Docstring => "comment.block.documentation.python",
    Str => "meta.string.python string.quoted.double.python",
    StrQuote => "meta.string.python string.quoted.double.python punctuation.definition.string.begin.python",
    StrPrefix => "meta.string.python storage.type.string.python",
    StrBlock => "meta.string.python string.quoted.double.block.python",
    StrKey => "meta.mapping.key.python meta.string.python string.quoted.double.python",
    StrKeyQuote => "meta.mapping.key.python meta.string.python string.quoted.double.python punctuation.definition.string.begin.python",
    FStr => "meta.string.interpolated.python string.quoted.double.python",
    FStrQuote => "meta.string.interpolated.python string.quoted.double.python punctuation.definition.string.begin.python",
    StrEscape => "meta.string.python string.quoted.double.python constant.character.escape.python",
    Placeholder => "meta.string.python string.quoted.double.python constant.other.placeholder.python",
    Interpolation => "meta.string.interpolated.python meta.interpolation.python punctuation.section.interpolation.begin.python",
    Conversion => "meta.string.interpolated.python meta.interpolation.python storage.modifier.conversion.python",
    FormatSpec => "meta.string.interpolated.python meta.interpolation.python meta.format-spec.python constant.other.format-spec.python",
    Keyword => "keyword.other.python",
    KeywordFlow => "keyword.control.flow.return.python",
    KeywordConditional => "keyword.control.conditional.if.python",
    KeywordLoop => "keyword.control.loop.for.python",
    KeywordException => "keyword.control.exception.catch.python",
    KeywordImport => "keyword.control.import.python",
    KeywordWith => "keyword.control.flow.with.python",
    KeywordLogical => "keyword.operator.logical.python",
    RaiseFrom => "meta.statement.raise.python keyword.control.flow.raise.from.python",
    Def => "meta.function.python storage.type.function.python keyword.declaration.function.python",
    Class => "meta.class.python storage.type.class.python keyword.declaration.class.python",
    Lambda => "meta.function.inline.python storage.type.function.inline.python keyword.declaration.function.inline.python",
    Modifier => "storage.modifier.async.python",
    Constant => "constant.language.python",
    SelfName => "variable.language.python",
    Number => "constant.numeric.integer.decimal.python",
    Float => "constant.numeric.float.decimal.python",
    FloatDot => "constant.numeric.float.decimal.python punctuation.separator.decimal.python",
    FunctionName => "meta.function.python entity.name.function.python meta.generic-name.python",
    MagicFunctionName => "meta.function.python entity.name.function.python support.function.magic.python",
    ClassName => "meta.class.python entity.name.class.python meta.generic-name.python",
    InheritedClass => "meta.class.inheritance.python entity.other.inherited-class.python",
    Parameter => "meta.function.parameters.python variable.parameter.python",
    Call => "meta.function-call.python meta.qualified-name.python variable.function.python meta.generic-name.python",
    CallBuiltin => "meta.function-call.python meta.qualified-name.python variable.function.python support.function.builtin.python",
    CallType => "meta.function-call.python meta.qualified-name.python variable.function.python support.type.python",
    CallException => "meta.function-call.python meta.qualified-name.python variable.function.python support.type.exception.python",
    BuiltinType => "meta.qualified-name.python support.type.python",
    Exception => "meta.qualified-name.python support.type.exception.python",
    UpperConstant => "meta.qualified-name.python variable.other.constant.python",
    Magic => "meta.qualified-name.python support.variable.magic.python",
    Decorator => "meta.annotation.python meta.qualified-name.python variable.annotation.python meta.generic-name.python",
    DecoratorBuiltin => "meta.annotation.python meta.qualified-name.python variable.annotation.python support.function.builtin.python",
    DecoratorPart => "meta.annotation.python meta.qualified-name.python meta.generic-name.python",
    DecoratorAccessor => "meta.annotation.python meta.qualified-name.python punctuation.accessor.dot.python",
    DecoratorMark => "meta.annotation.python punctuation.definition.annotation.python",
    Assignment => "keyword.operator.assignment.python",
    AugAssignment => "keyword.operator.assignment.augmented.python",
    Comparison => "keyword.operator.comparison.python",
    Arithmetic => "keyword.operator.arithmetic.python",
    Arrow => "meta.function.annotation.return.python punctuation.separator.annotation.return.python",
    Accessor => "meta.qualified-name.python punctuation.accessor.dot.python",
    Comma => "punctuation.separator.sequence.python",
    ColonParameter => "meta.function.parameters.annotation.python punctuation.separator.annotation.parameter.python",
    ColonVariable => "punctuation.separator.annotation.variable.python",
    ColonMapping => "meta.mapping.python punctuation.separator.mapping.key-value.python",
    ColonSlice => "meta.item-access.arguments.python punctuation.separator.slice.python",
    ColonClass => "meta.class.python punctuation.section.class.begin.python",
}

impl Kind {
    /// The full scope stack of this kind, `source.python` first.
    pub(in crate::highlight) fn stack(self) -> &'static [Scope] {
        &STACKS[self as usize]
    }
}

static STACKS: LazyLock<Vec<Vec<Scope>>> = LazyLock::new(|| {
    SCOPES
        .iter()
        .map(|scopes| {
            std::iter::once("source.python")
                .chain(scopes.split(' '))
                .map(|s| Scope::new(s).unwrap_or_default())
                .collect()
        })
        .collect()
});

/// The plain stack: text outside every token.
pub(in crate::highlight) static PLAIN: LazyLock<Vec<Scope>> =
    LazyLock::new(|| vec![Scope::new("source.python").unwrap_or_default()]);
