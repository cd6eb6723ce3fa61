import Foundation
import Linalg

/// linalg-bench: timings of Linalg's kernels, as a table or (with --json) one JSON object per line.
///
///   linalg-bench gemm [--json] [--threads 1,2] [--shapes MxNxK,...] [--reps N]
///   linalg-bench svd  [--json] [--threads 1,2] [--shapes MxN,...|large] [--reps N] [--algorithm auto|bidiagonal|jacobi]
///                    [--ops sgesdd_uv,sgesdd_s,polar,truncated,reduction,back_transformation] [--bandwidth B,...]
///   linalg-bench factorizations [--json] [--threads 1,2] [--shapes MxN,...] [--reps N]
let usage = """
    usage: linalg-bench gemm [--json] [--threads 1,2] [--shapes MxNxK,...] [--reps N]
           linalg-bench svd  [--json] [--threads 1,2] [--shapes MxN,...|large] [--reps N] [--algorithm NAME] [--ops OP,...]
                             [--bandwidth B,...]
           linalg-bench factorizations [--json] [--threads 1,2] [--shapes MxN,...] [--reps N]
    """

// The allocator setting the isomerge executable uses (freed blocks are reused, not unmapped).
MemoryTuning.reuseFreedMemory()
var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    print(usage)
    exit(2)
}
arguments.removeFirst()
let options = BenchOptions(arguments)

switch command {
case "gemm":
    runGEMMBenchmark(options)
case "svd":
    runSVDBenchmark(options, algorithms: options.algorithm.map { [$0] } ?? SVDAlgorithm.allCases)
case "factorizations":
    runFactorizationBenchmark(options)
default:
    FileHandle.standardError.write(Data("unknown benchmark '\(command)'\n\(usage)\n".utf8))
    exit(2)
}
