package io.idemlog.server.log;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loading a data directory with one damaged file, under fuzzing: a partition of several sealed segments (indexes
 * and producer snapshots written by the server itself), whose first segment's index file, or newest snapshot (its
 * first input byte saying whether to repair the CRC trailer), is replaced by the input; or whose second (sealed)
 * segment is overwritten or truncated in place by it. Invariants: the store opens
 * or refuses with an IOException (never another exception); once open, it serves only whole, valid batches at the
 * offsets asked for (ServedBatches).
 */
class DataDirFuzzTest {
    private static Path template;
    private static List<Path> indexes;
    private static List<Path> snapshots;
    private static List<Path> logs;

    private static synchronized Path template() throws IOException {
        if (template == null) {
            template = Files.createTempDirectory("idemlog-fuzz-template");
            TestConfig config = new TestConfig();
            config.segmentBytes = 4096;
            config.indexIntervalBytes = 256;
            try (LogFixture log = new LogFixture(template, config)) {
                int[] next = new int[3];
                for (int i = 0; i < 120; i++) {
                    int producer = i % 3;
                    int records = 1 + i % 4;
                    log.appendOk(Batches.idempotent(producer, 0, next[producer], records));
                    next[producer] += records;
                }
                log.store.flushOnce();
            }
            Path partition = template.resolve("topics").resolve(LogFixture.TOPIC + "-0");
            try (Stream<Path> s = Files.list(partition)) {
                List<Path> all = s.sorted().toList();
                indexes = all.stream().filter(p -> p.toString().endsWith(LogFiles.INDEX_SUFFIX)).toList();
                snapshots = all.stream().filter(p -> p.toString().endsWith(".snapshot")).toList();
                logs = all.stream().filter(p -> p.toString().endsWith(LogFiles.LOG_SUFFIX)).toList();
            }
        }
        return template;
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (template != null) {
            delete(template);
            template = null;
        }
    }

    private static void delete(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static Path copy(Path from) throws IOException {
        Path to = Files.createTempDirectory("idemlog-fuzz-datadir");
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return to;
    }

    @FuzzTest(maxDuration = "10m")
    void damagedIndex(byte[] contents) throws IOException {
        Path base = template();
        openWith(base.relativize(indexes.get(0)), contents);
    }

    @FuzzTest(maxDuration = "10m")
    void damagedSnapshot(byte[] input) throws IOException {
        if (input.length < 1) {
            return;
        }
        Path base = template();
        // first byte: repair the CRC trailer or not (as SnapshotLoadFuzzTest), so mutations reach the entries
        openWith(base.relativize(snapshots.get(snapshots.size() - 1)),
            io.idemlog.server.state.SnapshotLoadFuzzTestSupport.withCrc(input));
    }

    /**
     * A sealed segment (the second one: sealed, with an index, between two others) damaged in place: input bytes 0-1
     * choose the position (a fraction of the file), byte 2's low bit chooses truncation there or an overwrite with
     * the rest of the input (at most 64 bytes). Reads check sealed segments (docs/STORAGE.md, "Checks on read").
     */
    @FuzzTest(maxDuration = "10m")
    void damagedSegment(byte[] input) throws IOException {
        if (input.length < 3) {
            return;
        }
        Path base = template();
        Path segment = base.relativize(logs.get(1));
        Path dir = copy(template);
        try {
            Path file = dir.resolve(segment.toString());
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long size = ch.size();
                long position = (((input[0] & 0xff) << 8) | (input[1] & 0xff)) * size / 65536;
                if ((input[2] & 1) != 0) {
                    ch.truncate(position);
                } else {
                    int n = (int) Math.min(Math.min(64, input.length - 3), size - position);
                    ch.write(ByteBuffer.wrap(input, 3, Math.max(0, n)), position);
                }
            }
            openAndRead(dir);
        } finally {
            delete(dir);
        }
    }

    private static void openAndRead(Path dir) throws IOException {
        LogFixture log;
        try {
            log = new LogFixture(dir, config());
        } catch (IOException refused) {
            return;
        }
        try {
            ServedBatches.assertOnlyValidBatches(log.partition());
        } finally {
            log.close();
        }
    }

    private static void openWith(Path damaged, byte[] contents) throws IOException {
        Path dir = copy(template);
        try {
            Files.write(dir.resolve(damaged.toString()), contents);
            LogFixture log;
            try {
                log = new LogFixture(dir, config());
            } catch (IOException refused) {
                return;
            }
            try {
                ServedBatches.assertOnlyValidBatches(log.partition());
            } finally {
                log.close();
            }
        } finally {
            delete(dir);
        }
    }

    private static TestConfig config() {
        TestConfig config = new TestConfig();
        config.segmentBytes = 4096;
        config.indexIntervalBytes = 256;
        return config;
    }
}
