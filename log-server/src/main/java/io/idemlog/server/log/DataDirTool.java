package io.idemlog.server.log;

import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordReader;
import io.idemlog.common.record.Varints;
import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.DurableFiles;
import io.idemlog.server.state.LeaderEpochCache;
import io.idemlog.server.state.LeaderEpochFile;
import io.idemlog.server.state.LogStartOffsetFile;
import io.idemlog.server.state.ProducerEntryVisitor;
import io.idemlog.server.state.ProducerIdAllocator;
import io.idemlog.server.state.ProducerSnapshotFile;
import io.idemlog.server.state.ReferenceProducerStateTable;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The offline verifier and dumper of a data directory (docs/STORAGE.md, "Offline verification"), run by
 * {@code java -jar idemlog-server.jar verify DIR} and {@code ... dump DIR [--partition TOPIC-N] [--records]} with the
 * server stopped. Reads only; changes nothing. Checks, per partition: every batch of every segment (framing,
 * magic, CRC-32C, record count, the records section when uncompressed), offsets (each segment starts where the
 * previous one ended, each batch right after the previous one), every index entry (it points at a batch with its
 * offset, and its maxTimestampBefore is right), every producer snapshot (readable, named by its offset, not above the
 * log end); and for the directory: {@code meta.properties}, and that the {@code producer-ids} file is above every
 * producer id in any log or snapshot. {@code dump} also prints every batch (and with {@code --records} every
 * record), the index and the producer state, like kafka-dump-log.
 *
 * <p>Exit codes: 0 nothing wrong (notes, such as the zeros preallocated after the last batch of a crashed server, are
 * not damage), 1 damage found (each problem is a line starting with {@code DAMAGE}, naming the file and byte
 * position), 2 usage error (bad arguments, not a data directory: none of meta.properties, producer-ids, topics/).
 */
public final class DataDirTool {
    /** Checks a file that storage does not own (meta.properties): a description, or CorruptFileException. */
    @FunctionalInterface
    public interface FileCheck {
        String check(Path file) throws IOException;
    }

    private static final String USAGE = """
        usage: java -jar idemlog-server.jar verify DIR
               java -jar idemlog-server.jar dump DIR [--partition TOPIC-N] [--records]
        DIR is the server's data.dir (holding meta.properties, producer-ids, topics/). Run with the server stopped.
        verify: checks every file; prints each problem (lines starting with DAMAGE) and a summary.
        dump:   the same checks, printing every batch (--records: every record), index and producer state.
        Exit code: 0 no damage, 1 damage found, 2 usage error.
        """;

    private final PrintStream out;
    private final boolean dump;
    private final boolean records;
    private final FileCheck metaCheck;
    private int damage;
    private int notes;
    private long maxProducerIdSeen = -1L;
    private String maxProducerIdWhere;

    private DataDirTool(PrintStream out, boolean dump, boolean records, FileCheck metaCheck) {
        this.out = out;
        this.dump = dump;
        this.records = records;
        this.metaCheck = metaCheck;
    }

    /** Whether {@code args} name a tool command (the first argument), as opposed to the server's options. */
    public static boolean isCommand(String[] args) {
        return args.length > 0 && (args[0].equals("verify") || args[0].equals("dump"));
    }

    /** Runs {@code verify} or {@code dump}; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err, FileCheck metaCheck) {
        if (!isCommand(args)) {
            err.print(USAGE);
            return 2;
        }
        boolean dump = args[0].equals("dump");
        Path dir = null;
        String partition = null;
        boolean records = false;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (dump && a.equals("--records")) {
                records = true;
            } else if (dump && a.equals("--partition") && i + 1 < args.length) {
                partition = args[++i];
            } else if (dump && a.startsWith("--partition=")) {
                partition = a.substring("--partition=".length());
            } else if (!a.startsWith("-") && dir == null) {
                dir = Paths.get(a);
            } else {
                err.println("idemlog " + args[0] + ": unexpected argument '" + a + "'");
                err.print(USAGE);
                return 2;
            }
        }
        if (dir == null) {
            err.println("idemlog " + args[0] + ": no data directory given");
            err.print(USAGE);
            return 2;
        }
        if (!Files.isDirectory(dir)) {
            err.println("idemlog " + args[0] + ": " + dir + " is not a directory");
            return 2;
        }
        if (!Files.exists(dir.resolve("meta.properties")) && !Files.exists(dir.resolve(ProducerIdAllocator.FILE_NAME))
            && !Files.isDirectory(dir.resolve(LogFiles.TOPICS_DIR))) {
            err.println("idemlog " + args[0] + ": " + dir + " is not a data directory (no meta.properties, "
                + ProducerIdAllocator.FILE_NAME + " or " + LogFiles.TOPICS_DIR + "/)");
            return 2;
        }
        if (partition != null && !Files.isDirectory(dir.resolve(LogFiles.TOPICS_DIR).resolve(partition))) {
            err.println("idemlog " + args[0] + ": no partition directory " + dir.resolve(LogFiles.TOPICS_DIR)
                .resolve(partition));
            return 2;
        }
        DataDirTool tool = new DataDirTool(out, dump, records, metaCheck);
        try {
            tool.verify(dir, partition);
        } catch (IOException e) {
            tool.damage(dir, -1, "cannot be read: " + e);
        }
        out.println((tool.damage == 0 ? "OK" : "DAMAGED") + ": " + dir + ": " + tool.damage + " problem(s), "
            + tool.notes + " note(s)");
        return tool.damage == 0 ? 0 : 1;
    }

    private void damage(Path file, long position, String problem) {
        damage++;
        out.println("DAMAGE " + file + (position >= 0 ? " at byte " + position : "") + ": " + problem);
    }

    private void note(Path file, String what) {
        notes++;
        out.println("NOTE " + file + ": " + what);
    }

    private void seenProducerId(long producerId, String where) {
        if (producerId > maxProducerIdSeen) {
            maxProducerIdSeen = producerId;
            maxProducerIdWhere = where;
        }
    }

    private void verify(Path dir, String onlyPartition) throws IOException {
        Path meta = dir.resolve("meta.properties");
        if (Files.exists(meta)) {
            try {
                String described = metaCheck.check(meta);
                if (dump) {
                    out.println("meta.properties: " + described);
                }
            } catch (CorruptFileException e) {
                damage(meta, e.position(), e.problem());
            }
        } else {
            note(meta, "missing (the server writes a new identity at start; fine for a new directory)");
        }
        Path topics = dir.resolve(LogFiles.TOPICS_DIR);
        List<Path> partitions = new ArrayList<>();
        if (Files.isDirectory(topics)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(topics)) {
                for (Path p : s) {
                    if (Files.isDirectory(p)) {
                        partitions.add(p);
                    }
                }
            }
        }
        partitions.sort(null);
        for (Path p : partitions) {
            if (onlyPartition == null || p.getFileName().toString().equals(onlyPartition)) {
                verifyPartition(p);
            } else {
                verifyPartitionQuietly(p);
            }
        }
        verifyProducerIds(dir);
    }

    /** Producer ids of a partition that is not dumped are still needed for the producer-ids check. */
    private void verifyPartitionQuietly(Path partition) throws IOException {
        DataDirTool quiet = new DataDirTool(new PrintStream(PrintStream.nullOutputStream()), false, false, metaCheck);
        quiet.verifyPartition(partition);
        if (quiet.maxProducerIdSeen > maxProducerIdSeen) {
            maxProducerIdSeen = quiet.maxProducerIdSeen;
            maxProducerIdWhere = quiet.maxProducerIdWhere;
        }
        damage += quiet.damage;
        notes += quiet.notes;
        if (quiet.damage > 0) {
            out.println("DAMAGE in " + partition + ": " + quiet.damage + " problem(s); dump it for details");
        }
    }

    private void verifyProducerIds(Path dir) throws IOException {
        Path file = dir.resolve(ProducerIdAllocator.FILE_NAME);
        long reservedEnd;
        try {
            reservedEnd = ProducerIdAllocator.readIfExists(dir);
        } catch (CorruptFileException e) {
            damage(file, e.position(), e.problem());
            return;
        }
        if (dump) {
            out.println(ProducerIdAllocator.FILE_NAME + ": " + (reservedEnd < 0 ? "missing" : "next id " + reservedEnd)
                + "; highest producer id in the logs and snapshots: " + maxProducerIdSeen
                + (maxProducerIdWhere == null ? "" : " (" + maxProducerIdWhere + ")"));
        }
        if (maxProducerIdSeen >= 0 && reservedEnd <= maxProducerIdSeen) {
            damage(file, -1, (reservedEnd < 0 ? "missing" : "says ids from " + reservedEnd + " on are unused")
                + ", but producer id " + maxProducerIdSeen + " is in " + maxProducerIdWhere + " (the server "
                + "continues above it at start, with a margin, so that no id is reused)");
        }
    }

    /** A segment file of a partition directory. */
    private record SegmentFile(long base, Path path) {
    }

    private void verifyPartition(Path partition) throws IOException {
        if (dump) {
            out.println("== " + partition);
        }
        TreeMap<Long, SegmentFile> segments = new TreeMap<>();
        List<Path> snapshots = new ArrayList<>();
        List<Path> indexes = new ArrayList<>();
        Path startFile = null;
        Path epochFile = null;
        String pendingSuffix = LogFiles.LOG_SUFFIX + LogFiles.PENDING_SUFFIX;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(partition)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (name.endsWith(LogFiles.DELETED_SUFFIX) || name.endsWith(DurableFiles.TMP_SUFFIX)) {
                    note(p, "left over (removed by retention, or an unfinished atomic write): the server deletes it");
                } else if (name.endsWith(pendingSuffix) && LogFiles.parseOffset(name, pendingSuffix) >= 0) {
                    note(p, "a roll was unfinished at a crash: the server recovers it like the last segment");
                    add(segments, LogFiles.parseOffset(name, pendingSuffix), p);
                } else if (name.endsWith(LogFiles.LOG_SUFFIX) && LogFiles.parseOffset(name, LogFiles.LOG_SUFFIX) >= 0) {
                    add(segments, LogFiles.parseOffset(name, LogFiles.LOG_SUFFIX), p);
                } else if (name.endsWith(LogFiles.INDEX_SUFFIX)) {
                    indexes.add(p);
                } else if (name.endsWith(ProducerSnapshotFile.SUFFIX)) {
                    snapshots.add(p);
                } else if (name.equals(LogStartOffsetFile.FILE_NAME)) {
                    startFile = p;
                } else if (name.equals(LeaderEpochFile.FILE_NAME)) {
                    epochFile = p;
                } else {
                    note(p, "not a file the server writes");
                }
            }
        }
        long expectedBase = -1L;
        long logEnd = 0L;
        SegmentFile last = segments.isEmpty() ? null : segments.lastEntry().getValue();
        for (SegmentFile segment : segments.values()) {
            if (expectedBase >= 0 && segment.base() != expectedBase) {
                damage(segment.path(), 0, "starts at offset " + segment.base() + " but the segment before it ends at "
                    + expectedBase + ": offsets are missing or overlap");
            }
            Scanned scanned = verifySegment(segment, segment == last);
            Path index = LogFiles.indexFile(partition, segment.base());
            indexes.remove(index);
            verifyIndex(index, segment, scanned, segment == last);
            expectedBase = scanned.nextOffset;
            logEnd = scanned.nextOffset;
        }
        for (Path stray : indexes) {
            note(stray, "an index without its segment");
        }
        snapshots.sort(null);
        for (Path snapshot : snapshots) {
            verifySnapshot(snapshot, logEnd);
        }
        if (startFile != null) {
            verifyLogStart(startFile, logEnd);
        }
        if (epochFile != null) {
            verifyLeaderEpochs(epochFile, logEnd);
        }
    }

    /** The leader epochs: readable; epochs starting at or after the log end are what recovery cuts. */
    private void verifyLeaderEpochs(Path file, long logEnd) throws IOException {
        try {
            LeaderEpochCache epochs = LeaderEpochFile.parse(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)),
                file.toString());
            if (dump) {
                out.println("leader epochs (epoch@first offset) " + epochs);
            }
            for (int i = 0; i < epochs.size(); i++) {
                if (epochs.startOffsetAt(i) >= logEnd) {
                    note(file, "epoch " + epochs.epochAt(i) + " starts at " + epochs.startOffsetAt(i)
                        + ", at or after the log end " + logEnd + ": its first batch did not survive a crash (the "
                        + "server cuts it at open)");
                }
            }
        } catch (CorruptFileException e) {
            damage(file, e.position(), e.problem() + " (the server refuses to open the partition)");
        }
    }

    /** The log start offset DeleteRecords stored: readable, and not above the log end. */
    private void verifyLogStart(Path file, long logEnd) throws IOException {
        try {
            long start = LogStartOffsetFile.parse(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)),
                file.toString());
            if (dump) {
                out.println("log start offset (DeleteRecords) " + start);
            }
            if (start > logEnd) {
                damage(file, 8 /* the offset field */, "log start offset " + start + " is above the log end "
                    + logEnd + " (acknowledged records are missing; the server starts the log at its end)");
            }
        } catch (CorruptFileException e) {
            damage(file, e.position(), e.problem() + " (the server refuses to open the partition)");
        }
    }

    private void add(TreeMap<Long, SegmentFile> segments, long base, Path p) {
        SegmentFile was = segments.putIfAbsent(base, new SegmentFile(base, p));
        if (was != null) {
            damage(p, -1, "both " + was.path().getFileName() + " and " + p.getFileName() + " exist: one is a stray "
                + "copy (the server refuses to open the partition)");
        }
    }

    /** What a segment scan found: each batch's {position, baseOffset, maxTimestampBefore}, and the end. */
    private static final class Scanned {
        final List<long[]> batches = new ArrayList<>();
        long nextOffset;
        long validBytes;
    }

    private Scanned verifySegment(SegmentFile segment, boolean isLast) throws IOException {
        Scanned result = new Scanned();
        Path file = segment.path();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (dump) {
                out.println("segment " + file.getFileName() + " (" + (isLast ? "last" : "sealed") + ", " + size
                    + " bytes)");
            }
            BatchScanner scanner = new BatchScanner().open(channel, 0, Math.min(size, Integer.MAX_VALUE));
            Varints.Cursor cursor = new Varints.Cursor();
            RecordReader reader = new RecordReader();
            long[] maxTimestamp = {-1L};
            BatchScanner.Walk walk = scanner.walk(segment.base(),
                "incomplete batch (batchLength runs past the end of the file, or less than a header)",
                (batch, position) -> {
                    if (batch.compression() == 0 && !batch.validateRecords(cursor)) {
                        return "the records section does not parse as " + batch.recordsCount() + " records";
                    }
                    result.batches.add(new long[] {position, batch.baseOffset(), maxTimestamp[0]});
                    if (batch.producerId() >= 0) {
                        seenProducerId(batch.producerId(), file + " at byte " + position);
                    }
                    if (dump) {
                        printBatch(batch, position, reader);
                    }
                    maxTimestamp[0] = Math.max(maxTimestamp[0], batch.maxTimestamp());
                    return null;
                });
            long expected = walk.nextOffset();
            String problem = walk.problem();
            result.nextOffset = expected;
            long at = walk.position();
            result.validBytes = problem == null ? size : at;
            if (problem != null) {
                if (isLast && zeros(channel, at, size)) {
                    note(file, (size - at) + " zero bytes after the last batch (preallocated; the server cuts them)");
                } else {
                    damage(file, at, problem + (isLast ? " (in the last segment: a torn write after a crash looks the "
                        + "same; the server truncates the segment here at start, losing what follows)"
                        : " in a sealed segment: the server serves the batches before it and answers "
                        + "KAFKA_STORAGE_ERROR from there on"));
                }
            }
            if (dump) {
                out.println("  " + result.batches.size() + " batches, offsets " + segment.base() + " to "
                    + (expected - 1));
            }
        }
        return result;
    }

    private void printBatch(RecordBatch b, long position, RecordReader reader) {
        out.println("  baseOffset: " + b.baseOffset() + " lastOffset: " + b.lastOffset() + " count: "
            + b.recordsCount() + " position: " + position + " size: " + b.sizeInBytes() + " magic: " + b.magic()
            + " crc: " + b.crc() + " compression: " + b.compression() + " producerId: " + b.producerId()
            + " producerEpoch: " + b.producerEpoch() + " baseSequence: " + b.baseSequence() + " lastSequence: "
            + b.lastSequence() + " maxTimestamp: " + b.maxTimestamp() + (b.isTransactional() ? " transactional"
            : "") + (b.isControl() ? " control" : ""));
        if (records && b.compression() == 0) {
            reader.wrap(b.buffer(), b.offset());
            while (reader.next()) {
                out.println("  | offset: " + reader.offset + " timestamp: " + reader.timestamp + " keySize: "
                    + reader.keyLength + " valueSize: " + reader.valueLength + " headers: " + reader.headerCount
                    + (reader.keyLength >= 0 ? " key: " + printable(reader.key()) : "")
                    + (reader.valueLength >= 0 ? " value: " + printable(reader.value()) : ""));
            }
        }
    }

    /** Up to 64 bytes as text when printable ASCII, else as hex. */
    private static String printable(byte[] bytes) {
        int n = Math.min(bytes.length, 64);
        boolean text = true;
        for (int i = 0; i < n; i++) {
            if (bytes[i] < 0x20 || bytes[i] > 0x7e) {
                text = false;
                break;
            }
        }
        StringBuilder sb = new StringBuilder();
        if (text) {
            sb.append(new String(bytes, 0, n, StandardCharsets.US_ASCII));
        } else {
            sb.append("0x");
            for (int i = 0; i < n; i++) {
                sb.append(String.format("%02x", bytes[i]));
            }
        }
        return bytes.length > n ? sb.append("...").toString() : sb.toString();
    }

    private void verifyIndex(Path index, SegmentFile segment, Scanned scanned, boolean isLast) throws IOException {
        if (!Files.exists(index)) {
            if (!isLast) {
                damage(index, -1, "missing for a sealed segment (the server rebuilds it from the log at start)");
            }
            return;
        }
        String consequence = isLast ? " (the index of the last segment is rebuilt at start; the file is ignored)"
            : " (the server rebuilds the index from the log when it finds this)";
        SegmentIndex parsed;
        try (FileChannel channel = FileChannel.open(index, StandardOpenOption.READ)) {
            parsed = SegmentIndex.load(channel, index.toString(), (int) Math.min(Integer.MAX_VALUE,
                Math.max(1, Files.size(segment.path()))));
        } catch (CorruptFileException e) {
            report(isLast, index, e.position(), e.problem() + consequence);
            return;
        }
        int b = 0;
        List<long[]> batches = scanned.batches;
        for (int i = 0; i < parsed.count(); i++) {
            long position = parsed.position(i);
            long offset = segment.base() + parsed.relativeOffset(i);
            while (b < batches.size() && batches.get(b)[0] < position) {
                b++;
            }
            long entryAt = (long) i * SegmentIndex.ENTRY_SIZE;
            if (b >= batches.size()) {
                if (position < scanned.validBytes) {
                    report(isLast, index, entryAt, "entry " + i + " points at byte " + position
                        + ", which is not a batch boundary" + consequence);
                }
                // entries past damage in the segment are not checked: the segment's damage is reported
                break;
            }
            long[] batch = batches.get(b);
            if (batch[0] != position) {
                report(isLast, index, entryAt, "entry " + i + " (offset " + offset + ") points at byte " + position
                    + ", inside the batch that starts at byte " + batches.get(Math.max(0, b - 1))[0] + consequence);
                return;
            }
            if (batch[1] != offset) {
                report(isLast, index, entryAt, "entry " + i + " names offset " + offset + " but the batch at byte "
                    + position + " starts at offset " + batch[1] + consequence);
                return;
            }
            // maxTimestampBefore: the largest maxTimestamp of the batches before; the live rule is exactly that
            long maxBefore = parsed.maxTimestampBefore(i);
            if (maxBefore != batch[2]) {
                report(isLast, index, entryAt + SegmentIndex.MAX_TIMESTAMP_BEFORE_OFFSET, "entry " + i
                    + " has maxTimestampBefore " + maxBefore + " but the batches before it reach " + batch[2]
                    + consequence);
                return;
            }
        }
        if (dump) {
            out.println("index " + index.getFileName() + ": " + parsed.count() + " entries checked");
        }
    }

    private void report(boolean noteOnly, Path file, long position, String problem) {
        if (noteOnly) {
            note(file, (position >= 0 ? "at byte " + position + ": " : "") + problem);
        } else {
            damage(file, position, problem);
        }
    }

    private void verifySnapshot(Path file, long logEnd) throws IOException {
        long named = ProducerSnapshotFile.offsetOf(file);
        ReferenceProducerStateTable table = new ReferenceProducerStateTable(Integer.MAX_VALUE, Long.MAX_VALUE);
        ProducerSnapshotFile.Loaded loaded;
        try {
            loaded = ProducerSnapshotFile.load(file, table);
        } catch (CorruptFileException e) {
            damage(file, e.position(), e.problem() + " (the server ignores and deletes it at start, and uses an older "
                + "snapshot or replays the log)");
            return;
        }
        if (named >= 0 && loaded.logOffset() != named) {
            damage(file, ProducerSnapshotFile.LOG_OFFSET_OFFSET, "holds the state at offset " + loaded.logOffset()
                + ", not the one its name says");
        }
        if (loaded.logOffset() > logEnd) {
            note(file, "describes offset " + loaded.logOffset() + ", above the log end " + logEnd
                + " (the server deletes it at start)");
        }
        if (loaded.maxProducerId() >= 0) {
            seenProducerId(loaded.maxProducerId(), file.toString());
        }
        if (dump) {
            out.println("snapshot " + file.getFileName() + ": state at offset " + loaded.logOffset() + ", "
                + table.size() + " producers, highest producer id " + loaded.maxProducerId());
        }
        table.forEachOldestFirst(new ProducerEntryVisitor() {
            @Override
            public void producer(long producerId, short epoch, long lastWriteMs, int batchCount) {
                seenProducerId(producerId, file.toString());
                if (dump) {
                    out.println("  producerId: " + producerId + " epoch: " + epoch + " lastWriteMs: " + lastWriteMs
                        + " batches: " + batchCount);
                }
            }

            @Override
            public void batch(int firstSequence, int lastOffsetDelta, long firstOffset) {
                if (dump) {
                    out.println("    sequences " + firstSequence + "-" + (firstSequence + lastOffsetDelta)
                        + " at offsets " + firstOffset + "-" + (firstOffset + lastOffsetDelta));
                }
            }
        });
    }

    private static boolean zeros(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long p = from;
        while (p < to) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - p));
            int n = channel.read(buf, p);
            if (n <= 0) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (buf.get(i) != 0) {
                    return false;
                }
            }
            p += n;
        }
        return from < to;
    }
}
