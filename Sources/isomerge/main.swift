import Foundation
import IsoMerge
import Linalg

/// isomerge: merge fine-tuned checkpoints, and look inside them.
let usage = """
    usage: isomerge <command> [options]

    commands:
      demo              the whole job on built-in data: build tasks, fine-tune, merge with every method, evaluate
      merge             merge fine-tuned checkpoints (\(MergeRules.standard.names.joined(separator: ", ")))
      apply             apply a saved merged task vector with a new α
      analyze           subspace alignment of each task with each method's merge (table, JSON, SVG plots)
      inspect PATH      list the tensors of a checkpoint (file, directory or shard index)
      convert IN OUT    write a checkpoint (e.g. a PyTorch .pt/.bin) as safetensors
      svd PATH          singular values (and optionally factors) of its 2-D tensors

    Run 'isomerge <command> --help' for a command's options and an example.
    """

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Exits with `status` once everything printed to stdout has been written; a failed write (a
/// full disk, a closed pipe) is an error (status 1) saying so.
func exitAfterFlushingStandardOutput(_ status: Int32, command: String) -> Never {
    if fflush(nil) != 0 {
        printError("isomerge\(command.isEmpty ? "" : " " + command): cannot write to standard output: \(String(cString: strerror(errno)))")
        exit(1)
    }
    exit(status)
}

MemoryTuning.reuseFreedMemory()
Interruption.install()
let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    printError(usage)
    exit(2)
}
if command == "--help" || command == "-h" || command == "help" {
    print(usage)
    exitAfterFlushingStandardOutput(0, command: "")
}
if command == "--version" {
    print("isomerge \(IsoMerge.version)")
    exitAfterFlushingStandardOutput(0, command: "")
}
let rest = Array(arguments.dropFirst())
do {
    switch command {
    case "demo": try DemoCommand.run(rest)
    case "merge": try MergeCommand.run(rest)
    case "apply": try ApplyCommand.run(rest)
    case "analyze": try AnalyzeCommand.run(rest)
    case "inspect": try InspectCommand.run(rest)
    case "svd": try SVDCommand.run(rest)
    case "convert": try ConvertCommand.run(rest)
    default: throw UsageError("unknown command '\(command)'\n\n\(usage)")
    }
} catch let error as UsageError {
    printError("isomerge \(command): \(error)")
    exit(2)
} catch {
    printError("isomerge \(command): \(error)")
    exit(1)
}
exitAfterFlushingStandardOutput(0, command: command)
