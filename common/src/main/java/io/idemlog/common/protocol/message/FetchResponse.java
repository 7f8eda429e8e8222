package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.Records;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * Fetch response v4-v12 (v12 flexible). Records are whole stored batches; on the server they are file regions
 * that the transport sends zero-copy (see {@link WireWriter#writeRecords}).
 */
public final class FetchResponse implements Message {
    /** A transaction aborted in the fetched range (never produced by idemlog: no transactions). */
    public static final class AbortedTransaction {
        public long producerId;
        public long firstOffset;
        public RawTaggedFields taggedFields;
    }

    /** One partition's data. */
    public static final class Partition {
        public int partitionIndex;
        public short errorCode;
        public long highWatermark = -1L;
        public long lastStableOffset = -1L;
        public long logStartOffset = -1L;
        /** Null is encoded as a null array (what the broker sends when not reading committed). */
        public List<AbortedTransaction> abortedTransactions;
        public int preferredReadReplica = -1;
        public Records records;
        public RawTaggedFields taggedFields;
    }

    /** One topic's partitions. */
    public static final class Topic {
        public String topic;
        public final List<Partition> partitions = new ArrayList<>();
        public RawTaggedFields taggedFields;

        public Topic() {
        }

        public Topic(String topic) {
            this.topic = topic;
        }
    }

    public int throttleTimeMs;
    public short errorCode;
    public int sessionId;
    public final List<Topic> topics = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.FETCH;
    }

    public static FetchResponse read(WireReader r, short version) {
        boolean flex = version >= 12;
        FetchResponse m = new FetchResponse();
        m.throttleTimeMs = r.readInt32();
        if (version >= 7) {
            m.errorCode = r.readInt16();
            m.sessionId = r.readInt32();
        }
        int nt = r.readNonNullArrayLength(flex, 3);
        for (int i = 0; i < nt; i++) {
            Topic t = new Topic();
            t.topic = r.readString(flex);
            int np = r.readNonNullArrayLength(flex, 30);
            for (int j = 0; j < np; j++) {
                Partition p = new Partition();
                p.partitionIndex = r.readInt32();
                p.errorCode = r.readInt16();
                p.highWatermark = r.readInt64();
                p.lastStableOffset = r.readInt64();
                if (version >= 5) {
                    p.logStartOffset = r.readInt64();
                }
                int na = r.readArrayLength(flex, 16);
                if (na >= 0) {
                    p.abortedTransactions = new ArrayList<>(na);
                    for (int k = 0; k < na; k++) {
                        AbortedTransaction a = new AbortedTransaction();
                        a.producerId = r.readInt64();
                        a.firstOffset = r.readInt64();
                        a.taggedFields = r.readTaggedFieldsIf(flex);
                        p.abortedTransactions.add(a);
                    }
                }
                if (version >= 11) {
                    p.preferredReadReplica = r.readInt32();
                }
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

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 12;
        w.writeInt32(throttleTimeMs);
        if (version >= 7) {
            w.writeInt16(errorCode).writeInt32(sessionId);
        }
        w.writeArrayLength(topics.size(), flex);
        for (Topic t : topics) {
            w.writeString(t.topic, flex);
            w.writeArrayLength(t.partitions.size(), flex);
            for (Partition p : t.partitions) {
                w.writeInt32(p.partitionIndex).writeInt16(p.errorCode).writeInt64(p.highWatermark)
                    .writeInt64(p.lastStableOffset);
                if (version >= 5) {
                    w.writeInt64(p.logStartOffset);
                }
                if (p.abortedTransactions == null) {
                    w.writeArrayLength(-1, flex);
                } else {
                    w.writeArrayLength(p.abortedTransactions.size(), flex);
                    for (AbortedTransaction a : p.abortedTransactions) {
                        w.writeInt64(a.producerId).writeInt64(a.firstOffset);
                        w.writeTaggedFieldsIf(flex, a.taggedFields);
                    }
                }
                if (version >= 11) {
                    w.writeInt32(p.preferredReadReplica);
                }
                w.writeRecords(p.records, flex);
                w.writeTaggedFieldsIf(flex, p.taggedFields);
            }
            w.writeTaggedFieldsIf(flex, t.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
