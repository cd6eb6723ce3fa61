/// The user's evaluator command, with `{checkpoint}` standing for the candidate's path.
///
/// The path is never pasted into the command text: the evaluator gets it in the environment
/// variable `ISOMERGE_CHECKPOINT`, and each `{checkpoint}` becomes a reference to that variable,
/// quoted for where it stands as /bin/sh reads quotes — outside quotes `"${ISOMERGE_CHECKPOINT}"`,
/// inside double quotes `${ISOMERGE_CHECKPOINT}`, inside single quotes `'"${ISOMERGE_CHECKPOINT}"'`
/// (closing and reopening them). So `./eval.sh {checkpoint}`, `./eval.sh "{checkpoint}"` and
/// `python -c 'score("{checkpoint}")'` all receive the path as one word, exactly, whatever
/// characters it holds.
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

    private enum Quoting { case none, single, double }

    private static func substitute(_ template: String) -> String {
        let characters = Array(template), marker = Array(placeholder)
        let reference = "${\(variable)}"
        var result = "", quoting = Quoting.none, index = 0
        while index < characters.count {
            let character = characters[index]
            if characters[index...].starts(with: marker) {
                switch quoting {
                case .none: result += "\"\(reference)\""
                case .double: result += reference
                case .single: result += "'\"\(reference)\"'"
                }
                index += marker.count
                continue
            }
            result.append(character)
            index += 1
            switch (quoting, character) {
            case (.none, "\\"), (.double, "\\"):
                if index < characters.count {
                    result.append(characters[index])
                    index += 1
                }
            case (.none, "'"): quoting = .single
            case (.single, "'"): quoting = .none
            case (.none, "\""): quoting = .double
            case (.double, "\""): quoting = .none
            default: break
            }
        }
        return result
    }
}
