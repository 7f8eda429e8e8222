package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.Records;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Produce request v3-v9: {transactional_id, acks, timeout_ms, topic_data[{name, partition_data[{index, records}]}]}.
 * Records are decoded as views of the request buffer (no copy) and encoded as holes (no copy), see
 * {@link WireWriter#writeRecords}.
 */
public final class ProduceRequest implements Message {
    /** One partition's records. */
    public static final class PartitionData {
        public int index;
        public Records records;
        public RawTaggedFields taggedFields;

        public PartitionData() {
        }

        public PartitionData(int index, Records records) {
            this.index = index;
            this.records = records;
        }
    }

    /** One topic's partitions. */
    public static final class TopicData {
        public String name;
        public final List<PartitionData> partitions = new ArrayList<>(4);
        public RawTaggedFields taggedFields;
        /** {@link #readInto}'s partitions, kept for the next request decoded into the same object; null until then. */
        private ArrayList<PartitionData> reusable;

        public TopicData() {
        }

        public TopicData(String name) {
            this.name = name;
        }
    }

    public String transactionalId;
    public short acks;
    public int timeoutMs;
    public final List<TopicData> topics = new ArrayList<>(2);
    public RawTaggedFields taggedFields;
    /** {@link #readInto}'s topics, kept for the next request decoded into this object; null until then. */
    private ArrayList<TopicData> reusable;

    /**
     * At most this many topics per request, and partitions per topic, are kept for reuse by {@link #readInto} (and
     * a list that held more is trimmed before the next request): a huge request is decoded, but its objects are not
     * kept for every later one.
     */
    static final int MAX_REUSED = 64;

    @Override
    public ApiKey apiKey() {
        return ApiKey.PRODUCE;
    }

    /** Total number of partitions in the request. */
    public int partitionCount() {
        int n = 0;
        for (TopicData t : topics) {
            n += t.partitions.size();
        }
        return n;
    }

    /**
     * Reads only up to {@code acks} and returns it: the transport must know whether a request expects an answer
     * before it decodes the rest (acks=0 gets none, even if the body turns out to be malformed).
     */
    public static short peekAcks(WireReader r, short version) {
        r.readNullableString(version >= 9);
        return r.readInt16();
    }

    public static ProduceRequest read(WireReader r, short version) {
        boolean flex = version >= 9;
        ProduceRequest m = new ProduceRequest();
        m.transactionalId = r.readNullableString(flex);
        m.acks = r.readInt16();
        m.timeoutMs = r.readInt32();
        int nt = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < nt; i++) {
            TopicData t = new TopicData();
            t.name = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 5);
            for (int j = 0; j < np; j++) {
                PartitionData p = new PartitionData();
                p.index = r.readInt32();
                p.records = r.readRecords(flex);
                p.taggedFields = r.readTaggedFieldsIf(flex);
                t.partitions.add(p);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
            m.topics.add(t);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    /**
     * {@link #read}, into {@code m} instead of a new request, reusing the topic and partition objects (and lists) a
     * previous readInto of {@code m} created, so a request like the previous one allocates only its records views
     * ({@link MemoryRecords}, new for every partition and request: nothing of one request's records is shared with
     * the next) and any tagged fields; a topic name equal to the previous request's at the same place is that same
     * String. Every field of {@code m} and of its topics and partitions is set from {@code r}: nothing of the
     * previous request survives but those objects, and its name strings when equal.
     *
     * <p>The caller owns {@code m} and must not let any of its objects (the request, its lists, its TopicData and
     * PartitionData) outlive the use of one request: the next readInto overwrites them. Call
     * {@link #forgetRecords} once done, so that {@code m} does not keep the request's buffer reachable.
     */
    public static ProduceRequest readInto(WireReader r, short version, ProduceRequest m) {
        boolean flex = version >= 9;
        m.transactionalId = r.readNullableString(flex, m.transactionalId);
        m.acks = r.readInt16();
        m.timeoutMs = r.readInt32();
        m.taggedFields = null;
        int nt = r.readNonNullArrayLength(flex, 3);
        clearForReuse(m.topics);
        if (m.reusable == null) {
            m.reusable = new ArrayList<>(2);
        }
        for (int i = 0; i < nt; i++) {
            TopicData t = reused(m.reusable, i, TopicData::new);
            m.topics.add(t); // listed before it is filled: forgetRecords reaches it even if the rest is malformed
            t.taggedFields = null;
            t.name = r.readString(flex, t.name);
            int np = r.readNonNullArrayLength(flex, 5);
            clearForReuse(t.partitions);
            if (t.reusable == null) {
                t.reusable = new ArrayList<>(4);
            }
            for (int j = 0; j < np; j++) {
                PartitionData p = reused(t.reusable, j, PartitionData::new);
                t.partitions.add(p);
                p.taggedFields = null;
                p.index = r.readInt32();
                p.records = r.readRecords(flex);
                p.taggedFields = r.readTaggedFieldsIf(flex);
            }
            t.taggedFields = r.readTaggedFieldsIf(flex);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    /**
     * Drops this request's references to its records and tagged fields (each partition's), keeping the objects for
     * the next {@link #readInto}: a reused request then holds no view of a request buffer that is being released.
     */
    public void forgetRecords() {
        for (int t = 0; t < topics.size(); t++) {
            List<PartitionData> partitions = topics.get(t).partitions;
            for (int i = 0; i < partitions.size(); i++) {
                PartitionData p = partitions.get(i);
                p.records = null;
                p.taggedFields = null;
            }
        }
    }

    /** The {@code i}-th reusable element, created (and kept, below {@link #MAX_REUSED}) when there is none yet. */
    private static <T> T reused(ArrayList<T> reusable, int i, java.util.function.Supplier<T> create) {
        if (i < reusable.size()) {
            return reusable.get(i);
        }
        T created = create.get();
        if (reusable.size() < MAX_REUSED) {
            reusable.add(created);
        }
        return created;
    }

    /** Empties a list for the next request, dropping its array if a huge request grew it (above MAX_REUSED). */
    private static <T> void clearForReuse(List<T> list) {
        boolean huge = list.size() > MAX_REUSED;
        list.clear();
        if (huge && list instanceof ArrayList<T> array) {
            array.trimToSize();
        }
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 9;
        w.writeNullableString(transactionalId, flex);
        w.writeInt16(acks).writeInt32(timeoutMs);
        w.writeArrayLength(topics.size(), flex);
        for (TopicData t : topics) {
            w.writeString(t.name, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (PartitionData p : t.partitions) {
                w.writeInt32(p.index);
                w.writeRecords(p.records, flex);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
