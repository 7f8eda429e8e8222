package io.idemlog.common.protocol.message;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.RawTaggedFields;
import io.idemlog.common.protocol.WireReader;
import io.idemlog.common.protocol.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * DescribeLogDirs response v0-v4 (flexible from v2; a top-level error code from v3; each directory's total and
 * usable bytes from v4): per log directory its partitions with their sizes.
 */
public final class DescribeLogDirsResponse implements Message {
    /** One partition in a directory. */
    public static final class Partition {
        public int partitionIndex;
        public long partitionSize;
        public long offsetLag;
        public boolean isFutureKey;
        public RawTaggedFields taggedFields;
    }

    /** One topic in a directory. */
    public static final class Topic {
        public String name;
        public final List<Partition> partitions = new ArrayList<>();
        public RawTaggedFields taggedFields;
    }

    /** One log directory. */
    public static final class Result {
        public short errorCode;
        public String logDir;
        public final List<Topic> topics = new ArrayList<>();
        public long totalBytes = -1L;
        public long usableBytes = -1L;
        public RawTaggedFields taggedFields;
    }

    public int throttleTimeMs;
    public short errorCode;
    public final List<Result> results = new ArrayList<>();
    public RawTaggedFields taggedFields;

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_LOG_DIRS;
    }

    public static DescribeLogDirsResponse read(WireReader r, short version) {
        boolean flex = version >= 2;
        DescribeLogDirsResponse m = new DescribeLogDirsResponse();
        m.throttleTimeMs = r.readInt32();
        if (version >= 3) {
            m.errorCode = r.readInt16();
        }
        int nr = r.readNonNullArrayLength(flex, flex ? 5 : 8);
        for (int i = 0; i < nr; i++) {
            Result d = new Result();
            d.errorCode = r.readInt16();
            d.logDir = r.readString(flex);
            int nt = r.readNonNullArrayLength(flex, flex ? 3 : 6);
            for (int j = 0; j < nt; j++) {
                Topic t = new Topic();
                t.name = r.readString(flex);
                int np = r.readNonNullArrayLength(flex, flex ? 22 : 21);
                for (int k = 0; k < np; k++) {
                    Partition p = new Partition();
                    p.partitionIndex = r.readInt32();
                    p.partitionSize = r.readInt64();
                    p.offsetLag = r.readInt64();
                    p.isFutureKey = r.readBoolean();
                    p.taggedFields = r.readTaggedFieldsIf(flex);
                    t.partitions.add(p);
                }
                t.taggedFields = r.readTaggedFieldsIf(flex);
                d.topics.add(t);
            }
            if (version >= 4) {
                d.totalBytes = r.readInt64();
                d.usableBytes = r.readInt64();
            }
            d.taggedFields = r.readTaggedFieldsIf(flex);
            m.results.add(d);
        }
        m.taggedFields = r.readTaggedFieldsIf(flex);
        return m;
    }

    @Override
    public void write(WireWriter w, short version) {
        boolean flex = version >= 2;
        w.writeInt32(throttleTimeMs);
        if (version >= 3) {
            w.writeInt16(errorCode);
        }
        w.writeArrayLength(results.size(), flex);
        for (Result d : results) {
            w.writeInt16(d.errorCode).writeString(d.logDir, flex);
            w.writeArrayLength(d.topics.size(), flex);
            for (Topic t : d.topics) {
                w.writeString(t.name, flex);
                w.writeArrayLength(t.partitions.size(), flex);
                for (Partition p : t.partitions) {
                    w.writeInt32(p.partitionIndex).writeInt64(p.partitionSize).writeInt64(p.offsetLag)
                        .writeBoolean(p.isFutureKey);
                    w.writeTaggedFieldsIf(flex, p.taggedFields);
                }
                w.writeTaggedFieldsIf(flex, t.taggedFields);
            }
            if (version >= 4) {
                w.writeInt64(d.totalBytes).writeInt64(d.usableBytes);
            }
            w.writeTaggedFieldsIf(flex, d.taggedFields);
        }
        w.writeTaggedFieldsIf(flex, taggedFields);
    }
}
