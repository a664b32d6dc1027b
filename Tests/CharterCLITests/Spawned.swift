import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn`, its output read to the end on threads of its own.
///
/// Not Foundation's `Process`: on Linux (Swift 6.3.1) its `run()` sometimes crashes with a bad pointer dereference
/// while reading `/proc/self/fd` to close the parent's descriptors in the child (swift-corelibs-foundation #5472),
/// which took the whole test process down in about one run of five. Here the pipes are close-on-exec and the child
/// is asked to close every other descriptor from 3 up, so no descriptor of the test process leaks into it.
final class Spawned: @unchecked Sendable {
    // `reaped` and `outputs` change under the lock; the pipes are read by threads of their own.
    let pid: pid_t
    private let lock = NSLock()
    private var reaped: Int32??
    private let readers = DispatchGroup()
    private var outputs: [Data] = [Data(), Data()]

    /// Starts `executable` with `arguments` and exactly `environment`.
    /// - Parameters:
    ///   - mergeErrors: standard error goes to the same pipe as standard output.
    ///   - onOutput: called with each chunk of (standard) output as it arrives, on a reader thread.
    init(
        _ executable: String, _ arguments: [String], environment: [String: String], mergeErrors: Bool = false,
        onOutput: (@Sendable (Data) -> Void)? = nil
    ) throws {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard Self.pipe(&outPipe), mergeErrors || Self.pipe(&errPipe) else { throw SpawnError("pipe: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, mergeErrors ? outPipe[1] : errPipe[1], 2)
        Self.closeFrom3(&actions)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, envp)
        close(outPipe[1])
        if !mergeErrors { close(errPipe[1]) }
        guard spawned == 0 else {
            close(outPipe[0])
            if !mergeErrors { close(errPipe[0]) }
            throw SpawnError("posix_spawn \(executable): \(spawned)")
        }
        pid = child
        read(outPipe[0], into: 0, onOutput: onOutput)
        if !mergeErrors { read(errPipe[0], into: 1, onOutput: nil) }
    }

    /// A pipe whose ends are closed on exec (`pipe2` is not imported; the child closes strays from 3 up anyway).
    private static func pipe(_ ends: inout [Int32]) -> Bool {
        guard Glibc.pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Asks the child to close every descriptor from 3 up, where glibc offers it (2.34 and later).
    private static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    }

    private func read(_ descriptor: Int32, into index: Int, onOutput: (@Sendable (Data) -> Void)?) {
        readers.enter()
        Thread.detachNewThread { [self] in
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { outputs[index].append(chunk) }
                onOutput?(chunk)
            }
            readers.leave()
        }
    }

    /// Waits for the child to exit and for its output to end; the exit status, or nil when a signal ended it.
    @discardableResult
    func wait() -> (status: Int32?, stdout: Data, stderr: Data) {
        let code = reap(blocking: true) ?? nil
        readers.wait()
        return lock.withLock { (code, outputs[0], outputs[1]) }
    }

    /// Whether the child is still running.
    var isRunning: Bool { reap(blocking: false) == nil }

    /// Sends SIGTERM.
    func terminate() { kill(pid, SIGTERM) }

    /// Reaps the child once it has exited: nil while it runs (when not blocking), else its exit status, which is
    /// itself nil when a signal ended it.
    private func reap(blocking: Bool) -> Int32?? {
        if let done = lock.withLock({ reaped }) { return done }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, blocking ? 0 : WNOHANG) == pid else { return nil }
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        let code: Int32? = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : nil
        lock.withLock { reaped = .some(code) }
        return .some(code)
    }
}

struct SpawnError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
