package io.idemlog.server.metadata;

import io.idemlog.common.record.Crc32c;
import io.idemlog.server.state.CorruptFileException;
import io.idemlog.server.state.DurableFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The durable topic metadata: a log of checksummed {@link MetadataRecord}s plus a snapshot, in
 * {@code <data dir>/metadata/}. An append is written and fsync'd before it is applied to the {@link TopicsImage}
 * and before the caller acts on it (creates directories, answers the client). Every {@value #SNAPSHOT_EVERY}
 * records the whole image is written as a snapshot (write, fsync, rename, directory fsync) and the log restarts
 * empty, so start-up replays at most that many records.
 *
 * <p>Files: {@code metadata.log} = 8-byte magic {@code IDLMLOG1}, then records, each
 * {@code [int32 length][int32 crc32c of body][body: int64 offset, record bytes]}; {@code metadata.snapshot} = magic
 * {@code IDLMSNP1}, int64 last offset, int32 count, the image as TopicCreated records framed as in the log, then an
 * int32 crc32c of everything before it. Offsets increase by one across both files; log records at or below the
 * snapshot's offset (a crash between the snapshot and the log restart) are skipped.
 *
 * <p>Damage: a last log record cut short or with a bad checksum (a torn append: the crash came before its fsync, so
 * nobody was told it happened) is truncated with a warning; anything else (a bad record followed by more, offsets
 * out of order, a record that does not apply, a damaged snapshot) refuses to start with a
 * {@link CorruptFileException} naming the file and position.
 *
 * <p>Thread-safe: appends and reads of the image are serialised by this object's lock.
 */
public final class MetadataStore implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataStore.class);
    static final String DIR = "metadata";
    static final String LOG_FILE = "metadata.log";
    static final String SNAPSHOT_FILE = "metadata.snapshot";
    private static final byte[] LOG_MAGIC = "IDLMLOG1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SNAPSHOT_MAGIC = "IDLMSNP1".getBytes(StandardCharsets.US_ASCII);
    static final int SNAPSHOT_EVERY = 1000;
    private static final int MAX_RECORD_BYTES = 64 << 20;

    private final Path dir;
    private final TopicsImage image = new TopicsImage();
    private FileChannel log;
    private long nextOffset;
    private int recordsInLog;
    private boolean failed;
    private boolean closed;
    /** Whether the store had no files when opened (a new data directory, or one from before topic metadata). */
    private boolean isNew;

    private MetadataStore(Path dir) {
        this.dir = dir;
    }

    /** Opens (creating if needed) the metadata of a data directory and loads it. */
    public static MetadataStore open(Path dataDir) throws IOException {
        Path dir = dataDir.resolve(DIR);
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            DurableFiles.fsyncDirectory(dataDir);
        }
        Files.deleteIfExists(dir.resolve(SNAPSHOT_FILE + DurableFiles.TMP_SUFFIX));
        Files.deleteIfExists(dir.resolve(LOG_FILE + DurableFiles.TMP_SUFFIX));
        MetadataStore store = new MetadataStore(dir);
        store.isNew = !Files.exists(dir.resolve(LOG_FILE)) && !Files.exists(dir.resolve(SNAPSHOT_FILE));
        store.load();
        return store;
    }

    private void load() throws IOException {
        long snapshotOffset = -1L;
        Path snap = dir.resolve(SNAPSHOT_FILE);
        if (Files.exists(snap)) {
            snapshotOffset = loadSnapshot(snap);
        }
        nextOffset = snapshotOffset + 1;
        Path logPath = dir.resolve(LOG_FILE);
        if (!Files.exists(logPath)) {
            resetLog();
        } else {
            long validEnd = replayLog(logPath, snapshotOffset);
            log = FileChannel.open(logPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (validEnd < log.size()) {
                LOG.warn("{}: the last record (from byte {}) is incomplete: an append cut short by a crash; "
                    + "truncating it", logPath, validEnd);
                log.truncate(validEnd);
                log.force(true);
            }
            log.position(validEnd);
        }
        LOG.info("topic metadata loaded from {}: {} topics, next offset {}", dir, image.topics().size(), nextOffset);
    }

    private long loadSnapshot(Path snap) throws IOException {
        byte[] all = Files.readAllBytes(snap);
        ByteBuffer b = ByteBuffer.wrap(all);
        if (all.length < SNAPSHOT_MAGIC.length + 16 || !startsWith(all, SNAPSHOT_MAGIC)) {
            throw new CorruptFileException(snap, 0, "not a metadata snapshot (bad magic or too short)");
        }
        int crcAt = all.length - 4;
        long crc = Crc32c.compute(all, 0, crcAt) & 0xffffffffL;
        if (crc != (b.getInt(crcAt) & 0xffffffffL)) {
            throw new CorruptFileException(snap, crcAt, "checksum mismatch: the snapshot is damaged");
        }
        b.position(SNAPSHOT_MAGIC.length);
        long lastOffset = b.getLong();
        int count = b.getInt();
        b.limit(crcAt);
        for (int i = 0; i < count; i++) {
            int at = b.position();
            MetadataRecord r = readFramed(b, snap, at, null);
            if (r == null) {
                throw new CorruptFileException(snap, at, "record " + i + " of " + count + " is cut short");
            }
            applyOrCorrupt(r, snap, at);
        }
        if (b.hasRemaining()) {
            throw new CorruptFileException(snap, b.position(), "bytes after the last record");
        }
        return lastOffset;
    }

    /** Replays the log after the snapshot; returns where its valid part ends. */
    private long replayLog(Path path, long snapshotOffset) throws IOException {
        byte[] all = Files.readAllBytes(path);
        if (all.length < LOG_MAGIC.length) {
            // Cut short while being created: it held no record yet.
            LOG.warn("{}: shorter than its header; starting it again", path);
            return rewriteEmptyLog(path);
        }
        if (!startsWith(all, LOG_MAGIC)) {
            throw new CorruptFileException(path, 0, "not a metadata log (bad magic)");
        }
        ByteBuffer b = ByteBuffer.wrap(all);
        b.position(LOG_MAGIC.length);
        long[] offset = new long[1];
        while (b.hasRemaining()) {
            int at = b.position();
            MetadataRecord r;
            try {
                r = readFramed(b, path, at, offset);
            } catch (CorruptFileException e) {
                if (b.limit() == all.length && isLastRecord(all, at)) {
                    return at; // a torn last append
                }
                throw e;
            }
            if (r == null) {
                return at; // cut short
            }
            if (offset[0] <= snapshotOffset) {
                continue;
            }
            if (offset[0] != nextOffset) {
                throw new CorruptFileException(path, at, "record offset " + offset[0] + " where " + nextOffset
                    + " was expected");
            }
            applyOrCorrupt(r, path, at);
            nextOffset++;
            recordsInLog++;
        }
        return all.length;
    }

    private long rewriteEmptyLog(Path path) throws IOException {
        DurableFiles.writeAtomically(path, ch -> DurableFiles.writeFully(ch, ByteBuffer.wrap(LOG_MAGIC)));
        return LOG_MAGIC.length;
    }

    /** Whether the framed record at {@code at} claims to reach the end of the file (or beyond). */
    private static boolean isLastRecord(byte[] all, int at) {
        if (all.length - at < 8) {
            return true;
        }
        int len = ByteBuffer.wrap(all).getInt(at);
        return len < 0 || (long) at + 8 + len >= all.length;
    }

    /**
     * One framed record at {@code b}'s position: null when the bytes end before it does; throws for a bad
     * length, checksum or body. With {@code offset} non-null the body starts with an int64 offset, stored there.
     */
    private static MetadataRecord readFramed(ByteBuffer b, Path file, int at, long[] offset)
        throws CorruptFileException {
        if (b.remaining() < 8) {
            return null;
        }
        int len = b.getInt();
        int crc = b.getInt();
        int minLen = offset != null ? 9 : 1;
        if (len < minLen || len > MAX_RECORD_BYTES) {
            throw new CorruptFileException(file, at, "bad record length " + len);
        }
        if (b.remaining() < len) {
            return null;
        }
        int bodyAt = b.position();
        long actual = Crc32c.compute(b.array(), bodyAt, len) & 0xffffffffL;
        if (actual != (crc & 0xffffffffL)) {
            throw new CorruptFileException(file, at, "record checksum mismatch");
        }
        ByteBuffer body = b.slice(bodyAt, len);
        b.position(bodyAt + len);
        if (offset != null) {
            offset[0] = body.getLong();
            body = body.slice();
        }
        try {
            return MetadataRecord.decode(body);
        } catch (IllegalArgumentException e) {
            throw new CorruptFileException(file, at, "undecodable record: " + e.getMessage());
        }
    }

    private void applyOrCorrupt(MetadataRecord r, Path file, int at) throws CorruptFileException {
        try {
            image.apply(r);
        } catch (IllegalStateException e) {
            throw new CorruptFileException(file, at, "record does not apply: " + e.getMessage());
        }
    }

    private static boolean startsWith(byte[] all, byte[] magic) {
        for (int i = 0; i < magic.length; i++) {
            if (all[i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes the record durably (write + fsync), then applies it. The record must apply to the current image
     * (checked first, on a copy of the affected topic, so a refused record writes nothing).
     *
     * @throws IllegalStateException when the record does not apply
     * @throws IOException           when it could not be made durable: the store then refuses further appends
     *                               (the file may hold a partial record, truncated at the next start)
     */
    public synchronized void append(MetadataRecord record) throws IOException {
        if (closed) {
            throw new IOException("the metadata store is closed");
        }
        if (failed) {
            throw new IOException("the metadata log failed earlier; restart the server");
        }
        checkApplies(record);
        byte[] body = record.encode();
        ByteBuffer framed = ByteBuffer.allocate(8 + 8 + body.length);
        framed.putInt(8 + body.length).putInt(0).putLong(nextOffset).put(body);
        framed.putInt(4, (int) Crc32c.compute(framed.array(), 8, 8 + body.length));
        framed.flip();
        try {
            DurableFiles.writeFully(log, framed);
            log.force(false);
        } catch (IOException e) {
            failed = true;
            throw e;
        }
        image.apply(record);
        nextOffset++;
        recordsInLog++;
        if (recordsInLog >= SNAPSHOT_EVERY) {
            try {
                snapshot();
            } catch (IOException e) {
                // The log still holds everything: a failed snapshot only means a longer replay.
                LOG.warn("{}: cannot write the metadata snapshot", dir, e);
            }
        }
    }

    private void checkApplies(MetadataRecord record) {
        TopicsImage probe = new TopicsImage();
        if (record instanceof MetadataRecord.TopicCreated t) {
            if (image.topic(t.name()) != null || image.topic(t.id()) != null) {
                throw new IllegalStateException("topic " + t.name() + " already exists");
            }
        } else if (record instanceof MetadataRecord.PartitionsAdded p) {
            copyInto(probe, p.id());
        } else if (record instanceof MetadataRecord.ConfigsReplaced c) {
            copyInto(probe, c.id());
        } else if (record instanceof MetadataRecord.TopicDeleted d) {
            copyInto(probe, d.id());
        }
        probe.apply(record);
    }

    private void copyInto(TopicsImage probe, java.util.UUID id) {
        TopicsImage.Topic t = image.topic(id);
        if (t == null) {
            throw new IllegalStateException("no topic with id " + id);
        }
        probe.apply(new MetadataRecord.TopicCreated(t.name(), t.id(), t.partitions(), t.configs()));
    }

    /** Writes the whole image as the snapshot, then starts the log again empty. */
    synchronized void snapshot() throws IOException {
        List<TopicsImage.Topic> topics = new ArrayList<>(image.topics().values());
        long lastOffset = nextOffset - 1;
        List<byte[]> bodies = new ArrayList<>(topics.size());
        int size = SNAPSHOT_MAGIC.length + 12 + 4;
        for (TopicsImage.Topic t : topics) {
            byte[] body = new MetadataRecord.TopicCreated(t.name(), t.id(), t.partitions(), t.configs()).encode();
            bodies.add(body);
            size += 8 + body.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put(SNAPSHOT_MAGIC).putLong(lastOffset).putInt(bodies.size());
        for (byte[] body : bodies) {
            out.putInt(body.length).putInt((int) Crc32c.compute(body, 0, body.length)).put(body);
        }
        out.putInt((int) Crc32c.compute(out.array(), 0, out.position()));
        out.flip();
        DurableFiles.writeAtomically(dir.resolve(SNAPSHOT_FILE), ch -> DurableFiles.writeFully(ch, out));
        if (log != null) {
            log.close();
        }
        resetLog();
        recordsInLog = 0;
    }

    private void resetLog() throws IOException {
        Path path = dir.resolve(LOG_FILE);
        rewriteEmptyLog(path);
        log = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        log.position(log.size());
    }

    /** The current topic, or null. */
    public synchronized TopicsImage.Topic topic(String name) {
        return image.topic(name);
    }

    /** The current topic with this id, or null. */
    public synchronized TopicsImage.Topic topic(java.util.UUID id) {
        return image.topic(id);
    }

    /** A copy of every topic by name. */
    public synchronized java.util.Map<String, TopicsImage.Topic> topics() {
        return new java.util.TreeMap<>(image.topics());
    }

    /** The offset the next record gets (records applied so far, snapshot included). */
    public synchronized long nextOffset() {
        return nextOffset;
    }

    Path dir() {
        return dir;
    }

    /**
     * Whether the store had no files when opened: a new data directory, or one written before topic metadata
     * existed (whose topic directories are then adopted).
     */
    public boolean isNew() {
        return isNew;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (log != null) {
            log.close();
        }
    }
}
