/// BLAKE3 in its default hashing mode, written from the reference algorithm.
///
/// The input is split into 1024-byte chunks of 64-byte blocks; each chunk yields a chaining value, and chaining
/// values are merged pairwise into a binary tree whose root is compressed once more with the `root` flag. Only the
/// 32-byte default output is produced, so the extendable-output and keyed modes are left out.
package struct BLAKE3: Sendable {
    /// Eight 32-bit words: a chaining value or a key.
    fileprivate typealias Words8 = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    /// Sixteen 32-bit words: one message block, also used as 64 bytes of raw storage for a partial block.
    fileprivate typealias Words16 = (
        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32
    )

    fileprivate static let blockLength = 64
    fileprivate static let chunkLength = 1024

    fileprivate static let chunkStart: UInt32 = 1 << 0
    fileprivate static let chunkEnd: UInt32 = 1 << 1
    fileprivate static let parent: UInt32 = 1 << 2
    fileprivate static let root: UInt32 = 1 << 3

    /// The default mode keys every chunk and parent with the SHA-256 IV.
    fileprivate static let iv: Words8 = (
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19
    )

    fileprivate static let zeroBlock: Words16 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    /// The chunk currently being filled.
    private var chunk = ChunkState(counter: 0)

    /// Chaining values of completed subtrees, left to right; at most one per level (54 levels cover 2^64 bytes).
    private var cvStack: [Words8] = []

    /// Creates a hasher with no input.
    package init() {}

    /// Appends `bytes` to the input; any split of the input across calls gives the same hash.
    package mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        guard handled == nil else { return }
        // Non-contiguous sequences go through a stack buffer so whole blocks still take the fast path.
        let capacity = Self.chunkLength
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { scratch in
            var count = 0
            for byte in bytes {
                scratch[count] = byte
                count += 1
                if count == capacity {
                    update(UnsafeRawBufferPointer(start: scratch.baseAddress, count: count))
                    count = 0
                }
            }
            update(UnsafeRawBufferPointer(start: scratch.baseAddress, count: count))
        }
    }

    /// Appends the bytes of `buffer` to the input.
    package mutating func update(_ buffer: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            // A full chunk is only closed once more input arrives, because the last chunk must take the root flag.
            if chunk.length == Self.chunkLength {
                let chunkCV = chunk.output().chainingValue()
                let totalChunks = chunk.counter &+ 1
                addChunkChainingValue(chunkCV, totalChunks: totalChunks)
                chunk = ChunkState(counter: totalChunks)
            }
            let take = min(Self.chunkLength - chunk.length, buffer.count - offset)
            chunk.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + take)]))
            offset += take
        }
    }

    /// Returns the 32-byte hash of everything appended so far; the hasher can keep taking input afterwards.
    package func finalize() -> [UInt8] {
        var output = chunk.output()
        var remaining = cvStack.count
        while remaining > 0 {
            remaining -= 1
            output = Output.parent(left: cvStack[remaining], right: output.chainingValue())
        }
        let words = output.rootWords()
        return [UInt8](unsafeUninitializedCapacity: 32) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            withUnsafeBytes(of: words) { source in
                for index in 0..<8 {
                    let word = source.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
                    raw.storeBytes(of: word.littleEndian, toByteOffset: index * 4, as: UInt32.self)
                }
            }
            initialized = 32
        }
    }

    /// Hashes `bytes` in one shot, returning 32 bytes.
    package static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = BLAKE3()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Merges the new chunk's chaining value into the stack.
    ///
    /// After `totalChunks` chunks, one completed subtree is pending per set bit of the count, so every trailing
    /// zero bit marks a pair of equal-sized subtrees that can now be joined under a parent node.
    private mutating func addChunkChainingValue(_ chunkCV: Words8, totalChunks: UInt64) {
        var newCV = chunkCV
        var total = totalChunks
        while total & 1 == 0, let left = cvStack.popLast() {
            newCV = Output.parent(left: left, right: newCV).chainingValue()
            total >>= 1
        }
        cvStack.append(newCV)
    }
}

// MARK: - Chunk state and outputs

extension BLAKE3 {
    /// The compression input that is not yet committed: whether it becomes a chaining value or the root is decided
    /// only when we know whether more input follows.
    fileprivate struct Output {
        var inputCV: Words8
        var block: Words16
        var counter: UInt64
        var blockLength: UInt32
        var flags: UInt32

        static func parent(left: Words8, right: Words8) -> Output {
            let block: Words16 = (
                left.0, left.1, left.2, left.3, left.4, left.5, left.6, left.7,
                right.0, right.1, right.2, right.3, right.4, right.5, right.6, right.7
            )
            return Output(
                inputCV: BLAKE3.iv, block: block, counter: 0, blockLength: UInt32(BLAKE3.blockLength),
                flags: BLAKE3.parent)
        }

        func chainingValue() -> Words8 {
            compress(inputCV, block, counter: counter, blockLength: blockLength, flags: flags)
        }

        /// The root compression restarts the counter at 0, as it counts output blocks rather than chunks.
        func rootWords() -> Words8 {
            compress(inputCV, block, counter: 0, blockLength: blockLength, flags: flags | BLAKE3.root)
        }
    }

    /// One chunk of up to 1024 bytes, with its last (possibly partial) block kept back until the chunk is closed.
    fileprivate struct ChunkState {
        var cv: Words8 = BLAKE3.iv
        let counter: UInt64
        /// Raw bytes of the pending block, little-endian word order; bytes past `blockLength` stay zero.
        var block: Words16 = BLAKE3.zeroBlock
        var blockLength = 0
        var blocksCompressed = 0

        init(counter: UInt64) {
            self.counter = counter
        }

        var length: Int {
            blocksCompressed * BLAKE3.blockLength + blockLength
        }

        private var startFlag: UInt32 {
            blocksCompressed == 0 ? BLAKE3.chunkStart : 0
        }

        /// Absorbs `input`, which must fit in what is left of the chunk.
        mutating func update(_ input: UnsafeRawBufferPointer) {
            let blockSize = BLAKE3.blockLength
            var offset = 0
            while offset < input.count {
                if blockLength == blockSize {
                    let words = withUnsafeBytes(of: block) { loadWords($0, at: 0) }
                    compressBlock(words)
                    block = BLAKE3.zeroBlock
                    blockLength = 0
                }
                // Whole blocks that are certainly not the chunk's last are compressed straight from the input.
                while blockLength == 0 && input.count - offset > blockSize {
                    compressBlock(loadWords(input, at: offset))
                    offset += blockSize
                }
                let take = min(blockSize - blockLength, input.count - offset)
                let start = blockLength
                withUnsafeMutableBytes(of: &block) { destination in
                    UnsafeMutableRawBufferPointer(rebasing: destination[start..<(start + take)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)]))
                }
                blockLength += take
                offset += take
            }
        }

        func output() -> Output {
            let words = withUnsafeBytes(of: block) { loadWords($0, at: 0) }
            return Output(
                inputCV: cv, block: words, counter: counter, blockLength: UInt32(blockLength),
                flags: startFlag | BLAKE3.chunkEnd)
        }

        private mutating func compressBlock(_ words: Words16) {
            cv = compress(cv, words, counter: counter, blockLength: UInt32(BLAKE3.blockLength), flags: startFlag)
            blocksCompressed += 1
        }
    }
}

// MARK: - Compression function

/// Reads 64 bytes at `offset` as sixteen little-endian words.
@inline(__always)
private func loadWords(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> BLAKE3.Words16 {
    @inline(__always)
    func word(_ index: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + index * 4, as: UInt32.self))
    }
    return (
        word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7),
        word(8), word(9), word(10), word(11), word(12), word(13), word(14), word(15)
    )
}

@inline(__always)
private func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value &>> count) | (value &<< (32 &- count))
}

/// The quarter-round mixing function G.
@inline(__always)
private func mix(
    _ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32, _ x: UInt32, _ y: UInt32
) {
    a = a &+ b &+ x
    d = rotateRight(d ^ a, 16)
    c = c &+ d
    b = rotateRight(b ^ c, 12)
    a = a &+ b &+ y
    d = rotateRight(d ^ a, 8)
    c = c &+ d
    b = rotateRight(b ^ c, 7)
}

/// Compresses one block and returns the first half of the output, which is all the 32-byte mode ever needs.
///
/// The state and message live in plain locals rather than arrays so the optimizer can keep them in registers.
private func compress(
    _ cv: BLAKE3.Words8, _ message: BLAKE3.Words16, counter: UInt64, blockLength: UInt32, flags: UInt32
) -> BLAKE3.Words8 {
    var (s0, s1, s2, s3, s4, s5, s6, s7) = cv
    var (s8, s9, s10, s11) = (BLAKE3.iv.0, BLAKE3.iv.1, BLAKE3.iv.2, BLAKE3.iv.3)
    var s12 = UInt32(truncatingIfNeeded: counter)
    var s13 = UInt32(truncatingIfNeeded: counter &>> 32)
    var s14 = blockLength
    var s15 = flags
    var (m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15) = message

    for round in 0..<7 {
        // Columns.
        mix(&s0, &s4, &s8, &s12, m0, m1)
        mix(&s1, &s5, &s9, &s13, m2, m3)
        mix(&s2, &s6, &s10, &s14, m4, m5)
        mix(&s3, &s7, &s11, &s15, m6, m7)
        // Diagonals.
        mix(&s0, &s5, &s10, &s15, m8, m9)
        mix(&s1, &s6, &s11, &s12, m10, m11)
        mix(&s2, &s7, &s8, &s13, m12, m13)
        mix(&s3, &s4, &s9, &s14, m14, m15)
        guard round < 6 else { break }
        // Message permutation [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8].
        (m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15) =
            (m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8)
    }

    return (s0 ^ s8, s1 ^ s9, s2 ^ s10, s3 ^ s11, s4 ^ s12, s5 ^ s13, s6 ^ s14, s7 ^ s15)
}
