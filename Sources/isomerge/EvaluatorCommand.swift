/// The user's evaluator command, with `{checkpoint}` standing for the candidate's path.
///
/// The path is never pasted into the command text: the evaluator gets it in the environment
/// variable `ISOMERGE_CHECKPOINT`, and each `{checkpoint}` becomes a reference to that variable,
/// quoted for where it stands as /bin/sh reads quotes, command substitutions and comments —
/// outside quotes `"${ISOMERGE_CHECKPOINT}"`, inside double quotes `${ISOMERGE_CHECKPOINT}`, inside
/// single quotes `'"${ISOMERGE_CHECKPOINT}"'` (closing and reopening them); inside `$(…)` or
/// backquotes, also within double quotes, as outside quotes. So `./eval.sh {checkpoint}`,
/// `./eval.sh "{checkpoint}"`, `python -c 'score("{checkpoint}")'` and
/// `echo "$(./eval.sh '{checkpoint}')"` all receive the path as one word, exactly, whatever
/// characters it holds. (Here-documents are not parsed: use `$ISOMERGE_CHECKPOINT` in one.)
struct EvaluatorCommand {
    static let placeholder = "{checkpoint}"
    static let variable = "ISOMERGE_CHECKPOINT"

    /// The command as the user wrote it.
    let template: String
    /// The command for `/bin/sh -c`, with every placeholder replaced.
    let shellCommand: String

    init(_ template: String) throws(UsageError) {
        guard template.contains(Self.placeholder) else {
            throw UsageError("--evaluate must contain \(Self.placeholder) where the candidate checkpoint's path goes "
                             + "(e.g. './eval.sh \(Self.placeholder)'); without it every α would score alike")
        }
        self.template = template
        shellCommand = Self.substitute(template)
    }

    /// Where a character of the command stands, as /bin/sh reads it: unquoted, in single or
    /// double quotes, or inside a command substitution (`$(…)`, also in double quotes, where
    /// quoting starts afresh) or backquotes.
    private enum Quoting { case none, single, double, substitution, backquote }

    /// The template with each placeholder quoted for where it stands (outside comments, which
    /// are copied as they are: an apostrophe there opens no quote).
    private static func substitute(_ template: String) -> String {
        let characters = Array(template), marker = Array(placeholder)
        let reference = "${\(variable)}"
        var result = "", stack = [Quoting.none], index = 0
        while index < characters.count {
            let character = characters[index], quoting = stack[stack.count - 1]
            if characters[index...].starts(with: marker) {
                switch quoting {
                case .none, .substitution, .backquote: result += "\"\(reference)\""
                case .double: result += reference
                case .single: result += "'\"\(reference)\"'"
                }
                index += marker.count
                continue
            }
            let previous: Character = index > 0 ? characters[index - 1] : " "
            result.append(character)
            index += 1
            let next: Character? = index < characters.count ? characters[index] : nil
            switch (quoting, character) {
            case (.single, "'"), (.double, "\""), (.substitution, ")"), (.backquote, "`"):
                stack.removeLast()
            case (.single, _):
                break
            case (_, "\\"):
                if let next {
                    result.append(next)
                    index += 1
                }
            case (_, "$") where next == "(":
                result.append("(")
                index += 1
                stack.append(.substitution)
            case (_, "`"):
                stack.append(.backquote)
            case (.double, _):
                break
            case (_, "'"): stack.append(.single)
            case (_, "\""): stack.append(.double)
            case (.substitution, "("): stack.append(.substitution)
            case (_, "#") where previous.isWhitespace || ";&|()".contains(previous):
                while index < characters.count && !characters[index].isNewline {
                    result.append(characters[index])
                    index += 1
                }
            default: break
            }
        }
        return result
    }
}
