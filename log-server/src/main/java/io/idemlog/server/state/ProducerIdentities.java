package io.idemlog.server.state;

import org.agrona.collections.Long2LongHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Stable producer identities (issue 11, docs/DEDUP.md "Stable producer identity"): a producer that names itself
 * ({@code producer.name} in the idemlog producer) gets the same producer id at every InitProducerId, with an epoch
 * above any its earlier incarnations can have used, and batches of those earlier incarnations are refused with
 * INVALID_PRODUCER_EPOCH (they are fenced) without transactions.
 *
 * <p>Epochs are handed out in blocks of {@link #EPOCH_BLOCK}: an incarnation answered epoch E may bump its epoch
 * locally (KIP-360, after an unresolved sequence) only up to E + EPOCH_BLOCK - 1 (the idemlog producer enforces it),
 * and the next incarnation gets E + EPOCH_BLOCK, so it is above every epoch the old one reached, local bumps
 * included. Batches of a named producer id with an epoch below its current block are fenced. When the epochs of a
 * producer id run out, the name gets a new producer id and the old one stays fenced at every epoch.
 *
 * <p>Durable: every change is appended to {@code producer-identities} in the data directory (length, CRC-32C,
 * producer id, epoch, name) and fsync'd before the answer; on open the file is read up to its first damaged record
 * (a torn tail) and rewritten compacted. Bounded: at most {@code maxNames} names; beyond it the least recently
 * initialised is forgotten (counted): its next InitProducerId is answered like a new name's, with a new id.
 *
 * <p>Thread-safe: changes are serialised (they run on the storage-io thread anyway); {@link #currentEpoch}, called
 * for every produced batch, reads a published immutable map without locking or allocating.
 */
public final class ProducerIdentities implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerIdentities.class);
    public static final String FILE = "producer-identities";
    /** Epochs per incarnation: the local bumps an incarnation may make, plus one. */
    public static final int EPOCH_BLOCK = 16;
    /** Longest name accepted, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 1024;
    private static final int RECORD_HEADER = 4 + 4 + 8 + 2;
    /** An epoch that fences every batch of a retired producer id. */
    public static final long RETIRED = Short.MAX_VALUE + 1L;

    /**
     * The epoch the next incarnation of a name whose current incarnation was answered {@code epoch} gets (the next
     * epoch block), or -1 when its epochs have run out (the name then needs a new producer id, the old one retired).
     * The one rule of a single node's table and the cluster's metadata group.
     */
    public static int nextIncarnationEpoch(short epoch) {
        return epoch + 2L * EPOCH_BLOCK - 1 > Short.MAX_VALUE ? -1 : epoch + EPOCH_BLOCK;
    }

    /** The answer to a named InitProducerId. */
    public record Identity(long producerId, short epoch) {
    }

    /** Allocates a producer id never handed out before. */
    @FunctionalInterface
    public interface IdSource {
        long next() throws IOException;
    }

    private final Path file;
    private final int maxNames;
    private final LinkedHashMap<String, Identity> byName = new LinkedHashMap<>(16, 0.75f, true);
    /** Named (and retired) producer ids to their current epoch block start; replaced, never changed, once published. */
    private volatile Long2LongHashMap fenceBelow = new Long2LongHashMap(-1L);
    private final Long2LongHashMap retired = new Long2LongHashMap(-1L);
    private FileChannel channel;
    private long records;
    private long evictions;

    private ProducerIdentities(Path file, int maxNames) {
        this.file = file;
        this.maxNames = maxNames;
    }

    /** Opens (creating it if needed) the identities file in {@code dataDir}. */
    public static ProducerIdentities open(Path dataDir, int maxNames) throws IOException {
        ProducerIdentities ids = new ProducerIdentities(dataDir.resolve(FILE), maxNames);
        ids.load();
        return ids;
    }

    private void load() throws IOException {
        if (Files.exists(file)) {
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
            int position = 0;
            while (buf.limit() - position >= RECORD_HEADER) {
                int length = buf.getInt(position);
                if (length < 0 || length > MAX_NAME_BYTES || buf.limit() - position - RECORD_HEADER < length) {
                    break;
                }
                CRC32C crc = new CRC32C();
                crc.update(buf.duplicate().position(position + 8).limit(position + RECORD_HEADER + length));
                if ((int) crc.getValue() != buf.getInt(position + 4)) {
                    break;
                }
                long producerId = buf.getLong(position + 8);
                short epoch = buf.getShort(position + 16);
                byte[] name = new byte[length];
                buf.get(position + RECORD_HEADER, name);
                String n = new String(name, StandardCharsets.UTF_8);
                Identity was = byName.put(n, new Identity(producerId, epoch));
                if (was != null && was.producerId() != producerId) {
                    retired.put(was.producerId(), RETIRED);
                }
                position += RECORD_HEADER + length;
            }
            if (position < buf.limit()) {
                LOG.warn("{}: ignoring {} bytes after the last whole record (a write cut short by a crash)", file,
                    buf.limit() - position);
            }
        }
        while (byName.size() > maxNames) {
            Iterator<Map.Entry<String, Identity>> it = byName.entrySet().iterator();
            it.next();
            it.remove();
        }
        rewrite();
        publish();
    }

    /** Writes the live table compacted (temporary file, fsync, rename, directory fsync), then appends to it. */
    private void rewrite() throws IOException {
        if (channel != null) {
            channel.close();
        }
        DurableFiles.writeAtomically(file, ch -> {
            for (Map.Entry<String, Identity> e : byName.entrySet()) {
                DurableFiles.writeFully(ch, encode(e.getKey(), e.getValue()));
            }
        });
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        records = byName.size();
    }

    private static ByteBuffer encode(String name, Identity id) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(RECORD_HEADER + n.length);
        b.putInt(n.length).putInt(0).putLong(id.producerId()).putShort(id.epoch()).put(n);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 8, b.capacity() - 8);
        b.putInt(4, (int) crc.getValue());
        return b.flip();
    }

    private void publish() {
        Long2LongHashMap m = new Long2LongHashMap(Math.max(8, (byName.size() + retired.size()) * 2), 0.65f, -1L);
        retired.forEach(m::put);
        for (Identity id : byName.values()) {
            m.put(id.producerId(), id.epoch());
        }
        fenceBelow = m;
    }

    /**
     * The identity for {@code name}: a new producer id at epoch 0 the first time (or after the name was forgotten),
     * otherwise the same id at the next epoch block; durable before it returns.
     *
     * @throws IllegalArgumentException when the name is empty or longer than {@link #MAX_NAME_BYTES}
     */
    public synchronized Identity init(String name, IdSource ids) throws IOException {
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("a producer name is 1 to " + MAX_NAME_BYTES + " bytes: " + bytes);
        }
        Identity was = byName.get(name);
        Identity next;
        if (was == null) {
            next = new Identity(ids.next(), (short) 0);
        } else if (nextIncarnationEpoch(was.epoch()) < 0) {
            retired.put(was.producerId(), RETIRED);
            next = new Identity(ids.next(), (short) 0);
        } else {
            next = new Identity(was.producerId(), (short) nextIncarnationEpoch(was.epoch()));
        }
        DurableFiles.writeFully(channel, encode(name, next));
        channel.force(true);
        records++;
        byName.put(name, next);
        if (byName.size() > maxNames) {
            Iterator<Map.Entry<String, Identity>> it = byName.entrySet().iterator();
            Identity gone = it.next().getValue();
            it.remove();
            evictions++;
            LOG.info("forgot the least recently initialised producer name (id {}): {} names kept at most",
                gone.producerId(), maxNames);
        }
        if (records > 2L * byName.size() + 1000) {
            rewrite();
        }
        publish();
        return next;
    }

    /**
     * The lowest epoch a batch of {@code producerId} may have, or -1 when the id is not a named producer's: a batch
     * with a lower epoch comes from a fenced incarnation. No lock, no allocation.
     */
    public long currentEpoch(long producerId) {
        return fenceBelow.get(producerId);
    }

    public synchronized int size() {
        return byName.size();
    }

    public synchronized long evictions() {
        return evictions;
    }

    @Override
    public synchronized void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }
}
