package io.idemlog.server.group;

import io.idemlog.server.state.DurableFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The committed offsets on disk, under {@code <data dir>/group-offsets/}: an append-only record log
 * ({@code offsets-<generation>.log}) of puts and deletes keyed by (group, topic, partition), plus one snapshot
 * ({@code offsets.snapshot}) of every live offset as of the end of a generation's log. Compaction by snapshot: once
 * the active log has grown past {@code max(compactBytes, snapshot size)}, the live offsets are written as a new
 * snapshot (temp file, fsync, atomic rename, directory fsync), a new log generation is started and the old one
 * deleted; so a restart reads at most about twice the live state, however long the commit history.
 *
 * <p>Record: {@code int32 length, int32 crc32c(payload), payload}; payload: {@code int8 type (1 put, 2 delete),
 * string group, string topic, int32 partition} and for a put {@code int64 offset, int32 leader epoch, string
 * metadata, int64 commit timestamp, int64 expire timestamp}; a group record: {@code int8 type (3 put, 4 delete),
 * string group} and for a put {@code string protocol type, int64 empty since (-1: it has members)}; strings are
 * {@code int32 length + UTF-8}. Snapshot: {@code int32 magic, int16 version (1: offsets only, 2: with group
 * records), int64 generation, int32 count, count put payloads (each length-prefixed), int32 crc32c of all before}. A torn record at the end of the last log (a crash during its write: never
 * acknowledged, since answers wait for the fsync) is cut off on open; damage anywhere else refuses to start.
 *
 * <p>Appends are buffered and written with one write + one fdatasync per {@link #sync()}: the group commit of the
 * coordinator thread. After an I/O error the journal is failed: every later {@link #whenDurable} says false.
 * Not thread-safe: the coordinator thread only.
 */
public final class FileOffsetJournal implements OffsetJournal {
    private static final Logger LOG = LoggerFactory.getLogger(FileOffsetJournal.class);
    public static final String DIR = "group-offsets";
    static final String SNAPSHOT = "offsets.snapshot";
    private static final int SNAPSHOT_MAGIC = 0x1D3C0FF5;
    private static final short SNAPSHOT_VERSION = 2;

    private final Path dir;
    private final long compactBytes;
    private FileChannel log;
    private long generation;
    private long logBytes;
    private long snapshotBytes;
    private OffsetRecords pending = new OffsetRecords(64 * 1024);
    private final List<DurableAction> waiting = new ArrayList<>();
    private boolean failed;
    private long syncs;
    private long compactions;
    private Map<String, GroupRecord> loadedGroups = Map.of();

    /**
     * @param compactBytes the active log is compacted into a snapshot once it is larger than this and than the last
     *                     snapshot
     */
    public FileOffsetJournal(Path dataDir, long compactBytes) {
        this.dir = dataDir.resolve(DIR);
        this.compactBytes = compactBytes;
    }

    @Override
    public Map<String, Map<TopicPartition, OffsetValue>> load() throws IOException {
        Map<String, Map<TopicPartition, OffsetValue>> state = new TreeMap<>();
        Map<String, GroupRecord> groups = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            DurableFiles.fsyncDirectory(dir.getParent());
        }
        long snapshotGeneration = 0;
        Path snapshot = dir.resolve(SNAPSHOT);
        if (Files.exists(snapshot)) {
            snapshotGeneration = readSnapshot(snapshot, state, groups);
            snapshotBytes = Files.size(snapshot);
        }
        TreeMap<Long, Path> logs = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "offsets-*.log")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                logs.put(Long.parseLong(name.substring("offsets-".length(), name.length() - ".log".length())), f);
            }
        } catch (NumberFormatException e) {
            throw new IOException("unexpected file name in " + dir + ": " + e.getMessage(), e);
        }
        for (Map.Entry<Long, Path> e : logs.entrySet()) {
            if (e.getKey() <= snapshotGeneration) {
                Files.delete(e.getValue()); // already in the snapshot: a compaction stopped before deleting it
            }
        }
        NavigableMap<Long, Path> live = logs.tailMap(snapshotGeneration, false);
        long last = live.isEmpty() ? snapshotGeneration + 1 : live.lastKey();
        for (Map.Entry<Long, Path> e : live.entrySet()) {
            replay(e.getValue(), state, groups, e.getKey() == last);
        }
        generation = last;
        Path active = logPath(generation);
        boolean created = !Files.exists(active);
        log = FileChannel.open(active, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        logBytes = log.size();
        log.position(logBytes);
        if (created) {
            DurableFiles.fsyncDirectory(dir);
        }
        loadedGroups = groups;
        return state;
    }

    private Path logPath(long gen) {
        return dir.resolve(String.format("offsets-%020d.log", gen));
    }

    @Override
    public Map<String, GroupRecord> loadedGroups() {
        return loadedGroups;
    }

    private static long readSnapshot(Path file, Map<String, Map<TopicPartition, OffsetValue>> state,
                                     Map<String, GroupRecord> groups) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        if (b.remaining() < 22) {
            throw new IOException("offsets snapshot " + file + " is truncated");
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.limit() - 4);
        if ((int) crc.getValue() != b.getInt(b.limit() - 4)) {
            throw new IOException("offsets snapshot " + file + " is damaged (checksum)");
        }
        int magic = b.getInt();
        short version = b.getShort();
        if (magic != SNAPSHOT_MAGIC || version < 1 || version > SNAPSHOT_VERSION) {
            throw new IOException("offsets snapshot " + file + ": unknown format");
        }
        long gen = b.getLong();
        int count = b.getInt();
        for (int i = 0; i < count; i++) {
            int len = b.getInt();
            ByteBuffer payload = b.slice(b.position(), len);
            b.position(b.position() + len);
            OffsetRecords.applyPayload(payload, state, groups);
        }
        return gen;
    }

    private void replay(Path file, Map<String, Map<TopicPartition, OffsetValue>> state,
                        Map<String, GroupRecord> groups, boolean isLast) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        while (b.remaining() > 0) {
            int start = b.position();
            if (!OffsetRecords.intactFrameAt(b)) {
                if (!isLast) {
                    throw new IOException("offsets log " + file + " is damaged at byte " + start);
                }
                LOG.warn("offsets log {}: cutting a torn record at byte {} ({} bytes; never acknowledged)", file,
                    start, b.limit() - start);
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(start);
                    ch.force(true);
                }
                return;
            }
            int len = b.getInt(start);
            OffsetRecords.applyPayload(b.slice(start + 8, len), state, groups);
            b.position(start + 8 + len);
        }
    }

    @Override
    public void put(String group, TopicPartition tp, OffsetValue v) {
        pending.put(group, tp, v);
    }

    @Override
    public void delete(String group, TopicPartition tp) {
        pending.delete(group, tp);
    }

    @Override
    public void putGroup(String group, GroupRecord r) {
        pending.putGroup(group, r);
    }

    @Override
    public void deleteGroup(String group) {
        pending.deleteGroup(group);
    }

    @Override
    public void whenDurable(DurableAction action) {
        if (failed) {
            action.run(false);
        } else if (pending.isEmpty() && waiting.isEmpty()) {
            action.run(true);
        } else {
            waiting.add(action);
        }
    }

    @Override
    public boolean hasPending() {
        return !pending.isEmpty() || !waiting.isEmpty();
    }

    @Override
    public void sync() {
        if (!failed && !pending.isEmpty()) {
            try {
                ByteBuffer out = pending.readable();
                int bytes = out.remaining();
                while (out.hasRemaining()) {
                    log.write(out);
                }
                log.force(false);
                logBytes += bytes;
                syncs++;
            } catch (IOException | RuntimeException e) {
                failed = true;
                LOG.error("cannot write the committed offsets to {}: the group coordinator stops accepting commits",
                    dir, e);
            } finally {
                pending.clear();
            }
        }
        List<DurableAction> run = new ArrayList<>(waiting);
        waiting.clear();
        for (DurableAction a : run) {
            try {
                a.run(!failed);
            } catch (RuntimeException e) {
                // one broken answer must not keep the others waiting
                LOG.error("an offsets answer failed", e);
            }
        }
    }

    /** Whether an I/O error stopped the journal. */
    public boolean failed() {
        return failed;
    }

    public long syncs() {
        return syncs;
    }

    public long compactions() {
        return compactions;
    }

    /** Bytes of the active log (what a restart replays after the snapshot). */
    public long logBytes() {
        return logBytes;
    }

    @Override
    public boolean wantsCompaction() {
        return !failed && !hasPending() && logBytes > Math.max(compactBytes, snapshotBytes);
    }

    @Override
    public void compact(Map<String, Map<TopicPartition, OffsetValue>> offsets, Map<String, GroupRecord> groups) {
        try {
            writeSnapshot(offsets, groups);
        } catch (IOException e) {
            // the old log and snapshot are still whole: carry on with them, try again later
            LOG.warn("offsets compaction failed (the log keeps growing until it succeeds)", e);
            snapshotBytes = logBytes; // next attempt once the log has doubled, not at every loop

        }
    }

    private void writeSnapshot(Map<String, Map<TopicPartition, OffsetValue>> offsets, Map<String, GroupRecord> groups)
        throws IOException {
        // every live record, encoded as the log encodes it, into a buffer of its own (pending stays as it is)
        OffsetRecords all = new OffsetRecords(1024);
        all.putAll(offsets, groups);
        int count = all.count();
        ByteBuffer records = all.readable();
        ByteBuffer b = ByteBuffer.allocate(18 + records.remaining() + 4);
        b.putInt(SNAPSHOT_MAGIC).putShort(SNAPSHOT_VERSION).putLong(generation).putInt(count);
        while (records.hasRemaining()) {
            // a log record is int32 length, int32 crc, payload; a snapshot entry is int32 length, payload
            int len = records.getInt();
            records.getInt();
            b.putInt(len).put(records.array(), records.position(), len);
            records.position(records.position() + len);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        b.flip();
        Path tmp = dir.resolve(SNAPSHOT + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, dir.resolve(SNAPSHOT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        DurableFiles.fsyncDirectory(dir);
        snapshotBytes = b.limit();
        long oldGeneration = generation;
        FileChannel next = FileChannel.open(logPath(oldGeneration + 1), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE, StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
        DurableFiles.fsyncDirectory(dir);
        log.close();
        log = next;
        generation = oldGeneration + 1;
        logBytes = 0;
        Files.deleteIfExists(logPath(oldGeneration));
        DurableFiles.fsyncDirectory(dir);
        compactions++;
        LOG.info("offsets compacted: snapshot of {} offsets ({} bytes), log generation {}", count, snapshotBytes,
            generation);
    }

    @Override
    public void close() throws IOException {
        sync();
        if (log != null) {
            log.close();
        }
    }
}
