package io.idemlog.server.group;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The offsets journal's records: a growing buffer of framed records ({@code int32 length, int32 crc32c(payload),
 * payload}; payloads as {@link FileOffsetJournal} documents them) and their deterministic apply. The one encoding of
 * committed offsets: {@link FileOffsetJournal} writes these frames to its log file, the cluster's replicated journal
 * makes one Raft entry of them, and both replay them with {@link #applyAll}.
 * Not thread-safe.
 */
public final class OffsetRecords {
    static final byte PUT = 1;
    static final byte DELETE = 2;
    static final byte GROUP_PUT = 3;
    static final byte GROUP_DELETE = 4;
    /** Largest payload a frame may declare (a put with a maximal metadata string is far smaller). */
    static final int MAX_RECORD = 1 << 20;

    private ByteBuffer buf;
    private int count;

    public OffsetRecords(int initialBytes) {
        buf = ByteBuffer.allocate(initialBytes);
    }

    /** Frames appended since the last {@link #clear()}. */
    public int count() {
        return count;
    }

    /** Bytes appended since the last {@link #clear()}. */
    public int bytes() {
        return buf.position();
    }

    public boolean isEmpty() {
        return buf.position() == 0;
    }

    /** The frames as a buffer to read from (position 0, limit = {@link #bytes()}); valid until the next append. */
    ByteBuffer readable() {
        return buf.duplicate().flip();
    }

    /** A copy of the frames. */
    public byte[] toByteArray() {
        byte[] out = new byte[buf.position()];
        System.arraycopy(buf.array(), 0, out, 0, out.length);
        return out;
    }

    public void clear() {
        buf.clear();
        count = 0;
    }

    public void put(String group, TopicPartition tp, OffsetValue v) {
        byte[] g = utf8(group);
        byte[] t = utf8(tp.topic());
        byte[] m = utf8(v.metadata());
        int len = 1 + 4 + g.length + 4 + t.length + 4 + 8 + 4 + 4 + m.length + 8 + 8;
        ByteBuffer b = room(8 + len);
        int start = b.position();
        b.putInt(len).putInt(0).put(PUT).putInt(g.length).put(g).putInt(t.length).put(t).putInt(tp.partition())
            .putLong(v.offset()).putInt(v.leaderEpoch()).putInt(m.length).put(m).putLong(v.commitTimestamp())
            .putLong(v.expireTimestamp());
        seal(b, start, len);
    }

    public void delete(String group, TopicPartition tp) {
        byte[] g = utf8(group);
        byte[] t = utf8(tp.topic());
        int len = 1 + 4 + g.length + 4 + t.length + 4;
        ByteBuffer b = room(8 + len);
        int start = b.position();
        b.putInt(len).putInt(0).put(DELETE).putInt(g.length).put(g).putInt(t.length).put(t).putInt(tp.partition());
        seal(b, start, len);
    }

    public void putGroup(String group, OffsetJournal.GroupRecord r) {
        byte[] g = utf8(group);
        byte[] t = utf8(r.protocolType());
        int len = 1 + 4 + g.length + 4 + t.length + 8;
        ByteBuffer b = room(8 + len);
        int start = b.position();
        b.putInt(len).putInt(0).put(GROUP_PUT).putInt(g.length).put(g).putInt(t.length).put(t)
            .putLong(r.emptySinceMs());
        seal(b, start, len);
    }

    public void deleteGroup(String group) {
        byte[] g = utf8(group);
        int len = 1 + 4 + g.length;
        ByteBuffer b = room(8 + len);
        int start = b.position();
        b.putInt(len).putInt(0).put(GROUP_DELETE).putInt(g.length).put(g);
        seal(b, start, len);
    }

    /** Appends a put for every live offset and group record: a snapshot of the state as frames. */
    public void putAll(Map<String, Map<TopicPartition, OffsetValue>> offsets,
                       Map<String, OffsetJournal.GroupRecord> groups) {
        for (Map.Entry<String, Map<TopicPartition, OffsetValue>> g : offsets.entrySet()) {
            for (Map.Entry<TopicPartition, OffsetValue> e : g.getValue().entrySet()) {
                put(g.getKey(), e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, OffsetJournal.GroupRecord> g : groups.entrySet()) {
            putGroup(g.getKey(), g.getValue());
        }
    }

    private ByteBuffer room(int bytes) {
        if (buf.remaining() < bytes) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + bytes));
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        count++;
        return buf;
    }

    private static void seal(ByteBuffer b, int start, int len) {
        CRC32C crc = new CRC32C();
        crc.update(b.array(), start + 8, len);
        b.putInt(start + 4, (int) crc.getValue());
    }

    /**
     * Whether a whole, intact frame starts at {@code b}'s position (length in range, all bytes there, checksum
     * right). Does not move the position.
     */
    static boolean intactFrameAt(ByteBuffer b) {
        int start = b.position();
        if (b.remaining() < 8) {
            return false;
        }
        int len = b.getInt(start);
        if (len <= 0 || len > MAX_RECORD || b.remaining() < 8 + len) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(start + 8).limit(start + 8 + len));
        return (int) crc.getValue() == b.getInt(start + 4);
    }

    /**
     * Applies every frame of {@code framed} (position to limit) in order.
     *
     * @return the number of frames applied
     * @throws IllegalArgumentException at the first frame that is torn, damaged or undecodable (the state then holds
     *                                  the frames before it)
     */
    public static int applyAll(ByteBuffer framed, Map<String, Map<TopicPartition, OffsetValue>> state,
                               Map<String, OffsetJournal.GroupRecord> groups) {
        ByteBuffer b = framed.duplicate();
        int n = 0;
        while (b.hasRemaining()) {
            int at = b.position() - framed.position();
            if (!intactFrameAt(b)) {
                throw new IllegalArgumentException("offset record " + n + " at byte " + at + " is torn or damaged");
            }
            int len = b.getInt(b.position());
            try {
                applyPayload(b.slice(b.position() + 8, len), state, groups);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("offset record " + n + " at byte " + at + " does not decode: " + e,
                    e);
            }
            b.position(b.position() + 8 + len);
            n++;
        }
        return n;
    }

    /** The deterministic apply of one payload: a put replaces, a delete removes. */
    static void applyPayload(ByteBuffer p, Map<String, Map<TopicPartition, OffsetValue>> state,
                             Map<String, OffsetJournal.GroupRecord> groups) {
        byte type = p.get();
        String group = readString(p);
        if (type == GROUP_PUT) {
            groups.put(group, new OffsetJournal.GroupRecord(readString(p), p.getLong()));
            return;
        }
        if (type == GROUP_DELETE) {
            groups.remove(group);
            return;
        }
        if (type != PUT && type != DELETE) {
            throw new IllegalArgumentException("unknown offset record type " + type);
        }
        TopicPartition tp = new TopicPartition(readString(p), p.getInt());
        if (type == PUT) {
            OffsetValue v = new OffsetValue(p.getLong(), p.getInt(), readString(p), p.getLong(), p.getLong());
            state.computeIfAbsent(group, g -> new TreeMap<>()).put(tp, v);
        } else {
            Map<TopicPartition, OffsetValue> offsets = state.get(group);
            if (offsets != null) {
                offsets.remove(tp);
                if (offsets.isEmpty()) {
                    state.remove(group);
                }
            }
        }
    }

    private static String readString(ByteBuffer p) {
        int len = p.getInt();
        if (len < 0 || len > p.remaining()) {
            throw new IllegalArgumentException("string length " + len + " with " + p.remaining() + " bytes left");
        }
        byte[] bytes = new byte[len];
        p.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
